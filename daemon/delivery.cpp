#include "daemon/delivery.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>

#include "core/error.h"
#include "core/time.h"

namespace repwatch::daemon {

namespace {

constexpr std::chrono::seconds kRetryGap{5};    // after a failed round, or one that did nothing
constexpr std::chrono::hours kLongestSleep{1};  // picks up what other processes queued

bool did_something(const alerts::SendStats& s) {
  return s.sent + s.retried + s.failed + s.deferred + s.held + s.digests + s.waiting +
             s.interrupted >
         0;
}

}  // namespace

DeliveryThread::DeliveryThread(DeliveryJob job, std::chrono::milliseconds round_budget)
    : round_budget_(round_budget),
      job_(std::move(job)),
      thread_([this](std::stop_token stop) { run(stop); }) {}

DeliveryThread::~DeliveryThread() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void DeliveryThread::nudge() {
  {
    std::lock_guard lock(mu_);
    nudged_ = true;
  }
  wake_.notify_all();
}

void DeliveryThread::reconfigure(DeliveryJob job) {
  {
    std::lock_guard lock(mu_);
    job_ = std::move(job);
    nudged_ = true;
  }
  wake_.notify_all();
}

void DeliveryThread::finish_by(Clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    finish_by_ = finishing_ ? std::min(finish_by_, deadline) : deadline;
    finishing_ = true;
  }
  wake_.notify_all();
}

bool DeliveryThread::wait_until(Clock::time_point until) {
  std::unique_lock lock(mu_);
  return ended_cv_.wait_until(lock, until, [this] { return ended_; });
}

void DeliveryThread::finish(Clock::time_point deadline) {
  if (!thread_.joinable()) return;
  finish_by(deadline);
  Clock::time_point by;
  {
    std::lock_guard lock(mu_);
    by = finish_by_;
  }
  wait_until(by);
  thread_.request_stop();  // aborts a transfer still in flight at the deadline
  thread_.join();
}

void DeliveryThread::run(std::stop_token stop) {
  constexpr Clock::time_point kNever = Clock::time_point::max();
  std::unique_ptr<db::Database> db;
  Clock::time_point wake_at = kNever;  // besides nudges
  for (;;) {
    DeliveryJob job;
    bool finishing = false;
    Clock::time_point finish_deadline;
    {
      std::unique_lock lock(mu_);
      auto ready = [&] { return nudged_ || finishing_ || Clock::now() >= wake_at; };
      if (wake_at != kNever)
        wake_.wait_until(lock, stop, wake_at, ready);
      else
        wake_.wait(lock, stop, ready);
      if (stop.stop_requested()) break;
      nudged_ = false;
      job = job_;
      finishing = finishing_;
      finish_deadline = finish_by_;
    }
    if (!job.deliver) {
      if (finishing) break;
      wake_at = kNever;
      continue;
    }
    if (!db || db->path() != job.database) {
      try {
        db.reset();
        db = std::make_unique<db::Database>(db::Database::open(job.database));
      } catch (const std::exception& e) {
        spdlog::error("alerts: cannot open the database {} to deliver alerts: {}",
                      job.database.string(), e.what());
        if (finishing) break;
        wake_at = Clock::now() + kRetryGap;
        continue;
      }
    }

    alerts::Round round;
    round.deadline = Clock::now() + round_budget_;
    if (finishing) round.deadline = std::min(round.deadline, finish_deadline);
    round.stop = stop;
    alerts::SendStats stats;
    bool ok = true;
    try {
      stats = job.deliver(*db, now_seconds(), round);
    } catch (const DbError& e) {
      ok = false;
      if ((e.code() & 0xff) == SQLITE_BUSY)  // a long store on the main connection
        spdlog::warn("alerts: the database is busy; delivery resumes in {}s: {}", kRetryGap.count(),
                     e.what());
      else
        spdlog::error("alerts: delivery failed: {}", e.what());
    } catch (const std::exception& e) {
      ok = false;
      spdlog::error("alerts: delivery failed: {}", e.what());
    }
    if (stop.stop_requested()) break;

    // When to run the next round.
    const auto now = Clock::now();
    std::optional<int64_t> next;
    try {
      next = job.next_attempt ? job.next_attempt(*db, now_seconds()) : std::nullopt;
    } catch (const std::exception& e) {
      ok = false;
      spdlog::error("alerts: cannot read the next delivery time: {}", e.what());
    }
    if (!ok) {
      wake_at = now + kRetryGap;
    } else if (stats.more) {
      wake_at = now;
    } else if (next) {
      const int64_t wait = std::max<int64_t>(0, *next - now_seconds());
      wake_at = now + std::chrono::seconds(wait);
      // Something is due that this round could not move (a digest held by quiet hours):
      // look again later rather than at once.
      if (wait == 0 && !did_something(stats)) wake_at = now + kRetryGap;
    } else {
      wake_at = kNever;
    }
    if (finishing && (!ok || wake_at > now || now >= finish_deadline)) break;
    wake_at = std::min(wake_at, now + kLongestSleep);
    sqlite3_db_release_memory(db->handle());
  }
  {
    std::lock_guard lock(mu_);
    ended_ = true;
  }
  ended_cv_.notify_all();
}

}  // namespace repwatch::daemon
