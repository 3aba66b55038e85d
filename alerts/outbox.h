// repwatch/alerts/outbox.h - the transactional outbox: alerts and their deliveries in SQLite.
//
//   alerts(id, dedupe_key UNIQUE, rule, kind, review_id, revision, location_id, source_id,
//          urgent, payload, created_at)
//   alert_deliveries(id, alert_id, channel, recipient, status, batch, urgent, attempts,
//                    next_attempt_at, lease_until, last_error, message_id UNIQUE, created_at,
//                    sent_at, sent_via, digest_delivery_id, UNIQUE(alert_id, channel, recipient))
// (the "alerts" migration in db/store.cpp has the exact SQL).
//
// An alert is one thing worth telling, once: its dedupe_key ("new_negative:42:1" = rule,
// review id, revision) is UNIQUE, so queueing the same alert twice - a re-poll, a restart, two
// overlapping runs - inserts nothing the second time. Each alert has one delivery per
// (channel, recipient): channel "email" (SMTP, or .eml files when no SMTP is configured) or
// "webhook". A delivery is
//   pending   waiting for next_attempt_at (retries back off); batch = 1: waiting for a digest
//   sent      the server accepted it (sent_at, sent_via)
//   failed    refused for good (the recipient's own 5xx) or retried for too long (retry_for);
//             last_error says why
//   batched   folded into the digest delivery digest_delivery_id
// Its message_id is chosen when it is queued and never changes, so a rare duplicate (a crash
// between the server's acceptance and our commit) is recognisable.
//
// Outbox methods run in the caller's transaction when there is one (the poll's), else each
// statement is its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "db/sqlite.h"

namespace repwatch::alerts {

enum class DeliveryStatus { kPending, kSent, kFailed, kBatched };
const char* to_string(DeliveryStatus status);  // "pending", "sent", "failed", "batched"

struct NewAlert {
  std::string dedupe_key;
  std::string rule;
  std::string kind;  // rule type, "digest" or "test"
  std::optional<int64_t> review_id;
  std::optional<int> revision;
  std::string location_id;
  std::string source_id;
  bool urgent = true;
  std::string payload;  // AlertContent as JSON (content.h)
};

struct NewDelivery {
  std::string channel;  // "email" or "webhook"
  std::string recipient;
  bool batch = false;  // waits for a digest instead of going out alone
  int64_t next_attempt_at = 0;
  std::string message_id;
};

struct AlertRecord {
  int64_t id = 0;
  std::string dedupe_key;
  std::string rule;
  std::string kind;
  std::optional<int64_t> review_id;
  std::optional<int> revision;
  std::string location_id;
  std::string source_id;
  bool urgent = true;
  std::string payload;
  int64_t created_at = 0;
};

struct DeliveryRecord {
  int64_t id = 0;
  int64_t alert_id = 0;
  std::string channel;
  std::string recipient;
  DeliveryStatus status = DeliveryStatus::kPending;
  bool batch = false;
  bool urgent = true;
  int attempts = 0;
  int64_t next_attempt_at = 0;
  std::optional<int64_t> lease_until;
  std::string last_error;
  std::string message_id;
  int64_t created_at = 0;
  std::optional<int64_t> sent_at;
  std::string sent_via;  // "smtp://host:587", "eml:/path/file.eml", "webhook"
  std::optional<int64_t> digest_delivery_id;
  // From the alert, for listing and scheduling.
  std::string rule;
  std::string kind;
  std::optional<int64_t> review_id;
  std::string location_id;
  std::string source_id;
};

struct OutboxFilter {
  std::optional<DeliveryStatus> status;
  std::optional<int64_t> since;  // created_at >= since
  int limit = 0;                 // 0 = all
};

class Outbox {
 public:
  explicit Outbox(const db::Database& db);
  const db::Database& database() const { return db_; }

  // Inserts the alert unless one with its dedupe key exists; nullopt then.
  std::optional<int64_t> insert_alert(const NewAlert& alert, int64_t now);
  // Adds a delivery of the alert; false if the (alert, channel, recipient) exists.
  bool add_delivery(int64_t alert_id, const NewDelivery& delivery, bool urgent, int64_t now);

  std::optional<AlertRecord> alert(int64_t alert_id) const;
  std::optional<DeliveryRecord> delivery(int64_t delivery_id) const;
  bool has_alert(const std::string& dedupe_key) const;
  // Has rule `rule` ever alerted on this review (any revision)?
  bool has_alert_of(const std::string& rule, int64_t review_id) const;
  std::vector<DeliveryRecord> list(const OutboxFilter& filter = {}) const;

  // Pending, not batched, next_attempt_at <= now, not leased: oldest first.
  std::vector<DeliveryRecord> due(int64_t now, int limit) const;
  // Pending with batch = 1, per recipient (email only), oldest first.
  std::vector<DeliveryRecord> batched_pending(const std::string& recipient) const;
  std::vector<std::string> recipients_with_batched(int64_t due_before) const;

  // Claims a pending delivery for sending until `lease_until` (another sender - the daemon
  // and `repwatch alerts retry` at once - then skips it). False if it is not pending or is
  // leased by someone else.
  bool claim(int64_t delivery_id, int64_t now, int64_t lease_until);
  void mark_sent(int64_t delivery_id, int64_t now, const std::string& via);
  void mark_retry(int64_t delivery_id, int64_t next_attempt_at, const std::string& error);
  void mark_failed(int64_t delivery_id, const std::string& error);
  // Moves a pending delivery into the digest queue (batch = 1) until `next_attempt_at`.
  void defer_to_digest(int64_t delivery_id, int64_t next_attempt_at, const std::string& why);
  // Holds a pending delivery until `until` without counting an attempt (quiet hours).
  void hold(int64_t delivery_id, int64_t until);
  void mark_batched(int64_t delivery_id, int64_t digest_delivery_id);
  // Gives a claimed delivery back without counting an attempt (its transfer was aborted).
  void release(int64_t delivery_id);
  // The relay of `channel` is down until `until`: its pending deliveries (not batched, not
  // leased) that are due before then wait until then, with `why` as their last error; those
  // queued at or before `give_up_before` are marked failed instead ("gave up ...: why").
  // Returns {waiting, failed}.
  std::pair<int, int> hold_channel(const std::string& channel, int64_t until,
                                   int64_t give_up_before, const std::string& why);
  // `repwatch alerts retry`: a failed (or pending) delivery becomes pending, due now.
  // False when there is no such delivery or it was sent.
  bool reset_for_retry(int64_t delivery_id, int64_t now);
  // `repwatch alerts retry --all-failed`: every failed delivery becomes pending, due now.
  // Returns their ids, oldest first.
  std::vector<int64_t> reset_all_failed(int64_t now);

  // Emails (individual or digest) sent to `recipient` since `since`.
  int sent_since(const std::string& recipient, int64_t since) const;
  // The earliest sent_at of those emails (when the hourly window frees up).
  std::optional<int64_t> oldest_sent_since(const std::string& recipient, int64_t since) const;
  // The earliest next_attempt_at over pending deliveries (for the daemon's timer).
  std::optional<int64_t> next_due() const;

  struct Counts {
    int pending = 0, sent = 0, failed = 0, batched = 0;
  };
  Counts counts() const;

 private:
  const db::Database& db_;
};

}  // namespace repwatch::alerts
