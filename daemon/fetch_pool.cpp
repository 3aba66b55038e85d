#include "daemon/fetch_pool.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace repwatch::daemon {

struct FetchPool::State {
  int max_threads = 1;
  int event_fd = -1;
  mutable std::mutex mu;
  std::condition_variable cv;
  struct Queued {
    FetchPool::Job job;
    FetchPool::Streaming streaming;
  };
  std::deque<Queued> queue;
  std::vector<Done> done;
  std::vector<std::thread> threads;
  int idle = 0;
  int outstanding = 0;
  bool stop = false;
  bool abandoned = false;

  ~State() {
    if (event_fd >= 0) close(event_fd);
  }

  void signal_done() {
    uint64_t one = 1;
    while (::write(event_fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }
};

namespace {

void worker(std::shared_ptr<FetchPool::State> s) {
  for (;;) {
    FetchPool::Job job;
    FetchPool::Streaming streaming;
    {
      std::unique_lock lock(s->mu);
      ++s->idle;
      s->cv.wait(lock, [&] { return s->stop || !s->queue.empty(); });
      --s->idle;
      if (s->queue.empty()) return;  // stop
      job = std::move(s->queue.front().job);
      streaming = std::move(s->queue.front().streaming);
      s->queue.pop_front();
    }
    auto start = std::chrono::steady_clock::now();
    bool handed_over = false;
    auto hand_over = [&](Fetched&& fetched) {
      if (handed_over) return;
      handed_over = true;
      FetchPool::Done done;
      done.source_id = job.source_id;
      done.generation = job.generation;
      done.fetched = std::move(fetched);
      done.took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      {
        std::lock_guard lock(s->mu);
        s->done.push_back(std::move(done));
      }
      s->signal_done();
    };
    Fetched failed;
    try {
      if (streaming)
        streaming(hand_over);
      else
        hand_over(job.work());
    } catch (const std::exception& e) {
      if (handed_over)
        spdlog::error("source {}: fetch failed after its first part: {}", job.source_id, e.what());
      failed.error =
          SourceError(SourceError::Kind::kTransient, job.source_id + ": fetch failed: " + e.what());
    }
    if (!handed_over) {
      failed.source_id = job.source_id;
      if (!failed.error)
        failed.error = SourceError(SourceError::Kind::kTransient,
                                   job.source_id + ": the fetch ended without a result");
      hand_over(std::move(failed));
    }
  }
}

}  // namespace

FetchPool::FetchPool(int max_threads) : state_(std::make_shared<State>()) {
  state_->max_threads = std::max(1, max_threads);
  state_->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (state_->event_fd < 0) throw Error(std::string("eventfd: ") + std::strerror(errno));
}

FetchPool::~FetchPool() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
    state_->queue.clear();
    threads = std::move(state_->threads);
  }
  state_->cv.notify_all();
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
}

void FetchPool::submit(Job job) { submit(std::move(job), nullptr); }

void FetchPool::submit(Job job, Streaming streaming) {
  {
    std::lock_guard lock(state_->mu);
    state_->queue.push_back({std::move(job), std::move(streaming)});
    ++state_->outstanding;
    if (state_->idle < static_cast<int>(state_->queue.size()) &&
        static_cast<int>(state_->threads.size()) < state_->max_threads) {
      state_->threads.emplace_back(worker, state_);
    }
  }
  state_->cv.notify_one();
}

int FetchPool::fd() const { return state_->event_fd; }

std::vector<FetchPool::Done> FetchPool::take_done() {
  uint64_t counter = 0;
  while (::read(state_->event_fd, &counter, sizeof counter) < 0 && errno == EINTR) {
  }
  std::lock_guard lock(state_->mu);
  std::vector<Done> out = std::move(state_->done);
  state_->done.clear();
  state_->outstanding -= static_cast<int>(out.size());
  return out;
}

int FetchPool::outstanding() const {
  std::lock_guard lock(state_->mu);
  return state_->outstanding;
}

std::vector<std::string> FetchPool::cancel_queued() {
  std::lock_guard lock(state_->mu);
  std::vector<std::string> ids;
  for (auto& q : state_->queue) ids.push_back(q.job.source_id);
  state_->outstanding -= static_cast<int>(state_->queue.size());
  state_->queue.clear();
  return ids;
}

void FetchPool::abandon() {
  std::lock_guard lock(state_->mu);
  state_->stop = true;
  state_->abandoned = true;
  state_->queue.clear();
  for (auto& t : state_->threads) {
    if (t.joinable()) t.detach();
  }
  state_->threads.clear();
  state_->cv.notify_all();
}

int FetchPool::threads() const {
  std::lock_guard lock(state_->mu);
  return static_cast<int>(state_->threads.size());
}

}  // namespace repwatch::daemon
