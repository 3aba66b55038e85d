// repwatch/db/outbox_store.h - the alert outbox's tables: alerts and their deliveries.
//
//   OutboxStore outbox(db);
//   Transaction tx(db);                                  // the poll's, or one of its own
//   if (auto id = outbox.insert_alert(alert, now))       // nullopt: queued before
//     outbox.add_delivery(*id, delivery, now);
//   tx.commit();
//   for (const DeliveryRow& d : outbox.due(now, 500)) ...  // then claim, send, mark_*
//
//   alerts(id, dedupe_key UNIQUE, rule, kind, review_id, revision, location_id, source_id,
//          urgent, payload, created_at)
//   alert_deliveries(id, alert_id, channel, recipient, status, batch, urgent, attempts,
//                    next_attempt_at, lease_until, last_error, message_id UNIQUE, created_at,
//                    sent_at, sent_via, digest_delivery_id, UNIQUE(alert_id, channel, recipient))
// (the "alerts" migration in db/schema.cpp has the exact SQL).
//
// An alert is one thing worth telling, once: its dedupe_key ("new_negative:42:1" = rule,
// review id, revision) is UNIQUE, so queueing the same alert twice - a re-poll, a restart, two
// overlapping runs - inserts nothing the second time. Each alert has one delivery per
// (channel, recipient): channel email (SMTP, or .eml files when no SMTP is configured) or
// webhook. A delivery is
//   pending   waiting for next_attempt_at (retries back off); batch = 1: waiting for a digest
//   sent      the server accepted it (sent_at, sent_via)
//   failed    refused for good (the recipient's own 5xx) or retried for too long (retry_for);
//             last_error says why
//   batched   folded into the digest delivery digest_delivery_id
// Its message_id is chosen when it is queued and never changes, so a rare duplicate (a crash
// between the server's acceptance and our commit) is recognisable.
//
// The states stored as text (kind, channel, status) are enums here, each with one conversion
// to and from the stored text. Error texts are stored on one line, at most 500 bytes.
//
// Methods run in the caller's transaction when there is one (the poll's), else each statement
// is its own. Which alerts to queue, and when and how to send them, is the policy of alerts/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/sqlite.h"

namespace repwatch::db {

// What an alert is about: the type of the rule that raised it, a digest of others, or a test.
enum class AlertKind {
  kNewNegative,
  kEditNegative,
  kNoReply,
  kTouchpointAverage,
  kReplyPhi,
  kRemovedNegative,
  kSourceHealth,
  kDigest,
  kTest
};
// "new_negative", "edit_negative", "no_reply", "touchpoint_average", "reply_phi",
// "removed_negative", "source_health", "digest", "test"; parse: nullopt for anything else.
const char* to_string(AlertKind kind);
std::optional<AlertKind> parse_alert_kind(std::string_view text);

enum class DeliveryChannel { kEmail, kWebhook };
const char* to_string(DeliveryChannel channel);  // "email", "webhook"
std::optional<DeliveryChannel> parse_delivery_channel(std::string_view text);

enum class DeliveryStatus { kPending, kSent, kFailed, kBatched };
const char* to_string(DeliveryStatus status);  // "pending", "sent", "failed", "batched"
std::optional<DeliveryStatus> parse_delivery_status(std::string_view text);

struct NewAlert {
  std::string dedupe_key;
  std::string rule;
  AlertKind kind = AlertKind::kNewNegative;
  std::optional<int64_t> review_id;
  std::optional<int> revision;
  std::string location_id;
  std::string source_id;
  bool urgent = true;
  std::string payload;  // the alert's content as JSON (alerts/content.h)
};

struct NewDelivery {
  DeliveryChannel channel = DeliveryChannel::kEmail;
  std::string recipient;
  bool batch = false;  // waits for a digest instead of going out alone
  bool urgent = true;  // ignores quiet hours and the hourly limit's digest
  int64_t next_attempt_at = 0;
  std::string message_id;
};

// A stored alert: what was queued, with its row id and when.
struct AlertRow : NewAlert {
  int64_t id = 0;
  int64_t created_at = 0;
};

struct DeliveryRow {
  int64_t id = 0;
  int64_t alert_id = 0;
  DeliveryChannel channel = DeliveryChannel::kEmail;
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
  AlertKind kind = AlertKind::kNewNegative;
  std::optional<int64_t> review_id;
  std::string location_id;
  std::string source_id;
};

struct OutboxFilter {
  std::optional<DeliveryStatus> status;
  std::optional<int64_t> since;  // created_at >= since
  int limit = 0;                 // 0 = all
};

struct OutboxCounts {
  int pending = 0, sent = 0, failed = 0, batched = 0;
};

// A relay that is down holds its channel's deliveries (OutboxStore::hold_channel).
struct ChannelHold {
  DeliveryChannel channel = DeliveryChannel::kEmail;
  int64_t until = 0;           // due before then: wait until then
  int64_t give_up_before = 0;  // queued at or before: failed instead ("gave up: <why>")
  std::string why;             // their last error
};

class OutboxStore {
 public:
  explicit OutboxStore(const Database& db);
  const Database& database() const { return db_; }

  // --- alerts
  // Inserts the alert unless one with its dedupe key exists; nullopt then.
  std::optional<int64_t> insert_alert(const NewAlert& alert, int64_t now);
  std::optional<AlertRow> alert(int64_t alert_id) const;
  bool has_alert(const std::string& dedupe_key) const;
  // Has rule `rule` ever alerted on this review (any revision)?
  bool has_alert_of(const std::string& rule, int64_t review_id) const;
  // The dedupe key of the newest alert (by id) whose key starts with `prefix`, which must end
  // in ':' (the keys "<prefix><rest>" are the range [prefix, prefix with ':' -> ';')).
  std::optional<std::string> newest_key_with_prefix(const std::string& prefix) const;
  // Reviews told about by a new_negative or edit_negative alert: those whose latest such alert
  // was created in [alerted_from, alerted_until], and that no alert keyed
  // `key_prefix + <review id>` exists for (an escalation already queued). Ascending ids.
  std::vector<int64_t> reviews_alerted_without(const std::string& key_prefix, int64_t alerted_from,
                                               int64_t alerted_until) const;

  // --- deliveries
  // Adds a delivery of the alert, pending; false if the (alert, channel, recipient) exists.
  bool add_delivery(int64_t alert_id, const NewDelivery& delivery, int64_t now);
  std::optional<DeliveryRow> delivery(int64_t delivery_id) const;
  std::vector<DeliveryRow> list(const OutboxFilter& filter = {}) const;  // newest first

  // Pending, not batched, next_attempt_at <= now, not leased: oldest first.
  std::vector<DeliveryRow> due(int64_t now, int limit) const;
  // Pending with batch = 1, per recipient (email only), oldest first.
  std::vector<DeliveryRow> batched_pending(const std::string& recipient) const;
  std::vector<std::string> recipients_with_batched(int64_t due_before) const;

  // Claims a pending delivery for sending until `lease_until` (another sender - the daemon
  // and `repwatch alerts retry` at once - then skips it). False if it is not pending or is
  // leased by someone else.
  bool claim(int64_t delivery_id, int64_t now, int64_t lease_until);
  void mark_sent(int64_t delivery_id, int64_t now, const std::string& via);
  // Counts an attempt; pending again at `next_attempt_at`.
  void mark_retry(int64_t delivery_id, int64_t next_attempt_at, const std::string& error);
  void mark_failed(int64_t delivery_id, const std::string& error);
  // Moves a pending delivery into the digest queue (batch = 1) until `next_attempt_at`.
  void defer_to_digest(int64_t delivery_id, int64_t next_attempt_at, const std::string& why);
  // Holds a pending delivery until `until` without counting an attempt (quiet hours).
  void hold(int64_t delivery_id, int64_t until);
  void mark_batched(int64_t delivery_id, int64_t digest_delivery_id);
  // Gives a claimed delivery back without counting an attempt (its transfer was aborted).
  void release(int64_t delivery_id);
  // The channel's pending deliveries (not batched, not leased): those queued at or before
  // hold.give_up_before are marked failed ("gave up: why"), those due before hold.until wait
  // until then with `why` as their last error. Returns {waiting, failed}.
  std::pair<int, int> hold_channel(const ChannelHold& hold);
  // `repwatch alerts retry`: a failed (or pending) delivery becomes pending, due now.
  // False when there is no such delivery or it was sent.
  bool reset_for_retry(int64_t delivery_id, int64_t now);
  // `repwatch alerts retry --all-failed`: every failed delivery becomes pending, due now.
  // Returns their ids, oldest first.
  std::vector<int64_t> reset_all_failed(int64_t now);

  // Emails (individual or digest) sent to `recipient` after `since`.
  int sent_since(const std::string& recipient, int64_t since) const;
  // The earliest sent_at of those emails (when the hourly window frees up).
  std::optional<int64_t> oldest_sent_since(const std::string& recipient, int64_t since) const;
  // The earliest time a pending delivery may go (next_attempt_at, or its lease's end).
  std::optional<int64_t> next_due() const;
  OutboxCounts counts() const;

 private:
  const Database& db_;
};

}  // namespace repwatch::db
