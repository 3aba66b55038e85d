// repwatch/alerts/service.h - alerts as the daemon uses them: one object per loaded config.
//
//   auto alerts = std::make_shared<alerts::AlertService>(
//       alerts::load_alerts_config(config, analyzer.touchpoints()));   // throws ConfigError
//   // daemon::AlertsRuntime (daemon/service.h):
//   rt.hook = alerts->hook();   // uses StoredEvent::db, which store_poll() sets
//   rt.poll_hook = alerts->poll_hook();   // source_health, on PollEvent::db
//   rt.deliver = [alerts](const db::Database& db, int64_t now, const alerts::Round& round) {
//     return alerts->deliver(db, now, round);
//   };
//   rt.pending = [alerts](const db::Database& db) { return alerts->pending(db); };
//   rt.next_attempt = [alerts](const db::Database& db, int64_t now) {
//     return alerts->next_attempt(db, now);
//   };
//   setup.negative = alerts::negative_rule(alerts->config());
//
// deliver() evaluates the periodic rules (no_reply, touchpoint_average) at most every
// `periodic_interval` and then sends what is due (sender.h). Each connection has its engine
// and sender, used by one thread at a time; different connections may be used from different
// threads at once (the daemon queues alerts on its main thread and delivers them on its
// delivery thread, daemon/delivery.h). A new config (SIGHUP) is a new AlertService; the outbox
// in the database carries over untouched.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "alerts/engine.h"
#include "alerts/rules.h"
#include "alerts/sender.h"
#include "db/events.h"
#include "db/sqlite.h"

namespace repwatch::alerts {

class AlertService {
 public:
  explicit AlertService(AlertsConfig config, int64_t periodic_interval_seconds = 300);
  ~AlertService();
  AlertService(const AlertService&) = delete;
  AlertService& operator=(const AlertService&) = delete;

  const AlertsConfig& config() const { return *config_; }

  // The ReviewHook: queues alerts on StoredEvent::db (throws Error when it is null).
  db::ReviewHook hook();
  // The same, bound to one connection (for callers of store_poll that do not set db).
  db::ReviewHook hook(const db::Database& db);
  // The PollHook (source_health alerts) on PollEvent::db.
  db::PollHook poll_hook();

  // Periodic rules when due, then the due deliveries (within the round's bounds).
  SendStats deliver(const db::Database& db, int64_t now, const Round& round = {});
  // Deliveries waiting (pending, including those waiting for a digest).
  std::optional<int> pending(const db::Database& db) const;
  // When deliver() next has something to do: the earliest pending delivery, or the next
  // periodic evaluation when periodic rules exist. nullopt: nothing scheduled.
  std::optional<int64_t> next_attempt(const db::Database& db, int64_t now) const;

 private:
  AlertEngine& engine(const db::Database& db);
  Sender& sender(const db::Database& db);

  std::shared_ptr<const AlertsConfig> config_;
  int64_t periodic_interval_;
  bool has_periodic_ = false;
  mutable std::mutex mu_;  // guards the members below (not the engines and senders themselves)
  std::optional<int64_t> last_periodic_;
  std::map<const db::Database*, std::unique_ptr<AlertEngine>> engines_;
  std::map<const db::Database*, std::unique_ptr<Sender>> senders_;
};

}  // namespace repwatch::alerts
