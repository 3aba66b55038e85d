#include "alerts/service.h"

#include "core/error.h"
#include "db/outbox_store.h"

namespace repwatch::alerts {

AlertService::AlertService(AlertsConfig config, int64_t periodic_interval_seconds)
    : config_(std::make_shared<const AlertsConfig>(std::move(config))),
      periodic_interval_(periodic_interval_seconds) {
  for (const Rule& r : config_->rules)
    has_periodic_ |= r.type == RuleType::kNoReply || r.type == RuleType::kTouchpointAverage;
}

AlertService::~AlertService() = default;

AlertEngine& AlertService::engine(const db::Database& db) {
  std::lock_guard lock(mu_);
  auto& e = engines_[&db];
  if (!e) e = std::make_unique<AlertEngine>(config_, db);
  return *e;
}

Sender& AlertService::sender(const db::Database& db) {
  std::lock_guard lock(mu_);
  auto& s = senders_[&db];
  if (!s) s = std::make_unique<Sender>(*config_, db);
  return *s;
}

db::ReviewHook AlertService::hook() {
  return [this](const db::StoredEvent& e) {
    if (!e.db)
      throw Error("alerts: StoredEvent::db is not set; store_poll() must pass its connection");
    return engine(*e.db).on_event(e);
  };
}

db::ReviewHook AlertService::hook(const db::Database& db) {
  return [this, &db](const db::StoredEvent& e) {
    const db::Database& target = e.db ? *e.db : db;
    return engine(target).on_event(e);
  };
}

db::PollHook AlertService::poll_hook() {
  return [this](const db::PollEvent& e) {
    if (!e.db) throw Error("alerts: PollEvent::db is not set");
    return engine(*e.db).on_poll(e);
  };
}

SendStats AlertService::deliver(const db::Database& db, int64_t now, const Round& round) {
  bool periodic = false;
  if (has_periodic_ && config_->enabled) {
    std::lock_guard lock(mu_);
    periodic =
        !last_periodic_ || now - *last_periodic_ >= periodic_interval_ || now < *last_periodic_;
  }
  if (periodic) {
    engine(db).evaluate_periodic(now);
    std::lock_guard lock(mu_);
    last_periodic_ = now;
  }
  return sender(db).deliver_due(now, round);
}

std::optional<int> AlertService::pending(const db::Database& db) const {
  return db::OutboxStore(db).counts().pending;
}

std::optional<int64_t> AlertService::next_attempt(const db::Database& db, int64_t now) const {
  std::optional<int64_t> next = db::OutboxStore(db).next_due();
  if (has_periodic_ && config_->enabled) {
    std::lock_guard lock(mu_);
    int64_t periodic = last_periodic_ ? *last_periodic_ + periodic_interval_ : now;
    if (!next || periodic < *next) next = periodic;
  }
  return next;
}

}  // namespace repwatch::alerts
