#include "alerts/outbox.h"

#include <algorithm>

#include "core/error.h"

namespace repwatch::alerts {

namespace {

constexpr const char* kDeliveryColumns =
    "d.id, d.alert_id, d.channel, d.recipient, d.status, d.batch, d.urgent, d.attempts, "
    "d.next_attempt_at, d.lease_until, d.last_error, d.message_id, d.created_at, d.sent_at, "
    "d.sent_via, d.digest_delivery_id, a.rule, a.kind, a.review_id, a.location_id, a.source_id "
    "FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id";

DeliveryStatus parse_status(std::string_view s) {
  if (s == "sent") return DeliveryStatus::kSent;
  if (s == "failed") return DeliveryStatus::kFailed;
  if (s == "batched") return DeliveryStatus::kBatched;
  return DeliveryStatus::kPending;
}

DeliveryRecord read_delivery(const db::Statement& st) {
  DeliveryRecord d;
  d.id = st.column_int(0);
  d.alert_id = st.column_int(1);
  d.channel = st.column_text(2);
  d.recipient = st.column_text(3);
  d.status = parse_status(st.column_view(4));
  d.batch = st.column_int(5) != 0;
  d.urgent = st.column_int(6) != 0;
  d.attempts = static_cast<int>(st.column_int(7));
  d.next_attempt_at = st.column_int(8);
  d.lease_until = st.column_opt_int(9);
  d.last_error = st.column_text(10);
  d.message_id = st.column_text(11);
  d.created_at = st.column_int(12);
  d.sent_at = st.column_opt_int(13);
  d.sent_via = st.column_text(14);
  d.digest_delivery_id = st.column_opt_int(15);
  d.rule = st.column_text(16);
  d.kind = st.column_text(17);
  d.review_id = st.column_opt_int(18);
  d.location_id = st.column_text(19);
  d.source_id = st.column_text(20);
  return d;
}

std::vector<DeliveryRecord> read_all(db::Statement& st) {
  std::vector<DeliveryRecord> out;
  while (st.step()) out.push_back(read_delivery(st));
  return out;
}

// Error texts stored in the outbox: one line, bounded.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7F) ? ' ' : c;
  }
  if (out.size() > 500) out.resize(500);
  return out;
}

}  // namespace

const char* to_string(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kSent:
      return "sent";
    case DeliveryStatus::kFailed:
      return "failed";
    case DeliveryStatus::kBatched:
      return "batched";
  }
  return "pending";
}

Outbox::Outbox(const db::Database& db) : db_(db) {}

std::optional<int64_t> Outbox::insert_alert(const NewAlert& a, int64_t now) {
  db::Statement st = db_.prepare(
      "INSERT INTO alerts(dedupe_key, rule, kind, review_id, revision, location_id, source_id, "
      "urgent, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
      "ON CONFLICT(dedupe_key) DO NOTHING");
  st.bind(1, a.dedupe_key).bind(2, a.rule).bind(3, a.kind).bind(4, a.review_id);
  st.bind(5, a.revision).bind(6, a.location_id).bind(7, a.source_id);
  st.bind(8, a.urgent ? 1 : 0).bind(9, a.payload).bind(10, now);
  st.run();
  if (db_.changes() == 0) return std::nullopt;
  return db_.last_insert_rowid();
}

bool Outbox::add_delivery(int64_t alert_id, const NewDelivery& d, bool urgent, int64_t now) {
  db::Statement st = db_.prepare(
      "INSERT INTO alert_deliveries(alert_id, channel, recipient, status, batch, urgent, "
      "next_attempt_at, message_id, created_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?8) "
      "ON CONFLICT(alert_id, channel, recipient) DO NOTHING");
  st.bind(1, alert_id).bind(2, d.channel).bind(3, d.recipient).bind(4, d.batch ? 1 : 0);
  st.bind(5, urgent ? 1 : 0).bind(6, d.next_attempt_at).bind(7, d.message_id).bind(8, now);
  st.run();
  return db_.changes() > 0;
}

std::optional<AlertRecord> Outbox::alert(int64_t alert_id) const {
  db::Statement st = db_.prepare(
      "SELECT id, dedupe_key, rule, kind, review_id, revision, location_id, source_id, urgent, "
      "payload, created_at FROM alerts WHERE id = ?1");
  st.bind(1, alert_id);
  if (!st.step()) return std::nullopt;
  AlertRecord a;
  a.id = st.column_int(0);
  a.dedupe_key = st.column_text(1);
  a.rule = st.column_text(2);
  a.kind = st.column_text(3);
  a.review_id = st.column_opt_int(4);
  if (auto r = st.column_opt_int(5)) a.revision = static_cast<int>(*r);
  a.location_id = st.column_text(6);
  a.source_id = st.column_text(7);
  a.urgent = st.column_int(8) != 0;
  a.payload = st.column_text(9);
  a.created_at = st.column_int(10);
  return a;
}

std::optional<DeliveryRecord> Outbox::delivery(int64_t id) const {
  db::Statement st = db_.prepare(std::string("SELECT ") + kDeliveryColumns + " WHERE d.id = ?1");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_delivery(st);
}

bool Outbox::has_alert(const std::string& dedupe_key) const {
  db::Statement st = db_.prepare("SELECT 1 FROM alerts WHERE dedupe_key = ?1");
  st.bind(1, dedupe_key);
  return st.step();
}

bool Outbox::has_alert_of(const std::string& rule, int64_t review_id) const {
  db::Statement st = db_.prepare("SELECT 1 FROM alerts WHERE review_id = ?1 AND rule = ?2 LIMIT 1");
  st.bind(1, review_id).bind(2, rule);
  return st.step();
}

std::vector<DeliveryRecord> Outbox::list(const OutboxFilter& f) const {
  std::string sql = std::string("SELECT ") + kDeliveryColumns + " WHERE 1 = 1";
  if (f.status) sql += " AND d.status = :status";
  if (f.since) sql += " AND d.created_at >= :since";
  sql += " ORDER BY d.id DESC";
  if (f.limit > 0) sql += " LIMIT " + std::to_string(f.limit);
  db::Statement st = db_.prepare(sql);
  if (f.status) st.bind(":status", std::string(to_string(*f.status)));
  if (f.since) st.bind(":since", *f.since);
  return read_all(st);
}

std::vector<DeliveryRecord> Outbox::due(int64_t now, int limit) const {
  db::Statement st = db_.prepare(std::string("SELECT ") + kDeliveryColumns +
                                 " WHERE d.status = 'pending' AND d.batch = 0 AND "
                                 "d.next_attempt_at <= ?1 AND (d.lease_until IS NULL OR "
                                 "d.lease_until <= ?1) ORDER BY d.next_attempt_at, d.id LIMIT ?2");
  st.bind(1, now).bind(2, limit);
  return read_all(st);
}

std::vector<DeliveryRecord> Outbox::batched_pending(const std::string& recipient) const {
  db::Statement st = db_.prepare(std::string("SELECT ") + kDeliveryColumns +
                                 " WHERE d.status = 'pending' AND d.batch = 1 AND "
                                 "d.channel = 'email' AND d.recipient = ?1 ORDER BY d.id");
  st.bind(1, recipient);
  return read_all(st);
}

std::vector<std::string> Outbox::recipients_with_batched(int64_t due_before) const {
  db::Statement st = db_.prepare(
      "SELECT DISTINCT recipient FROM alert_deliveries WHERE status = 'pending' AND batch = 1 "
      "AND channel = 'email' AND next_attempt_at <= ?1 ORDER BY recipient");
  st.bind(1, due_before);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.column_text(0));
  return out;
}

bool Outbox::claim(int64_t id, int64_t now, int64_t lease_until) {
  db::Statement st = db_.prepare(
      "UPDATE alert_deliveries SET lease_until = ?3 WHERE id = ?1 AND status = 'pending' AND "
      "(lease_until IS NULL OR lease_until <= ?2)");
  st.bind(1, id).bind(2, now).bind(3, lease_until);
  st.run();
  return db_.changes() == 1;
}

void Outbox::mark_sent(int64_t id, int64_t now, const std::string& via) {
  db::Statement st = db_.prepare(
      "UPDATE alert_deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?2, "
      "sent_via = ?3, last_error = '', lease_until = NULL WHERE id = ?1");
  st.bind(1, id).bind(2, now).bind(3, via);
  st.run();
}

void Outbox::mark_retry(int64_t id, int64_t next_attempt_at, const std::string& error) {
  db::Statement st = db_.prepare(
      "UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = ?2, "
      "last_error = ?3, lease_until = NULL WHERE id = ?1 AND status = 'pending'");
  st.bind(1, id).bind(2, next_attempt_at).bind(3, one_line(error));
  st.run();
}

void Outbox::mark_failed(int64_t id, const std::string& error) {
  db::Statement st = db_.prepare(
      "UPDATE alert_deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?2, "
      "lease_until = NULL WHERE id = ?1");
  st.bind(1, id).bind(2, one_line(error));
  st.run();
}

void Outbox::defer_to_digest(int64_t id, int64_t next_attempt_at, const std::string& why) {
  db::Statement st = db_.prepare(
      "UPDATE alert_deliveries SET batch = 1, next_attempt_at = ?2, last_error = ?3 "
      "WHERE id = ?1 AND status = 'pending'");
  st.bind(1, id).bind(2, next_attempt_at).bind(3, one_line(why));
  st.run();
}

void Outbox::hold(int64_t id, int64_t until) {
  db::Statement st = db_.prepare(
      "UPDATE alert_deliveries SET next_attempt_at = MAX(next_attempt_at, ?2) "
      "WHERE id = ?1 AND status = 'pending'");
  st.bind(1, id).bind(2, until);
  st.run();
}

void Outbox::mark_batched(int64_t id, int64_t digest_delivery_id) {
  db::Statement st = db_.prepare(
      "UPDATE alert_deliveries SET status = 'batched', digest_delivery_id = ?2, "
      "lease_until = NULL WHERE id = ?1 AND status = 'pending'");
  st.bind(1, id).bind(2, digest_delivery_id);
  st.run();
}

void Outbox::release(int64_t id) {
  db::Statement st = db_.prepare(
      "UPDATE alert_deliveries SET lease_until = NULL WHERE id = ?1 AND status = 'pending'");
  st.bind(1, id);
  st.run();
}

std::pair<int, int> Outbox::hold_channel(const std::string& channel, int64_t until,
                                         int64_t give_up_before, const std::string& why) {
  db::Statement fail = db_.prepare(
      "UPDATE alert_deliveries SET status = 'failed', last_error = ?3 WHERE status = 'pending' "
      "AND batch = 0 AND channel = ?1 AND created_at <= ?2 AND lease_until IS NULL");
  fail.bind(1, channel).bind(2, give_up_before).bind(3, one_line("gave up: " + why));
  fail.run();
  const int failed = db_.changes();
  db::Statement hold = db_.prepare(
      "UPDATE alert_deliveries SET next_attempt_at = ?2, last_error = ?3 WHERE status = "
      "'pending' AND batch = 0 AND channel = ?1 AND next_attempt_at < ?2 AND lease_until IS NULL");
  hold.bind(1, channel).bind(2, until).bind(3, one_line(why));
  hold.run();
  return {db_.changes(), failed};
}

std::vector<int64_t> Outbox::reset_all_failed(int64_t now) {
  db::Statement st = db_.prepare(
      "UPDATE alert_deliveries SET status = 'pending', batch = 0, next_attempt_at = ?1, "
      "lease_until = NULL WHERE status = 'failed' RETURNING id");
  st.bind(1, now);
  std::vector<int64_t> ids;
  while (st.step()) ids.push_back(st.column_int(0));
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool Outbox::reset_for_retry(int64_t id, int64_t now) {
  db::Statement st = db_.prepare(
      "UPDATE alert_deliveries SET status = 'pending', batch = 0, next_attempt_at = ?2, "
      "lease_until = NULL "
      "WHERE id = ?1 AND status IN ('failed', 'pending')");
  st.bind(1, id).bind(2, now);
  st.run();
  return db_.changes() == 1;
}

int Outbox::sent_since(const std::string& recipient, int64_t since) const {
  db::Statement st = db_.prepare(
      "SELECT COUNT(*) FROM alert_deliveries WHERE recipient = ?1 AND channel = 'email' AND "
      "status = 'sent' AND sent_at > ?2");
  st.bind(1, recipient).bind(2, since);
  st.step();
  return static_cast<int>(st.column_int(0));
}

std::optional<int64_t> Outbox::oldest_sent_since(const std::string& recipient,
                                                 int64_t since) const {
  db::Statement st = db_.prepare(
      "SELECT MIN(sent_at) FROM alert_deliveries WHERE recipient = ?1 AND channel = 'email' AND "
      "status = 'sent' AND sent_at > ?2");
  st.bind(1, recipient).bind(2, since);
  st.step();
  return st.column_opt_int(0);
}

std::optional<int64_t> Outbox::next_due() const {
  db::Statement st = db_.prepare(
      "SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, 0))) FROM alert_deliveries "
      "WHERE status = 'pending'");
  st.step();
  return st.column_opt_int(0);
}

Outbox::Counts Outbox::counts() const {
  db::Statement st = db_.prepare("SELECT status, COUNT(*) FROM alert_deliveries GROUP BY status");
  Counts c;
  while (st.step()) {
    int n = static_cast<int>(st.column_int(1));
    switch (parse_status(st.column_view(0))) {
      case DeliveryStatus::kPending:
        c.pending = n;
        break;
      case DeliveryStatus::kSent:
        c.sent = n;
        break;
      case DeliveryStatus::kFailed:
        c.failed = n;
        break;
      case DeliveryStatus::kBatched:
        c.batched = n;
        break;
    }
  }
  return c;
}

}  // namespace repwatch::alerts
