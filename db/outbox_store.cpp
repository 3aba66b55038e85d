#include "db/outbox_store.h"

#include <algorithm>
#include <array>

#include "core/error.h"

namespace repwatch::db {

namespace {

// Each enum's stored text, once: to_string and parse_* both read these tables.
template <typename E>
struct Spelling {
  E value;
  const char* text;
};

constexpr std::array<Spelling<AlertKind>, 9> kAlertKinds{{
    {AlertKind::kNewNegative, "new_negative"},
    {AlertKind::kEditNegative, "edit_negative"},
    {AlertKind::kNoReply, "no_reply"},
    {AlertKind::kTouchpointAverage, "touchpoint_average"},
    {AlertKind::kReplyPhi, "reply_phi"},
    {AlertKind::kRemovedNegative, "removed_negative"},
    {AlertKind::kSourceHealth, "source_health"},
    {AlertKind::kDigest, "digest"},
    {AlertKind::kTest, "test"},
}};
constexpr std::array<Spelling<DeliveryChannel>, 2> kChannels{{
    {DeliveryChannel::kEmail, "email"},
    {DeliveryChannel::kWebhook, "webhook"},
}};
constexpr std::array<Spelling<DeliveryStatus>, 4> kStatuses{{
    {DeliveryStatus::kPending, "pending"},
    {DeliveryStatus::kSent, "sent"},
    {DeliveryStatus::kFailed, "failed"},
    {DeliveryStatus::kBatched, "batched"},
}};

template <typename E, size_t N>
const char* spell(const std::array<Spelling<E>, N>& table, E value) {
  for (const auto& s : table)
    if (s.value == value) return s.text;
  return table[0].text;  // unreachable: every enumerator is in its table
}

template <typename E, size_t N>
std::optional<E> parse(const std::array<Spelling<E>, N>& table, std::string_view text) {
  for (const auto& s : table)
    if (text == s.text) return s.value;
  return std::nullopt;
}

// A stored text this program does not know: the row was not written by repwatch.
template <typename E, size_t N>
E read_enum(const std::array<Spelling<E>, N>& table, const Statement& st, int col, const char* what,
            int64_t row_id) {
  const std::string_view text = st.column_view(col);
  if (auto v = parse(table, text)) return *v;
  throw DbError(std::string(what) + " of row " + std::to_string(row_id) + " is \"" +
                std::string(text) + "\", which this version of repwatch does not know");
}

constexpr const char* kDeliveryColumns =
    "d.id, d.alert_id, d.channel, d.recipient, d.status, d.batch, d.urgent, d.attempts, "
    "d.next_attempt_at, d.lease_until, d.last_error, d.message_id, d.created_at, d.sent_at, "
    "d.sent_via, d.digest_delivery_id, a.rule, a.kind, a.review_id, a.location_id, a.source_id "
    "FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id";

DeliveryRow read_delivery(const Statement& st) {
  DeliveryRow d;
  d.id = st.column_int(0);
  d.alert_id = st.column_int(1);
  d.channel = read_enum(kChannels, st, 2, "alert_deliveries.channel", d.id);
  d.recipient = st.column_text(3);
  d.status = read_enum(kStatuses, st, 4, "alert_deliveries.status", d.id);
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
  d.kind = read_enum(kAlertKinds, st, 17, "alerts.kind", d.alert_id);
  d.review_id = st.column_opt_int(18);
  d.location_id = st.column_text(19);
  d.source_id = st.column_text(20);
  return d;
}

std::vector<DeliveryRow> read_all(Statement& st) {
  std::vector<DeliveryRow> out;
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

const char* to_string(AlertKind kind) { return spell(kAlertKinds, kind); }
std::optional<AlertKind> parse_alert_kind(std::string_view text) {
  return parse(kAlertKinds, text);
}
const char* to_string(DeliveryChannel channel) { return spell(kChannels, channel); }
std::optional<DeliveryChannel> parse_delivery_channel(std::string_view text) {
  return parse(kChannels, text);
}
const char* to_string(DeliveryStatus status) { return spell(kStatuses, status); }
std::optional<DeliveryStatus> parse_delivery_status(std::string_view text) {
  return parse(kStatuses, text);
}

OutboxStore::OutboxStore(const Database& db) : db_(db) {}

// --- alerts

std::optional<int64_t> OutboxStore::insert_alert(const NewAlert& a, int64_t now) {
  Statement st = db_.prepare(
      "INSERT INTO alerts(dedupe_key, rule, kind, review_id, revision, location_id, source_id, "
      "urgent, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
      "ON CONFLICT(dedupe_key) DO NOTHING");
  st.bind(1, a.dedupe_key).bind(2, a.rule).bind(3, to_string(a.kind)).bind(4, a.review_id);
  st.bind(5, a.revision).bind(6, a.location_id).bind(7, a.source_id);
  st.bind(8, a.urgent ? 1 : 0).bind(9, a.payload).bind(10, now);
  st.run();
  if (db_.changes() == 0) return std::nullopt;
  return db_.last_insert_rowid();
}

std::optional<AlertRow> OutboxStore::alert(int64_t alert_id) const {
  Statement st = db_.prepare(
      "SELECT id, dedupe_key, rule, kind, review_id, revision, location_id, source_id, urgent, "
      "payload, created_at FROM alerts WHERE id = ?1");
  st.bind(1, alert_id);
  if (!st.step()) return std::nullopt;
  AlertRow a;
  a.id = st.column_int(0);
  a.dedupe_key = st.column_text(1);
  a.rule = st.column_text(2);
  a.kind = read_enum(kAlertKinds, st, 3, "alerts.kind", a.id);
  a.review_id = st.column_opt_int(4);
  if (auto r = st.column_opt_int(5)) a.revision = static_cast<int>(*r);
  a.location_id = st.column_text(6);
  a.source_id = st.column_text(7);
  a.urgent = st.column_int(8) != 0;
  a.payload = st.column_text(9);
  a.created_at = st.column_int(10);
  return a;
}

bool OutboxStore::has_alert(const std::string& dedupe_key) const {
  Statement st = db_.prepare("SELECT 1 FROM alerts WHERE dedupe_key = ?1");
  st.bind(1, dedupe_key);
  return st.step();
}

bool OutboxStore::has_alert_of(const std::string& rule, int64_t review_id) const {
  Statement st = db_.prepare("SELECT 1 FROM alerts WHERE review_id = ?1 AND rule = ?2 LIMIT 1");
  st.bind(1, review_id).bind(2, rule);
  return st.step();
}

std::optional<std::string> OutboxStore::newest_key_with_prefix(const std::string& prefix) const {
  std::string end = prefix;
  if (!end.empty()) end.back() = static_cast<char>(end.back() + 1);  // ':' -> ';'
  Statement st = db_.prepare(
      "SELECT dedupe_key FROM alerts WHERE dedupe_key >= ?1 AND dedupe_key < ?2 "
      "ORDER BY id DESC LIMIT 1");
  st.bind(1, prefix).bind(2, end);
  if (!st.step()) return std::nullopt;
  return st.column_text(0);
}

std::vector<int64_t> OutboxStore::reviews_alerted_without(const std::string& key_prefix,
                                                          int64_t alerted_from,
                                                          int64_t alerted_until) const {
  Statement st = db_.prepare(
      "SELECT a.review_id, MAX(a.created_at) FROM alerts a "
      "WHERE a.kind IN ('new_negative', 'edit_negative') AND a.review_id IS NOT NULL "
      "AND a.created_at >= ?2 "
      "AND NOT EXISTS (SELECT 1 FROM alerts e WHERE e.dedupe_key = ?3 || a.review_id) "
      "GROUP BY a.review_id HAVING MAX(a.created_at) <= ?1 ORDER BY a.review_id");
  st.bind(1, alerted_until).bind(2, alerted_from).bind(3, key_prefix);
  std::vector<int64_t> ids;
  while (st.step()) ids.push_back(st.column_int(0));
  return ids;
}

// --- deliveries

bool OutboxStore::add_delivery(int64_t alert_id, const NewDelivery& d, int64_t now) {
  Statement st = db_.prepare(
      "INSERT INTO alert_deliveries(alert_id, channel, recipient, status, batch, urgent, "
      "next_attempt_at, message_id, created_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?8) "
      "ON CONFLICT(alert_id, channel, recipient) DO NOTHING");
  st.bind(1, alert_id).bind(2, to_string(d.channel)).bind(3, d.recipient).bind(4, d.batch ? 1 : 0);
  st.bind(5, d.urgent ? 1 : 0).bind(6, d.next_attempt_at).bind(7, d.message_id).bind(8, now);
  st.run();
  return db_.changes() > 0;
}

std::optional<DeliveryRow> OutboxStore::delivery(int64_t id) const {
  Statement st = db_.prepare(std::string("SELECT ") + kDeliveryColumns + " WHERE d.id = ?1");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_delivery(st);
}

std::vector<DeliveryRow> OutboxStore::list(const OutboxFilter& f) const {
  std::string sql = std::string("SELECT ") + kDeliveryColumns + " WHERE 1 = 1";
  if (f.status) sql += " AND d.status = :status";
  if (f.since) sql += " AND d.created_at >= :since";
  sql += " ORDER BY d.id DESC";
  if (f.limit > 0) sql += " LIMIT " + std::to_string(f.limit);
  Statement st = db_.prepare(sql);
  if (f.status) st.bind(":status", std::string(to_string(*f.status)));
  if (f.since) st.bind(":since", *f.since);
  return read_all(st);
}

std::vector<DeliveryRow> OutboxStore::due(int64_t now, int limit) const {
  Statement st = db_.prepare(std::string("SELECT ") + kDeliveryColumns +
                             " WHERE d.status = 'pending' AND d.batch = 0 AND "
                             "d.next_attempt_at <= ?1 AND (d.lease_until IS NULL OR "
                             "d.lease_until <= ?1) ORDER BY d.next_attempt_at, d.id LIMIT ?2");
  st.bind(1, now).bind(2, limit);
  return read_all(st);
}

std::vector<DeliveryRow> OutboxStore::batched_pending(const std::string& recipient) const {
  Statement st = db_.prepare(std::string("SELECT ") + kDeliveryColumns +
                             " WHERE d.status = 'pending' AND d.batch = 1 AND "
                             "d.channel = 'email' AND d.recipient = ?1 ORDER BY d.id");
  st.bind(1, recipient);
  return read_all(st);
}

std::vector<std::string> OutboxStore::recipients_with_batched(int64_t due_before) const {
  Statement st = db_.prepare(
      "SELECT DISTINCT recipient FROM alert_deliveries WHERE status = 'pending' AND batch = 1 "
      "AND channel = 'email' AND next_attempt_at <= ?1 ORDER BY recipient");
  st.bind(1, due_before);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.column_text(0));
  return out;
}

bool OutboxStore::claim(int64_t id, int64_t now, int64_t lease_until) {
  Statement st = db_.prepare(
      "UPDATE alert_deliveries SET lease_until = ?3 WHERE id = ?1 AND status = 'pending' AND "
      "(lease_until IS NULL OR lease_until <= ?2)");
  st.bind(1, id).bind(2, now).bind(3, lease_until);
  st.run();
  return db_.changes() == 1;
}

void OutboxStore::mark_sent(int64_t id, int64_t now, const std::string& via) {
  Statement st = db_.prepare(
      "UPDATE alert_deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?2, "
      "sent_via = ?3, last_error = '', lease_until = NULL WHERE id = ?1");
  st.bind(1, id).bind(2, now).bind(3, via);
  st.run();
}

void OutboxStore::mark_retry(int64_t id, int64_t next_attempt_at, const std::string& error) {
  Statement st = db_.prepare(
      "UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = ?2, "
      "last_error = ?3, lease_until = NULL WHERE id = ?1 AND status = 'pending'");
  st.bind(1, id).bind(2, next_attempt_at).bind(3, one_line(error));
  st.run();
}

void OutboxStore::mark_failed(int64_t id, const std::string& error) {
  Statement st = db_.prepare(
      "UPDATE alert_deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?2, "
      "lease_until = NULL WHERE id = ?1");
  st.bind(1, id).bind(2, one_line(error));
  st.run();
}

void OutboxStore::defer_to_digest(int64_t id, int64_t next_attempt_at, const std::string& why) {
  Statement st = db_.prepare(
      "UPDATE alert_deliveries SET batch = 1, next_attempt_at = ?2, last_error = ?3 "
      "WHERE id = ?1 AND status = 'pending'");
  st.bind(1, id).bind(2, next_attempt_at).bind(3, one_line(why));
  st.run();
}

void OutboxStore::hold(int64_t id, int64_t until) {
  Statement st = db_.prepare(
      "UPDATE alert_deliveries SET next_attempt_at = MAX(next_attempt_at, ?2) "
      "WHERE id = ?1 AND status = 'pending'");
  st.bind(1, id).bind(2, until);
  st.run();
}

void OutboxStore::mark_batched(int64_t id, int64_t digest_delivery_id) {
  Statement st = db_.prepare(
      "UPDATE alert_deliveries SET status = 'batched', digest_delivery_id = ?2, "
      "lease_until = NULL WHERE id = ?1 AND status = 'pending'");
  st.bind(1, id).bind(2, digest_delivery_id);
  st.run();
}

void OutboxStore::release(int64_t id) {
  Statement st = db_.prepare(
      "UPDATE alert_deliveries SET lease_until = NULL WHERE id = ?1 AND status = 'pending'");
  st.bind(1, id);
  st.run();
}

std::pair<int, int> OutboxStore::hold_channel(const ChannelHold& h) {
  const char* channel = to_string(h.channel);
  Statement fail = db_.prepare(
      "UPDATE alert_deliveries SET status = 'failed', last_error = ?3 WHERE status = 'pending' "
      "AND batch = 0 AND channel = ?1 AND created_at <= ?2 AND lease_until IS NULL");
  fail.bind(1, channel).bind(2, h.give_up_before).bind(3, one_line("gave up: " + h.why));
  fail.run();
  const int failed = db_.changes();
  Statement hold = db_.prepare(
      "UPDATE alert_deliveries SET next_attempt_at = ?2, last_error = ?3 WHERE status = "
      "'pending' AND batch = 0 AND channel = ?1 AND next_attempt_at < ?2 AND lease_until IS NULL");
  hold.bind(1, channel).bind(2, h.until).bind(3, one_line(h.why));
  hold.run();
  return {db_.changes(), failed};
}

std::vector<int64_t> OutboxStore::reset_all_failed(int64_t now) {
  Statement st = db_.prepare(
      "UPDATE alert_deliveries SET status = 'pending', batch = 0, next_attempt_at = ?1, "
      "lease_until = NULL WHERE status = 'failed' RETURNING id");
  st.bind(1, now);
  std::vector<int64_t> ids;
  while (st.step()) ids.push_back(st.column_int(0));
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool OutboxStore::reset_for_retry(int64_t id, int64_t now) {
  Statement st = db_.prepare(
      "UPDATE alert_deliveries SET status = 'pending', batch = 0, next_attempt_at = ?2, "
      "lease_until = NULL "
      "WHERE id = ?1 AND status IN ('failed', 'pending')");
  st.bind(1, id).bind(2, now);
  st.run();
  return db_.changes() == 1;
}

int OutboxStore::sent_since(const std::string& recipient, int64_t since) const {
  Statement st = db_.prepare(
      "SELECT COUNT(*) FROM alert_deliveries WHERE recipient = ?1 AND channel = 'email' AND "
      "status = 'sent' AND sent_at > ?2");
  st.bind(1, recipient).bind(2, since);
  st.step();
  return static_cast<int>(st.column_int(0));
}

std::optional<int64_t> OutboxStore::oldest_sent_since(const std::string& recipient,
                                                      int64_t since) const {
  Statement st = db_.prepare(
      "SELECT MIN(sent_at) FROM alert_deliveries WHERE recipient = ?1 AND channel = 'email' AND "
      "status = 'sent' AND sent_at > ?2");
  st.bind(1, recipient).bind(2, since);
  st.step();
  return st.column_opt_int(0);
}

std::optional<int64_t> OutboxStore::next_due() const {
  Statement st = db_.prepare(
      "SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, 0))) FROM alert_deliveries "
      "WHERE status = 'pending'");
  st.step();
  return st.column_opt_int(0);
}

OutboxCounts OutboxStore::counts() const {
  Statement st = db_.prepare("SELECT status, COUNT(*) FROM alert_deliveries GROUP BY status");
  OutboxCounts c;
  while (st.step()) {
    const int n = static_cast<int>(st.column_int(1));
    switch (parse(kStatuses, st.column_view(0)).value_or(DeliveryStatus::kPending)) {
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

}  // namespace repwatch::db
