// repwatch/daemon/delivery.h - alert delivery on a thread of its own, so that polling, storing
// and signals never wait on a mail relay or a webhook.
//
//   DeliveryThread delivery({alerts.deliver, alerts.next_attempt, config.database});
//   delivery.nudge();                           // a poll queued alerts: a round soon
//   delivery.reconfigure({...});                // SIGHUP: the next round uses the new config
//   delivery.finish(Clock::now() + 3s);         // SIGTERM: send what is due, abort at 3 s
//   delivery.finish_by(t); delivery.wait_until(t2);  // the same, watching signals meanwhile
//
// The thread opens its own connection to the database (after the main thread has migrated
// it) and runs rounds: AlertsRuntime::deliver with a Round bounded by `round_budget` (no
// delivery starts after it; the next round follows at once if more is due) and a stop token
// that aborts the transfer in flight. Between rounds it sleeps until the next delivery is due
// (AlertsRuntime::next_attempt), a nudge, a reconfigure or finish(), and at most an hour, so
// that deliveries another process queued or reset (`repwatch alerts retry --all-failed`) are
// picked up. A round that fails (the database is busy) is tried again after 5 s. Each delivery
// is committed by the Sender right after the server accepts it, on this thread's connection.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "alerts/sender.h"
#include "db/sqlite.h"

namespace repwatch::daemon {

// Sends what is due in the outbox, within the round's bounds.
using DeliverFn = std::function<alerts::SendStats(const db::Database& db, int64_t now,
                                                  const alerts::Round& round)>;
// When the next delivery attempt is due (retries, digests, periodic rules); nullopt: none.
using NextAttemptFn = std::function<std::optional<int64_t>(const db::Database& db, int64_t now)>;

struct DeliveryJob {
  DeliverFn deliver;
  NextAttemptFn next_attempt;
  std::filesystem::path database;
};

class DeliveryThread {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kRoundBudget{60};

  // Starts the thread; its first round runs at once (what was pending at start).
  explicit DeliveryThread(DeliveryJob job, std::chrono::milliseconds round_budget = kRoundBudget);
  // Stops at once: a transfer in flight is aborted (that delivery goes out next time).
  ~DeliveryThread();
  DeliveryThread(const DeliveryThread&) = delete;
  DeliveryThread& operator=(const DeliveryThread&) = delete;

  // Alerts were queued: run a round as soon as the one in progress (if any) ends.
  void nudge();
  // A new config: used from the next round on (which runs soon).
  void reconfigure(DeliveryJob job);
  // Sends what is due now and returns once nothing more is, or at `deadline`, when the
  // transfer still in flight is aborted and no other starts. The thread has ended on return.
  void finish(Clock::time_point deadline);
  // finish() in steps, for a caller that keeps watching signals meanwhile: finish_by() asks
  // for the same and returns at once (called again, an earlier deadline replaces a later
  // one); wait_until() returns true once the thread has nothing more to send (then finish()
  // returns at once), false at `until`.
  void finish_by(Clock::time_point deadline);
  bool wait_until(Clock::time_point until);

 private:
  void run(std::stop_token stop);

  const std::chrono::milliseconds round_budget_;
  std::mutex mu_;
  std::condition_variable_any wake_;
  std::condition_variable ended_cv_;
  DeliveryJob job_;              // guarded by mu_
  bool nudged_ = true;           // guarded by mu_
  bool finishing_ = false;       // guarded by mu_
  Clock::time_point finish_by_;  // guarded by mu_
  bool ended_ = false;           // guarded by mu_
  std::jthread thread_;          // last: starts once the members above exist
};

}  // namespace repwatch::daemon
