// repwatch/alerts/sender.h - delivers the outbox.
//
//   Sender sender(alerts_config, db);          // channels built from the config
//   SendStats s = sender.deliver_due(now);     // call every minute or so, and after a poll
//
// For each pending delivery whose time has come, oldest first:
//   - non-urgent during quiet hours: held until they end (no attempt counted);
//   - an email to a recipient who already got max_emails_per_hour in the last hour: moved to
//     the digest queue (never dropped);
//   - else claimed (a lease, so a second sender skips it), rendered from the alert's snapshot
//     and sent, and the outcome committed at once: sent (right after the server accepted),
//     retried later with exponential backoff (4xx, connection failure), or failed (5xx; or
//     still failing after retry_for).
// Digests: when a recipient's batched deliveries are due (the daily/weekly digest time, or an
// hourly budget freeing up), one digest alert is queued for them in a transaction that marks
// the batched deliveries `batched` into it; it is then delivered like any other email.
//
// The network I/O happens outside any transaction. A Sender uses its Database connection from
// one thread; the daemon may give it its own connection (Database::open on the same file).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "alerts/channel.h"
#include "alerts/outbox.h"
#include "alerts/rules.h"
#include "db/sqlite.h"

namespace repwatch::alerts {

struct SendStats {
  int sent = 0;
  int retried = 0;   // temporary failure, will retry
  int failed = 0;    // permanent failure or gave up
  int deferred = 0;  // moved to the digest queue by the hourly limit
  int held = 0;      // quiet hours
  int digests = 0;   // digests queued
};

class Sender {
 public:
  // Channels from the config: "email" (SMTP or .eml) and, when configured, "webhook".
  Sender(const AlertsConfig& config, const db::Database& db);
  // Explicit channels by name (tests, or a custom transport).
  Sender(const AlertsConfig& config, const db::Database& db,
         std::map<std::string, std::unique_ptr<Channel>> channels);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Queues due digests, then sends every due delivery (at most `limit`).
  SendStats deliver_due(int64_t now, int limit = 500);

  // Sends one delivery now, whatever its schedule, quiet hours or hourly limit (the CLI's
  // `alerts retry` and `alerts test`). Throws Error if it does not exist or is not pending.
  SendResult deliver_one(int64_t delivery_id, int64_t now);

  // When deliver_due() next has something to do (nullopt: nothing pending).
  std::optional<int64_t> next_due() const;

 private:
  SendResult attempt(const DeliveryRecord& d, int64_t now, SendStats& stats);
  int queue_digests(int64_t now);
  int64_t backoff(int attempts) const;

  AlertsConfig config_;
  Outbox outbox_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;
};

}  // namespace repwatch::alerts
