#include "db/store.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "db/query_index.h"
#include "db/review_fields.h"

namespace repwatch::db {

void encode_spans(const std::vector<Evidence>& spans, std::string& out) {
  // Written through a pointer into room for the longest pair: appending char by char costs
  // more than the numbers (this runs for every analysis and touchpoint hit stored).
  constexpr size_t kMaxPair = 2 * 20 + 4;  // "[offset,length]," with 64-bit numbers
  out.resize(2 + spans.size() * kMaxPair);
  char* p = out.data();
  char* const end = p + out.size();
  *p++ = '[';
  for (const Evidence& e : spans) {
    if (p != out.data() + 1) *p++ = ',';
    *p++ = '[';
    p = std::to_chars(p, end, e.offset).ptr;
    *p++ = ',';
    p = std::to_chars(p, end, e.length).ptr;
    *p++ = ']';
  }
  *p++ = ']';
  out.resize(static_cast<size_t>(p - out.data()));
}

std::optional<std::vector<Evidence>> decode_spans(std::string_view json, std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) return std::nullopt;
  std::vector<Evidence> out;
  out.reserve(doc.Size());
  for (const auto& v : doc.GetArray()) {
    if (!v.IsArray() || v.Size() != 2 || !v[0].IsUint() || !v[1].IsUint()) return std::nullopt;
    uint64_t offset = v[0].GetUint(), length = v[1].GetUint();
    if (offset + length > text.size()) continue;
    out.push_back({std::string(text.substr(offset, length)), static_cast<uint32_t>(offset),
                   static_cast<uint32_t>(length)});
  }
  return out;
}

// ---- schema -----------------------------------------------------------------------------

namespace {

// Migration 4. A first sync stores hundreds of thousands of reviews in one poll; per review, the
// touchpoint hits (three on average, each a row in a table with two indexes, a foreign-key
// check and a trigger program) cost more than the review itself, and their evidence JSON
// repeated the phrases of the text: twice the review's own bytes. Now: one B-tree clustered
// by review, spans as [offset, length] only (the phrase is cut from reviews.text on reading),
// and the hits leave with their review through a trigger instead of a foreign key.
const char* ingest_migration_sql() {
  static const std::string sql = std::string(R"sql(
CREATE TABLE touchpoint_hits_v2 (
  review_id  INTEGER NOT NULL,            -- reviews(id); deleted with it (reviews_delete_hits)
  ord        INTEGER NOT NULL,            -- the analyzer's order, from 0
  touchpoint TEXT NOT NULL,
  score      REAL NOT NULL,
  evidence   TEXT NOT NULL DEFAULT '[]',  -- [[offset, length], ...] spans of reviews.text
  PRIMARY KEY (review_id, ord)
) WITHOUT ROWID;
INSERT INTO touchpoint_hits_v2
  SELECT review_id, row_number() OVER (PARTITION BY review_id ORDER BY rowid) - 1, touchpoint,
    score, (SELECT json_group_array(json_array(json_extract(e.value, '$.offset'),
                                               json_extract(e.value, '$.length')))
            FROM json_each(h.evidence) e)
  FROM touchpoint_hits h;
-- Its indexes and its triggers go with it; the triggers on reviews that name touchpoint_hits
-- stay as they are (legacy_alter_table) and name the new table after the rename.
DROP TABLE touchpoint_hits;
PRAGMA legacy_alter_table = ON;
ALTER TABLE touchpoint_hits_v2 RENAME TO touchpoint_hits;
PRAGMA legacy_alter_table = OFF;
UPDATE analyses SET terms =
  (SELECT json_group_array(json_array(json_extract(e.value, '$.offset'),
                                      json_extract(e.value, '$.length')))
   FROM json_each(analyses.terms) e)
  WHERE terms <> '[]';
CREATE TRIGGER reviews_delete_hits AFTER DELETE ON reviews
BEGIN
  DELETE FROM touchpoint_hits WHERE review_id = OLD.id;
END;
)sql") + query_index_hit_triggers_sql();
  return sql.c_str();
}

// Migration 5. A review that a complete listing of its source lacks is marked removed
// (removed_at) instead of being listed and averaged forever; it is kept, with its history, and
// restored when a listing has it again. An analysis made on the translation the source supplied
// (a Spanish review scored on Google's English) says so: its spans point into translated_text.
const char* removed_migration_sql() {
  static const std::string sql = std::string(R"sql(
-- When a complete listing of the review's source first lacked it; NULL while the source lists it.
ALTER TABLE reviews ADD COLUMN removed_at INTEGER;
CREATE INDEX reviews_removed ON reviews(source_id, created_at) WHERE removed_at IS NOT NULL;
-- 1 when terms and touchpoint evidence are spans of reviews.translated_text, not of text.
ALTER TABLE analyses ADD COLUMN on_translation INTEGER NOT NULL DEFAULT 0;
)sql") + query_index_removed_sql();
  return sql.c_str();
}

// Migration "core".
constexpr const char* kCoreMigrationSql = R"sql(
-- Clinic locations and the review sources configured for them.
CREATE TABLE locations (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sources (
  id            TEXT PRIMARY KEY,
  type          TEXT NOT NULL,
  location_id   TEXT NOT NULL REFERENCES locations(id),
  added_at      INTEGER NOT NULL,             -- UTC epoch seconds
  first_sync_at INTEGER                       -- end of the first successful poll
);
-- The scheduler's memory of each source: the connector's cursor and its health.
CREATE TABLE poll_state (
  source_id            TEXT PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
  cursor               TEXT NOT NULL DEFAULT '',
  last_attempt_at      INTEGER,
  last_success_at      INTEGER,
  last_error           TEXT NOT NULL DEFAULT '',
  last_error_kind      TEXT NOT NULL DEFAULT '',  -- transient, auth, garbage, config
  last_error_at        INTEGER,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  next_poll_at         INTEGER,
  needs_attention      INTEGER NOT NULL DEFAULT 0
);
-- One row per (source, external id), ever; edits update it in place (revision + 1).
-- rating is normalized onto 1..5 (NULL: none given); raw_rating is as given on `scale`
-- ("1-5", "0-10", "binary", "none"...). sentiment/label/negative summarize the current
-- analysis for fast queries: label is 'negative', 'neutral' or 'positive'; negative is 1 when
-- rating <= 2, or no rating and sentiment <= -0.3 (the store's NegativeRule).
CREATE TABLE reviews (
  id              INTEGER PRIMARY KEY,
  source_id       TEXT NOT NULL REFERENCES sources(id),
  external_id     TEXT NOT NULL,
  location_id     TEXT NOT NULL REFERENCES locations(id),
  author          TEXT NOT NULL DEFAULT '',
  raw_rating      REAL,
  scale           TEXT NOT NULL,
  rating          REAL,
  text            TEXT NOT NULL DEFAULT '',
  language        TEXT NOT NULL DEFAULT '',
  translated_text TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  reply_text      TEXT NOT NULL DEFAULT '',
  reply_at        INTEGER,
  url             TEXT NOT NULL DEFAULT '',
  content_hash    TEXT NOT NULL,
  revision        INTEGER NOT NULL DEFAULT 1,
  first_seen_at   INTEGER NOT NULL,
  last_seen_at    INTEGER NOT NULL,
  sentiment       REAL NOT NULL DEFAULT 0,
  label           TEXT NOT NULL DEFAULT 'neutral',
  negative        INTEGER NOT NULL DEFAULT 0,
  UNIQUE (source_id, external_id)
);
CREATE INDEX reviews_by_created ON reviews(created_at);
CREATE INDEX reviews_by_location ON reviews(location_id, created_at);
CREATE INDEX reviews_by_source ON reviews(source_id, created_at);
-- The versions an edit replaced: `revision` is the replaced version's number.
CREATE TABLE review_revisions (
  review_id       INTEGER NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
  revision        INTEGER NOT NULL,
  location_id     TEXT NOT NULL,
  author          TEXT NOT NULL,
  raw_rating      REAL,
  scale           TEXT NOT NULL,
  rating          REAL,
  text            TEXT NOT NULL,
  language        TEXT NOT NULL,
  translated_text TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  reply_text      TEXT NOT NULL,
  reply_at        INTEGER,
  url             TEXT NOT NULL,
  content_hash    TEXT NOT NULL,
  sentiment       REAL NOT NULL,
  label           TEXT NOT NULL,
  negative        INTEGER NOT NULL,
  replaced_at     INTEGER NOT NULL,
  PRIMARY KEY (review_id, revision)
) WITHOUT ROWID;
-- The current analysis of each review. terms: JSON array of {"phrase","offset","length"}.
CREATE TABLE analyses (
  review_id       INTEGER PRIMARY KEY REFERENCES reviews(id) ON DELETE CASCADE,
  score           REAL NOT NULL,
  label           TEXT NOT NULL,
  language        TEXT NOT NULL DEFAULT '',
  scored          INTEGER NOT NULL DEFAULT 1,
  lexicon_version TEXT NOT NULL DEFAULT '',
  analyzed_at     INTEGER NOT NULL,
  terms           TEXT NOT NULL DEFAULT '[]'
);
-- The touchpoints each review speaks of, in the analyzer's order (rowid).
-- evidence: JSON array of {"phrase","offset","length"} spans of the review text.
CREATE TABLE touchpoint_hits (
  review_id  INTEGER NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
  touchpoint TEXT NOT NULL,
  score      REAL NOT NULL,
  evidence   TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX touchpoint_hits_by_review ON touchpoint_hits(review_id);
CREATE INDEX touchpoint_hits_by_touchpoint ON touchpoint_hits(touchpoint);
)sql";

// Migration "alerts".
constexpr const char* kAlertsMigrationSql = R"sql(
-- The alert outbox (alerts/outbox.h). One row per thing worth telling, ever: dedupe_key is
-- "<rule>:<review id>:<revision>" (or "<rule>:<review id>", "<rule>:<location>:<touchpoint>:
-- <period>", "digest:...", "test:..."), UNIQUE so re-polls, restarts and overlapping runs
-- cannot queue it twice. payload: the alert's content snapshot as JSON (alerts/content.h).
CREATE TABLE alerts (
  id          INTEGER PRIMARY KEY,
  dedupe_key  TEXT NOT NULL UNIQUE,
  rule        TEXT NOT NULL,
  kind        TEXT NOT NULL,            -- new_negative, edit_negative, no_reply, ..., digest, test
  review_id   INTEGER REFERENCES reviews(id) ON DELETE SET NULL,
  revision    INTEGER,
  location_id TEXT NOT NULL DEFAULT '',
  source_id   TEXT NOT NULL DEFAULT '',
  urgent      INTEGER NOT NULL DEFAULT 1,
  payload     TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX alerts_by_review ON alerts(review_id);
-- One delivery per (alert, channel, recipient). status: pending (batch = 1: waiting for a
-- digest), sent, failed (last_error says why), batched (folded into digest_delivery_id).
-- message_id is chosen at insert and never changes (a rare resend is recognisable).
CREATE TABLE alert_deliveries (
  id                 INTEGER PRIMARY KEY,
  alert_id           INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  channel            TEXT NOT NULL,     -- email, webhook
  recipient          TEXT NOT NULL,
  status             TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'failed', 'batched')),
  batch              INTEGER NOT NULL DEFAULT 0,
  urgent             INTEGER NOT NULL DEFAULT 1,
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    INTEGER NOT NULL,
  lease_until        INTEGER,
  last_error         TEXT NOT NULL DEFAULT '',
  message_id         TEXT NOT NULL UNIQUE,
  created_at         INTEGER NOT NULL,
  sent_at            INTEGER,
  sent_via           TEXT NOT NULL DEFAULT '',
  digest_delivery_id INTEGER REFERENCES alert_deliveries(id),
  UNIQUE (alert_id, channel, recipient)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(status, batch, next_attempt_at);
CREATE INDEX alert_deliveries_by_recipient ON alert_deliveries(recipient, status, sent_at);
)sql";

// Migration "sentiment".
constexpr const char* kSentimentMigrationSql = R"sql(
-- The taxonomy that attributed each analysis's touchpoints (its version, or a digest of a file
-- without one): `repwatch rescore --outdated` redoes analyses after a taxonomy edit too. ''
-- for analyses stored before this column existed (outdated by definition).
ALTER TABLE analyses ADD COLUMN taxonomy_version TEXT NOT NULL DEFAULT '';
)sql";

// Migration "health".
constexpr const char* kHealthMigrationSql = R"sql(
-- Source health (alerts/health.h): when the current run of failed polls began, what a person
-- should do about the last error, the problems (records skipped, paging stopped early) of the
-- last poll that had any, and when polls brought reviews not seen before - the source's own
-- rhythm, against which "gone quiet" is judged. arrivals: epoch seconds, newest first,
-- comma-separated (at most 20); warnings: [{"where": ..., "message": ...}] (at most 20).
ALTER TABLE poll_state ADD COLUMN failing_since INTEGER;
ALTER TABLE poll_state ADD COLUMN advice TEXT NOT NULL DEFAULT '';
ALTER TABLE poll_state ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE poll_state ADD COLUMN warning_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE poll_state ADD COLUMN warnings_at INTEGER;
ALTER TABLE poll_state ADD COLUMN last_new_at INTEGER;
ALTER TABLE poll_state ADD COLUMN arrivals TEXT NOT NULL DEFAULT '';
-- A source failing now began no later than its last error (the exact start was not kept).
UPDATE poll_state SET failing_since = last_error_at WHERE consecutive_failures > 0;
-- A config error needs a person as much as an auth error does.
UPDATE poll_state SET needs_attention = 1
  WHERE consecutive_failures > 0 AND last_error_kind = 'config';
-- The rhythm so far, from when each stored review was first seen.
UPDATE poll_state SET
  last_new_at = (SELECT max(r.first_seen_at) FROM reviews r WHERE r.source_id = poll_state.source_id),
  arrivals = coalesce((SELECT group_concat(t, ',') FROM
                        (SELECT DISTINCT r.first_seen_at AS t FROM reviews r
                         WHERE r.source_id = poll_state.source_id ORDER BY t DESC LIMIT 20)), '');
)sql";

}  // namespace

const std::vector<Migration>& schema_migrations() {
  // Append new migrations at the END, one entry each, named after the module. Never edit one
  // that has shipped: databases out there have applied it (PRAGMA user_version counts them).
  static const std::vector<Migration> migrations = {
      {"core", kCoreMigrationSql},
      {"alerts", kAlertsMigrationSql},
      // Maintained aggregates and FTS5 search for the CLI; the SQL and the refresh that folds
      // new reviews in are in db/query_index.h/.cpp.
      {"cli", query_index_migration_sql()},
      {"ingest", ingest_migration_sql()},
      {"removed", removed_migration_sql()},
      {"sentiment", kSentimentMigrationSql},
      {"health", kHealthMigrationSql},
  };
  return migrations;
}

Database open_store(const std::filesystem::path& path) {
  Database db = Database::open(path);
  // A first sync can write a million reviews in one transaction: a page cache of up to 64 MiB
  // (allocated as used) keeps the indexes' pages in memory instead of re-reading them.
  db.exec("PRAGMA cache_size=-65536");
  // A multi-row INSERT (upsert_many()) keeps a statement journal; in memory, not a temp file.
  db.exec("PRAGMA temp_store=MEMORY");
  db.migrate(schema_migrations());
  return db;
}

// ---- helpers ----------------------------------------------------------------------------

namespace {

// Resets a cached statement when leaving scope, whatever happened, so that no statement stays
// active (holding a read snapshot) and the next use starts clean.
class Use {
 public:
  explicit Use(Statement& st) : st_(st) {}
  ~Use() { st_.reset(); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  Statement* operator->() { return &st_; }
  Statement& operator*() { return st_; }

 private:
  Statement& st_;
};

// Binds text without copying it: the caller keeps `text` alive until the statement is reset.
void bind_static(Statement& st, int index, std::string_view text) {
  if (sqlite3_bind_text64(st.handle(), index, text.data(), text.size(), SQLITE_STATIC,
                          SQLITE_UTF8) != SQLITE_OK)
    throw DbError("bind text: " + std::string(sqlite3_errmsg(sqlite3_db_handle(st.handle()))));
}

void bind_opt(Statement& st, int index, const std::optional<double>& v) {
  if (v)
    st.bind(index, *v);
  else
    st.bind_null(index);
}

void bind_opt(Statement& st, int index, const std::optional<int64_t>& v) {
  if (v)
    st.bind(index, *v);
  else
    st.bind_null(index);
}

Label parse_label(std::string_view s) {
  if (s == "negative") return Label::kNegative;
  if (s == "positive") return Label::kPositive;
  return Label::kNeutral;
}

std::vector<Evidence> read_evidence(std::string_view json, std::string_view text, int64_t review_id,
                                    const char* what) {
  if (json.empty()) return {};
  std::optional<std::vector<Evidence>> spans = decode_spans(json, text);
  if (!spans)
    throw DbError("review " + std::to_string(review_id) + ": " + what +
                  ": stored evidence is not a JSON array of [offset, length] spans");
  return std::move(*spans);
}

// Numerical noise from normalization (2.0000000000000004) must not flip the rule.
constexpr double kEpsilon = 1e-9;

// Columns of kSelectReview, in order.
#define REVIEW_COLUMNS \
  "id, " REPWATCH_REVIEW_FIELDS("") ", content_hash, revision, first_seen_at, removed_at"

// The health columns of poll_state (read_poll_state(), from column 11), as "p.<name>".
#define POLL_HEALTH_COLUMNS                                               \
  "p.failing_since, coalesce(p.advice, ''), coalesce(p.warnings, '[]'), " \
  "coalesce(p.warning_count, 0), p.warnings_at, p.last_new_at, coalesce(p.arrivals, '')"

constexpr const char* kSelectAllPollStates =
    "SELECT s.id, p.cursor, s.first_sync_at, p.last_attempt_at, p.last_success_at, "
    "p.last_error, p.last_error_kind, p.last_error_at, p.consecutive_failures, "
    "p.next_poll_at, p.needs_attention, " POLL_HEALTH_COLUMNS
    " FROM sources s LEFT JOIN poll_state p ON p.source_id = s.id ORDER BY s.id";

}  // namespace

// The columns a new review is inserted with (the parameters of bind_review(), with revision 1
// and first_seen_at = last_seen_at), by insert_review and insert_reviews().
#define INSERTED_REVIEW_COLUMNS                                                                  \
  "source_id, external_id, location_id, author, raw_rating, scale, rating, text, language, "     \
  "translated_text, created_at, updated_at, reply_text, reply_at, url, content_hash, revision, " \
  "first_seen_at, last_seen_at, sentiment, label, negative"

constexpr size_t kHitsPerInsert = 32;
// Reviews per statement on the batch path of upsert_many() (x 21 parameters).
constexpr size_t kReviewsPerInsert = 16;
// Parameters of an analyses row (bind_analysis).
constexpr int kAnalysisParams = 10;

// "(?a, ?b, ...), (...)": `rows` groups of `per_row` consecutive parameters, numbered from 1.
std::string values_sql(size_t rows, size_t per_row) {
  std::string sql;
  int p = 1;
  for (size_t i = 0; i < rows; ++i) {
    sql += i ? ", (" : "(";
    for (size_t k = 0; k < per_row; ++k) sql += (k ? ", ?" : "?") + std::to_string(p++);
    sql += ')';
  }
  return sql;
}

struct ReviewStore::Statements {
  explicit Statements(const Database& db)
      : db_(db),
        find_key(db.prepare(
            "SELECT id, content_hash, revision, removed_at IS NOT NULL FROM reviews WHERE "
            "source_id = ?1 AND external_id = ?2")),
        // Parameters shared by insert_review and update_review (see bind_review()).
        insert_review(
            db.prepare("INSERT INTO reviews(" INSERTED_REVIEW_COLUMNS
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                       "?14, ?15, ?16, 1, ?17, ?17, ?18, ?19, ?20) "
                       "ON CONFLICT(source_id, external_id) DO NOTHING")),
        update_review(db.prepare(
            "UPDATE reviews SET location_id = ?3, author = ?4, raw_rating = ?5, scale = ?6, "
            "rating = ?7, text = ?8, language = ?9, translated_text = ?10, created_at = ?11, "
            "updated_at = ?12, reply_text = ?13, reply_at = ?14, url = ?15, content_hash = ?16, "
            "revision = revision + 1, last_seen_at = ?17, sentiment = ?18, label = ?19, "
            "negative = ?20, removed_at = NULL WHERE id = ?21")),
        touch_review(db.prepare("UPDATE reviews SET last_seen_at = ?2 WHERE id = ?1")),
        restore_review(
            db.prepare("UPDATE reviews SET last_seen_at = ?2, removed_at = NULL WHERE id = ?1")),
        listed_ids(
            db.prepare("SELECT id FROM reviews WHERE source_id = ?1 AND removed_at IS NULL")),
        set_removed(db.prepare("UPDATE reviews SET removed_at = ?2 WHERE id = ?1")),
        copy_revision(db.prepare(
            "INSERT INTO review_revisions(review_id, revision, location_id, author, raw_rating, "
            "scale, rating, text, language, translated_text, created_at, updated_at, reply_text, "
            "reply_at, url, content_hash, sentiment, label, negative, replaced_at) "
            "SELECT id, revision, location_id, author, raw_rating, scale, rating, text, language, "
            "translated_text, created_at, updated_at, reply_text, reply_at, url, content_hash, "
            "sentiment, label, negative, ?2 FROM reviews WHERE id = ?1")),
        upsert_analysis(db.prepare(
            "INSERT OR REPLACE INTO analyses(review_id, score, label, language, scored, "
            "lexicon_version, analyzed_at, terms, on_translation, taxonomy_version) VALUES (?1, "
            "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")),
        delete_hits(db.prepare("DELETE FROM touchpoint_hits WHERE review_id = ?1")),
        index_hits(db.prepare(query_index_add_hits_sql())),
        update_summary(db.prepare(
            "UPDATE reviews SET sentiment = ?2, label = ?3, negative = CASE WHEN rating IS NOT "
            "NULL THEN rating <= ?4 ELSE ?2 <= ?5 END WHERE id = ?1")),
        select_by_key(db.prepare("SELECT " REVIEW_COLUMNS
                                 " FROM reviews WHERE source_id = ?1 AND external_id = ?2")),
        select_by_id(db.prepare("SELECT " REVIEW_COLUMNS " FROM reviews WHERE id = ?1")),
        select_analysis(db.prepare(
            "SELECT score, label, language, scored, lexicon_version, terms, on_translation, "
            "taxonomy_version FROM analyses WHERE review_id = ?1")),
        select_hits(db.prepare(
            "SELECT touchpoint, score, evidence FROM touchpoint_hits WHERE review_id = ?1 "
            "ORDER BY ord")),
        count_reviews(db.prepare("SELECT count(*) FROM reviews")),
        count_revisions(db.prepare("SELECT count(*) FROM review_revisions WHERE review_id = ?1")),
        upsert_location(db.prepare(
            "INSERT INTO locations(id, name) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET "
            "name = excluded.name WHERE name <> excluded.name")),
        add_location(db.prepare(
            "INSERT INTO locations(id, name) VALUES (?1, ?1) ON CONFLICT(id) DO NOTHING")),
        upsert_source(db.prepare(
            "INSERT INTO sources(id, type, location_id, added_at) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT(id) DO UPDATE SET type = excluded.type, location_id = "
            "excluded.location_id WHERE type <> excluded.type OR location_id <> "
            "excluded.location_id")),
        source_exists(db.prepare("SELECT 1 FROM sources WHERE id = ?1")),
        select_poll_state(db.prepare(
            "SELECT s.id, p.cursor, s.first_sync_at, p.last_attempt_at, p.last_success_at, "
            "p.last_error, p.last_error_kind, p.last_error_at, p.consecutive_failures, "
            "p.next_poll_at, p.needs_attention, " POLL_HEALTH_COLUMNS
            " FROM sources s LEFT JOIN poll_state p ON p.source_id = s.id WHERE s.id = ?1")),
        select_all_poll_states(db.prepare(kSelectAllPollStates)),
        success(db.prepare(
            "INSERT INTO poll_state(source_id, cursor, last_attempt_at, last_success_at, "
            "last_error, last_error_kind, last_error_at, consecutive_failures, next_poll_at, "
            "needs_attention) VALUES (?1, ?2, ?3, ?3, '', '', NULL, 0, ?4, 0) "
            "ON CONFLICT(source_id) DO UPDATE SET cursor = excluded.cursor, last_attempt_at = "
            "excluded.last_attempt_at, last_success_at = excluded.last_success_at, last_error = "
            "'', last_error_kind = '', last_error_at = NULL, consecutive_failures = 0, "
            "next_poll_at = excluded.next_poll_at, needs_attention = 0, failing_since = NULL, "
            "advice = ''")),
        save_cursor(db.prepare("INSERT INTO poll_state(source_id, cursor) VALUES (?1, ?2) "
                               "ON CONFLICT(source_id) DO UPDATE SET cursor = excluded.cursor")),
        first_sync(db.prepare(
            "UPDATE sources SET first_sync_at = ?2 WHERE id = ?1 AND first_sync_at IS NULL")),
        failure(db.prepare(
            "INSERT INTO poll_state(source_id, cursor, last_attempt_at, last_error, "
            "last_error_kind, last_error_at, consecutive_failures, next_poll_at, "
            "needs_attention, failing_since, advice) VALUES (?1, '', ?2, ?3, ?4, ?2, 1, ?5, ?6, "
            "?2, ?7) "
            "ON CONFLICT(source_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at, "
            "last_error = excluded.last_error, last_error_kind = excluded.last_error_kind, "
            "last_error_at = excluded.last_error_at, consecutive_failures = "
            "consecutive_failures + 1, next_poll_at = excluded.next_poll_at, needs_attention = "
            "needs_attention OR excluded.needs_attention, failing_since = "
            "coalesce(failing_since, excluded.failing_since), advice = excluded.advice")),
        warnings(
            db.prepare("UPDATE poll_state SET warnings = ?2, warning_count = ?3, warnings_at = ?4 "
                       "WHERE source_id = ?1")),
        arrival(db.prepare(
            "UPDATE poll_state SET last_new_at = ?2, arrivals = ?3 WHERE source_id = ?1")) {}

  const Database& db_;
  std::array<std::optional<Statement>, kHitsPerInsert> insert_hits_;
  std::array<std::optional<Statement>, kReviewsPerInsert> find_keys_, insert_reviews_,
      insert_analyses_;
  Statement find_key, insert_review, update_review, touch_review, restore_review, listed_ids,
      set_removed, copy_revision, upsert_analysis, delete_hits, index_hits, update_summary,
      select_by_key, select_by_id, select_analysis, select_hits, count_reviews, count_revisions,
      upsert_location, add_location, upsert_source, source_exists, select_poll_state,
      select_all_poll_states, success, save_cursor, first_sync, failure, warnings, arrival;
  Statement max_id = db_.prepare("SELECT coalesce(max(id), 0) FROM reviews");
  Statement any_review = db_.prepare("SELECT 1 FROM reviews WHERE source_id = ?1 LIMIT 1");
  Statement count_source_reviews = db_.prepare(
      "SELECT count(*) FROM reviews WHERE source_id = ?1 AND (?2 OR removed_at IS NULL)");
  std::string spans;  // reused for every evidence array
  // Per review of an upsert_batch(): its content hash, scale column and terms.
  std::vector<std::string> review_hashes, review_scales, term_spans;
  struct Hit {
    int64_t review_id;
    int64_t ord;
    const TouchpointResult* result;
  };
  std::vector<Hit> hits;               // to be written by write_hits()
  std::vector<std::string> hit_spans;  // the same for the hits of one insert_hits() statement
  std::string scale_text;              // the scale column of `scale` (to_string() of every review
  RatingScale scale = RatingScale::none();  // of a poll would format the same numbers again)
  const std::string& scale_column(const RatingScale& s) {
    if (scale_text.empty() || s != scale) {
      scale = s;
      scale_text = s.to_string();
    }
    return scale_text;
  }

  // Statements for n rows (1 <= n <= the array's size), prepared when first needed.
  // touchpoint_hits: OR IGNORE because ord is unique by construction, and a statement that
  // cannot abort halfway needs no statement journal.
  Statement& insert_hits(size_t n) {
    return cached(insert_hits_, n, [](size_t rows) {
      return "INSERT OR IGNORE INTO touchpoint_hits(review_id, ord, touchpoint, score, evidence) "
             "VALUES " +
             values_sql(rows, 5);
    });
  }
  // The reviews of upsert_many() with the explicit ids it chose: row i is ?(21i+1) = id, then
  // the 20 parameters of bind_review() from ?(21i+2).
  Statement& insert_reviews(size_t n) {
    return cached(insert_reviews_, n, [](size_t rows) {
      std::string sql = "INSERT INTO reviews(id, " INSERTED_REVIEW_COLUMNS ") VALUES ";
      for (size_t i = 0; i < rows; ++i) {
        const size_t b = i * 21 + 1;
        sql += i ? ", (?" : "(?";
        sql += std::to_string(b);
        for (size_t k = 1; k <= 16; ++k) sql += ", ?" + std::to_string(b + k);
        sql += ", 1, ?" + std::to_string(b + 17) + ", ?" + std::to_string(b + 17);
        for (size_t k = 18; k <= 20; ++k) sql += ", ?" + std::to_string(b + k);
        sql += ')';
      }
      return sql;
    });
  }
  // Their analyses: kAnalysisParams parameters per row, as upsert_analysis.
  Statement& insert_analyses(size_t n) {
    return cached(insert_analyses_, n, [](size_t rows) {
      return "INSERT INTO analyses(review_id, score, label, language, scored, lexicon_version, "
             "analyzed_at, terms, on_translation, taxonomy_version) VALUES " +
             values_sql(rows, kAnalysisParams);
    });
  }
  // Writes and clears `hits`, up to kHitsPerInsert rows per statement.
  void write_hits() {
    struct Clear {
      std::vector<Hit>& v;
      ~Clear() { v.clear(); }
    } clear{hits};
    for (size_t first = 0; first < hits.size(); first += kHitsPerInsert) {
      const size_t n = std::min(kHitsPerInsert, hits.size() - first);
      Use st(insert_hits(n));
      hit_spans.resize(n);
      for (size_t i = 0; i < n; ++i) {
        const Hit& h = hits[first + i];
        const int p = static_cast<int>(i) * 5;
        encode_spans(h.result->evidence, hit_spans[i]);
        st->bind(p + 1, h.review_id).bind(p + 2, h.ord);
        bind_static(*st, p + 3, h.result->touchpoint);
        st->bind(p + 4, h.result->score);
        bind_static(*st, p + 5, hit_spans[i]);
      }
      st->step();
    }
  }
  // Which of n external ids (?2..?(n+1)) of source ?1 are stored.
  Statement& find_keys(size_t n) {
    return cached(find_keys_, n, [](size_t rows) {
      std::string sql = "SELECT external_id FROM reviews WHERE source_id = ?1 AND external_id IN (";
      for (size_t i = 0; i < rows; ++i) sql += (i ? ", ?" : "?") + std::to_string(i + 2);
      return sql + ")";
    });
  }

 private:
  template <size_t N, typename MakeSql>
  Statement& cached(std::array<std::optional<Statement>, N>& cache, size_t n, MakeSql make_sql) {
    std::optional<Statement>& st = cache.at(n - 1);
    if (!st) st.emplace(db_.prepare(make_sql(n)));
    return *st;
  }
};

namespace {

// Binds ?(base+1)..?(base+20) of insert_review / update_review / insert_reviews(). Text is
// bound without copying: `review`, `hash` and `scale` must outlive the step.
void bind_review(Statement& st, int base, const Review& r, std::string_view hash,
                 std::string_view scale, int64_t now, const Analysis& a, bool negative) {
  bind_static(st, base + 1, r.source_id);
  bind_static(st, base + 2, r.external_id);
  bind_static(st, base + 3, r.location_id);
  bind_static(st, base + 4, r.author);
  bind_opt(st, base + 5, r.raw_rating);
  bind_static(st, base + 6, scale);
  bind_opt(st, base + 7, r.rating);
  bind_static(st, base + 8, r.text);
  bind_static(st, base + 9, r.language);
  bind_static(st, base + 10, r.translated_text);
  st.bind(base + 11, r.created_at);
  st.bind(base + 12, r.updated_at);
  bind_static(st, base + 13, r.reply_text);
  bind_opt(st, base + 14, r.reply_at);
  bind_static(st, base + 15, r.url);
  bind_static(st, base + 16, hash);
  st.bind(base + 17, now);
  st.bind(base + 18, a.score);
  bind_static(st, base + 19, to_string(a.label));
  st.bind(base + 20, int64_t{negative ? 1 : 0});
}

// Binds the kAnalysisParams parameters of an analyses row from ?(base+1); `terms` as
// encode_spans() wrote it.
void bind_analysis(Statement& st, int base, int64_t review_id, const Analysis& a, int64_t now,
                   std::string_view terms) {
  st.bind(base + 1, review_id).bind(base + 2, a.score);
  bind_static(st, base + 3, to_string(a.label));
  bind_static(st, base + 4, a.language);
  st.bind(base + 5, int64_t{a.scored ? 1 : 0});
  bind_static(st, base + 6, a.lexicon_version);
  st.bind(base + 7, now);
  bind_static(st, base + 8, terms);
  st.bind(base + 9, int64_t{a.on_translation ? 1 : 0});
  bind_static(st, base + 10, a.taxonomy_version);
}

// Reads a row of REVIEW_COLUMNS.
StoredReview read_review(const Statement& st) {
  StoredReview s;
  s.id = st.column_int(0);
  detail::read_review_fields(st, 1, s.id, s.review);
  constexpr int kNext = 1 + detail::kReviewFieldCount;
  s.content_hash = st.column_text(kNext);
  s.revision = static_cast<int>(st.column_int(kNext + 1));
  s.first_seen_at = st.column_int(kNext + 2);
  s.removed_at = st.column_opt_int(kNext + 3);
  return s;
}

// poll_state.warnings: [{"where": ..., "message": ...}]. Unreadable JSON reads as none: it is
// a display aid, never worth failing a poll over.
std::string encode_warnings(const std::vector<Problem>& problems) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (size_t i = 0; i < problems.size() && i < kMaxStoredWarnings; ++i) {
    w.StartObject();
    w.Key("where");
    w.String(problems[i].where.c_str(), static_cast<rapidjson::SizeType>(problems[i].where.size()));
    w.Key("message");
    w.String(problems[i].message.c_str(),
             static_cast<rapidjson::SizeType>(problems[i].message.size()));
    w.EndObject();
  }
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

std::vector<Problem> decode_warnings(std::string_view json) {
  std::vector<Problem> out;
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsArray()) return out;
  for (const auto& v : d.GetArray()) {
    if (!v.IsObject()) continue;
    Problem p;
    if (auto it = v.FindMember("where"); it != v.MemberEnd() && it->value.IsString())
      p.where = it->value.GetString();
    if (auto it = v.FindMember("message"); it != v.MemberEnd() && it->value.IsString())
      p.message = it->value.GetString();
    out.push_back(std::move(p));
  }
  return out;
}

// poll_state.arrivals: "1767225600,1767139200" (newest first); anything else is skipped.
std::vector<int64_t> decode_arrivals(std::string_view text) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + comma, v);
    if (ec == std::errc() && end == text.data() + comma) out.push_back(v);
    pos = comma + 1;
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

// poll_state.last_error_kind: "" while healthy, else to_string(SourceError::Kind). Anything else
// was written by another program (or a newer repwatch) and is named, not guessed at.
std::optional<SourceError::Kind> read_error_kind(const std::string& source_id,
                                                 const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (auto kind = parse_source_error_kind(text)) return kind;
  throw DbError("poll_state of source \"" + source_id + "\": last_error_kind \"" + text +
                "\" is not one of transient, auth, garbage, config, unavailable");
}

PollState read_poll_state(const Statement& st) {
  PollState p;
  p.source_id = st.column_text(0);
  p.cursor = st.column_text(1);
  p.first_sync_at = st.column_opt_int(2);
  p.last_attempt_at = st.column_opt_int(3);
  p.last_success_at = st.column_opt_int(4);
  p.last_error = st.column_text(5);
  p.last_error_kind = read_error_kind(p.source_id, st.column_text(6));
  p.last_error_at = st.column_opt_int(7);
  p.consecutive_failures = static_cast<int>(st.column_int(8));
  p.next_poll_at = st.column_opt_int(9);
  p.needs_attention = st.column_int(10) != 0;
  p.failing_since = st.column_opt_int(11);
  p.advice = st.column_text(12);
  p.warnings = decode_warnings(st.column_text(13));
  p.warning_count = static_cast<int>(st.column_int(14));
  p.warnings_at = st.column_opt_int(15);
  p.last_new_at = st.column_opt_int(16);
  p.arrivals = decode_arrivals(st.column_text(17));
  return p;
}

}  // namespace

// ---- ReviewStore ------------------------------------------------------------------------

ReviewStore::ReviewStore(const Database& db, NegativeRule negative)
    : db_(db), negative_(negative), st_(std::make_unique<Statements>(db)) {}

ReviewStore::~ReviewStore() = default;

void ReviewStore::ensure_location(const std::string& id, const std::string& name) {
  Use st(st_->upsert_location);
  st->bind(1, id).bind(2, name);
  st->run();
}

void ReviewStore::ensure_location_id(const std::string& id) {
  Use st(st_->add_location);
  st->bind(1, id);
  st->run();
}

void ReviewStore::ensure_source(const std::string& id, const std::string& type,
                                const std::string& location_id, int64_t now) {
  // A location the daemon has not registered by name yet is named by its id.
  ensure_location_id(location_id);
  Use st(st_->upsert_source);
  st->bind(1, id).bind(2, type).bind(3, location_id).bind(4, now);
  st->run();
}

UpsertResult ReviewStore::upsert(const Review& review, const Analysis& analysis, int64_t now) {
  if (review.source_id.empty() || review.external_id.empty())
    throw DbError("cannot store a review without source id and external id (source \"" +
                  review.source_id + "\", external id \"" + review.external_id + "\")");
  try {
    return upsert_review(review, analysis, now);
  } catch (const DbError& e) {
    throw DbError("storing review \"" + review.external_id + "\" of source \"" + review.source_id +
                      "\": " + e.what(),
                  e.code());
  }
}

UpsertResult ReviewStore::upsert_review(const Review& review, const Analysis& analysis,
                                        int64_t now) {
  const std::string hash = content_hash(review);
  const bool negative = negative_.is_negative(review.rating, analysis.score);
  UpsertResult result;

  // Insert first: on a first sync (the bulk of all work) that is the only lookup. A review
  // already stored is a conflict that inserts nothing.
  {
    Use st(st_->insert_review);
    bind_review(*st, 0, review, hash, st_->scale_column(review.scale), now, analysis, negative);
    st->step();
    if (db_.changes() > 0) {
      result.outcome = UpsertOutcome::kInserted;
      result.review_id = db_.last_insert_rowid();
      result.revision = 1;
      write_analysis(result.review_id, analysis, now, false);
      return result;
    }
  }

  int64_t id = 0;
  {
    Use st(st_->find_key);
    bind_static(*st, 1, review.source_id);
    bind_static(*st, 2, review.external_id);
    if (!st->step()) throw DbError("the review was neither inserted nor found");
    id = st->column_int(0);
    result.review_id = id;
    result.revision = static_cast<int>(st->column_int(2));
    result.outcome =
        st->column_view(1) == hash ? UpsertOutcome::kUnchanged : UpsertOutcome::kEdited;
    result.restored = st->column_int(3) != 0;  // update_review clears removed_at too
  }
  if (result.outcome == UpsertOutcome::kUnchanged) {
    Use st(result.restored ? st_->restore_review : st_->touch_review);
    st->bind(1, id).bind(2, now);
    st->step();
    return result;
  }

  // An edit: keep the replaced version (and its analysis) for the caller and the history.
  std::optional<StoredReview> old = get(id);
  if (!old) throw DbError("review " + std::to_string(id) + " vanished during upsert");
  {
    Use st(st_->copy_revision);
    st->bind(1, id).bind(2, now);
    st->step();
  }
  {
    Use st(st_->update_review);
    bind_review(*st, 0, review, hash, st_->scale_column(review.scale), now, analysis, negative);
    st->bind(21, id);
    st->step();
  }
  result.revision = old->revision + 1;
  result.previous = std::move(old->review);
  result.previous_analysis = std::move(old->analysis);
  write_analysis(id, analysis, now, true);
  return result;
}

// State of one upsert_many() call across its batches.
struct ReviewStore::Batch {
  const std::string* source = nullptr;  // of the first review
  bool fresh = false;                   // nothing of `source` was stored before the call
  std::unordered_set<std::string_view> stored_keys;  // if fresh: its external ids stored since
  // Whether stored_keys are all the stored keys of `source_id`.
  bool knows(const std::string& source_id) const { return fresh && source_id == *source; }
};

std::vector<UpsertResult> ReviewStore::upsert_many(std::span<const Review> reviews,
                                                   std::span<const Analysis> analyses,
                                                   int64_t now) {
  if (reviews.size() != analyses.size())
    throw DbError("upsert_many: " + std::to_string(analyses.size()) + " analyses for " +
                  std::to_string(reviews.size()) + " reviews");
  std::vector<UpsertResult> results(reviews.size());
  if (reviews.empty()) return results;

  // A source with nothing stored (a first sync, the bulk of all work) needs no lookups: what
  // it has stored is what this call stored so far.
  Batch batch;
  batch.source = &reviews[0].source_id;
  if (!batch.source->empty()) {
    Use st(st_->any_review);
    bind_static(*st, 1, *batch.source);
    if (!st->step()) {
      batch.fresh = true;
      batch.stored_keys.reserve(reviews.size());
    }
  }
  for (size_t first = 0; first < reviews.size(); first += kReviewsPerInsert) {
    const size_t n = std::min(kReviewsPerInsert, reviews.size() - first);
    upsert_batch(batch, reviews.subspan(first, n), analyses.subspan(first, n), now,
                 std::span(results).subspan(first, n));
  }
  return results;
}

void ReviewStore::upsert_batch(Batch& batch, std::span<const Review> reviews,
                               std::span<const Analysis> analyses, int64_t now,
                               std::span<UpsertResult> results) {
  // One source, no external id twice: otherwise (never in one poll of a connector, but the
  // API allows it) the reviews go one by one, where a repeat is an edit of the first.
  const std::string& source_id = reviews[0].source_id;
  bool simple = true;
  for (size_t i = 0; i < reviews.size() && simple; ++i) {
    const Review& r = reviews[i];
    if (r.source_id.empty() || r.external_id.empty() || r.source_id != source_id) simple = false;
    for (size_t j = 0; j < i && simple; ++j)
      if (reviews[j].external_id == r.external_id) simple = false;
  }
  const bool first_sync = batch.knows(source_id);
  if (!simple) {
    for (size_t i = 0; i < reviews.size(); ++i) {
      results[i] = upsert(reviews[i], analyses[i], now);
      if (batch.knows(reviews[i].source_id)) batch.stored_keys.insert(reviews[i].external_id);
    }
    return;
  }

  // Which are stored already (they take the one-by-one path: unchanged or edited).
  std::array<bool, kReviewsPerInsert> stored{};
  if (first_sync) {
    for (size_t i = 0; i < reviews.size(); ++i)
      stored[i] = !batch.stored_keys.insert(reviews[i].external_id).second;
  } else {
    Use st(st_->find_keys(reviews.size()));
    bind_static(*st, 1, source_id);
    for (size_t i = 0; i < reviews.size(); ++i)
      bind_static(*st, static_cast<int>(i) + 2, reviews[i].external_id);
    while (st->step()) {
      const std::string_view key = st->column_view(0);
      for (size_t i = 0; i < reviews.size(); ++i)
        if (reviews[i].external_id == key) stored[i] = true;
    }
  }
  size_t n_new = 0;
  for (size_t i = 0; i < reviews.size(); ++i) n_new += !stored[i];

  if (n_new > 0) {
    // The new ones in one INSERT per table, with ids chosen here as SQLite would (max + 1), so
    // that their analyses and hits can be written without a round trip per review.
    int64_t id;
    {
      Use st(st_->max_id);
      st->step();
      id = st->column_int(0) + 1;
    }
    st_->review_hashes.resize(reviews.size());
    st_->review_scales.resize(reviews.size());
    st_->term_spans.resize(reviews.size());
    for (size_t i = 0; i < reviews.size(); ++i) {
      if (stored[i]) continue;
      const Review& r = reviews[i];
      st_->review_hashes[i] = content_hash(r);
      st_->review_scales[i] = st_->scale_column(r.scale);  // short: no allocation
      results[i].outcome = UpsertOutcome::kInserted;
      results[i].review_id = id++;
      results[i].revision = 1;
    }
    try {
      {
        Use st(st_->insert_reviews(n_new));
        int row = 0;
        for (size_t i = 0; i < reviews.size(); ++i) {
          if (stored[i]) continue;
          const int b = row++ * 21;
          st->bind(b + 1, results[i].review_id);
          bind_review(*st, b + 1, reviews[i], st_->review_hashes[i], st_->review_scales[i], now,
                      analyses[i], negative_.is_negative(reviews[i].rating, analyses[i].score));
        }
        st->step();
      }
      {
        Use st(st_->insert_analyses(n_new));
        int row = 0;
        for (size_t i = 0; i < reviews.size(); ++i) {
          if (stored[i]) continue;
          encode_spans(analyses[i].terms, st_->term_spans[i]);
          bind_analysis(*st, row++ * kAnalysisParams, results[i].review_id, analyses[i], now,
                        st_->term_spans[i]);
        }
        st->step();
      }
      for (size_t i = 0; i < reviews.size(); ++i) {
        if (stored[i]) continue;
        const auto& tps = analyses[i].touchpoints;
        for (size_t k = 0; k < tps.size(); ++k)
          st_->hits.push_back({results[i].review_id, static_cast<int64_t>(k), &tps[k]});
      }
      st_->write_hits();
    } catch (const DbError& e) {
      size_t first = 0, last = reviews.size() - 1;
      while (stored[first]) ++first;
      while (stored[last]) --last;
      throw DbError("storing " + std::to_string(n_new) + " new reviews of source \"" + source_id +
                        "\" (external ids \"" + reviews[first].external_id + "\" to \"" +
                        reviews[last].external_id + "\"): " + e.what(),
                    e.code());
    }
  }
  for (size_t i = 0; i < reviews.size(); ++i)
    if (stored[i]) results[i] = upsert(reviews[i], analyses[i], now);
}

void ReviewStore::write_analysis(int64_t review_id, const Analysis& analysis, int64_t now,
                                 bool replace_hits) {
  if (replace_hits) {
    Use st(st_->delete_hits);
    st->bind(1, review_id);
    st->step();
  }
  {
    Use st(st_->upsert_analysis);
    encode_spans(analysis.terms, st_->spans);
    bind_analysis(*st, 0, review_id, analysis, now, st_->spans);
    st->step();
  }
  // All hits of the review in one statement: a statement execution costs about as much as the
  // row it writes.
  for (size_t i = 0; i < analysis.touchpoints.size(); ++i)
    st_->hits.push_back({review_id, static_cast<int64_t>(i), &analysis.touchpoints[i]});
  st_->write_hits();
  if (replace_hits && !analysis.touchpoints.empty()) {
    Use st(st_->index_hits);
    st->bind(1, review_id);
    st->step();
  }
}

void ReviewStore::save_analysis(int64_t review_id, const Analysis& analysis, int64_t now) {
  {
    Use st(st_->update_summary);
    st->bind(1, review_id).bind(2, analysis.score);
    bind_static(*st, 3, to_string(analysis.label));
    st->bind(4, negative_.max_rating + kEpsilon).bind(5, negative_.max_sentiment + kEpsilon);
    st->step();
    if (db_.changes() == 0)
      throw DbError("save_analysis: no review with id " + std::to_string(review_id));
  }
  write_analysis(review_id, analysis, now, true);
}

std::optional<StoredReview> ReviewStore::find(const std::string& source_id,
                                              const std::string& external_id) const {
  int64_t id;
  {
    Use st(st_->find_key);
    st->bind(1, source_id).bind(2, external_id);
    if (!st->step()) return std::nullopt;
    id = st->column_int(0);
  }
  return get(id);
}

std::optional<StoredReview> ReviewStore::get(int64_t review_id) const {
  std::optional<StoredReview> s;
  {
    Use st(st_->select_by_id);
    st->bind(1, review_id);
    if (!st->step()) return std::nullopt;
    s = read_review(*st);
  }
  {
    Use st(st_->select_analysis);
    st->bind(1, review_id);
    if (st->step()) {
      Analysis& a = s->analysis;
      a.score = st->column_double(0);
      a.label = parse_label(st->column_view(1));
      a.language = st->column_text(2);
      a.scored = st->column_int(3) != 0;
      a.lexicon_version = st->column_text(4);
      a.on_translation = st->column_int(6) != 0;
      a.terms = read_evidence(st->column_view(5), analyzed_text(s->review, a), review_id, "terms");
      a.taxonomy_version = st->column_text(7);
    }
  }
  Use st(st_->select_hits);
  st->bind(1, review_id);
  while (st->step()) {
    TouchpointResult t;
    t.touchpoint = st->column_text(0);
    t.score = st->column_double(1);
    t.evidence = read_evidence(st->column_view(2), analyzed_text(s->review, s->analysis), review_id,
                               t.touchpoint.c_str());
    s->analysis.touchpoints.push_back(std::move(t));
  }
  return s;
}

int64_t ReviewStore::count_reviews() const {
  Use st(st_->count_reviews);
  st->step();
  return st->column_int(0);
}

int64_t ReviewStore::count_reviews(const std::string& source_id, bool include_removed) const {
  Use st(st_->count_source_reviews);
  st->bind(1, source_id).bind(2, int64_t{include_removed ? 1 : 0});
  st->step();
  return st->column_int(0);
}

bool ReviewStore::has_reviews(const std::string& source_id) const {
  Use st(st_->any_review);
  st->bind(1, source_id);
  return st->step();
}

int ReviewStore::count_revisions(int64_t review_id) const {
  Use st(st_->count_revisions);
  st->bind(1, review_id);
  st->step();
  return static_cast<int>(st->column_int(0));
}

std::vector<int64_t> ReviewStore::mark_removed(const std::string& source_id,
                                               std::vector<int64_t> listed, int64_t now) {
  std::sort(listed.begin(), listed.end());
  std::vector<int64_t> missing;
  {
    Use st(st_->listed_ids);
    st->bind(1, source_id);
    while (st->step()) {
      const int64_t id = st->column_int(0);
      if (!std::binary_search(listed.begin(), listed.end(), id)) missing.push_back(id);
    }
  }
  std::sort(missing.begin(), missing.end());
  for (int64_t id : missing) {
    Use st(st_->set_removed);
    st->bind(1, id).bind(2, now);
    st->step();
  }
  return missing;
}

PollState ReviewStore::poll_state(const std::string& source_id) const {
  Use st(st_->select_poll_state);
  st->bind(1, source_id);
  if (!st->step()) {
    PollState p;
    p.source_id = source_id;
    return p;
  }
  return read_poll_state(*st);
}

std::vector<PollState> read_poll_states(const Database& db) {
  std::vector<PollState> out;
  Statement st = db.prepare(kSelectAllPollStates);
  while (st.step()) out.push_back(read_poll_state(st));
  return out;
}

std::vector<PollState> ReviewStore::all_poll_states() const {
  std::vector<PollState> out;
  Use st(st_->select_all_poll_states);
  while (st->step()) out.push_back(read_poll_state(*st));
  return out;
}

namespace {

void require_source(Statement& exists, const std::string& source_id, const char* what) {
  Use st(exists);
  st->bind(1, source_id);
  if (!st->step())
    throw DbError(std::string(what) + ": unknown source \"" + source_id +
                  "\" (register it with ensure_source first)");
}

}  // namespace

void ReviewStore::save_cursor(const std::string& source_id, const std::string& cursor) {
  require_source(st_->source_exists, source_id, "save_cursor");
  Use st(st_->save_cursor);
  st->bind(1, source_id).bind(2, cursor);
  st->step();
}

void ReviewStore::record_success(const std::string& source_id, const std::string& cursor,
                                 int64_t now, std::optional<int64_t> next_poll_at) {
  require_source(st_->source_exists, source_id, "record_success");
  {
    Use st(st_->success);
    st->bind(1, source_id).bind(2, cursor).bind(3, now);
    bind_opt(*st, 4, next_poll_at);
    st->step();
  }
  Use st(st_->first_sync);
  st->bind(1, source_id).bind(2, now);
  st->step();
}

void ReviewStore::record_failure(const std::string& source_id, const PollFailure& failure,
                                 int64_t now) {
  require_source(st_->source_exists, source_id, "record_failure");
  Use st(st_->failure);
  st->bind(1, source_id).bind(2, now).bind(3, failure.message).bind(4, to_string(failure.kind));
  bind_opt(*st, 5, failure.next_poll_at);
  st->bind(6, int64_t{failure.needs_attention ? 1 : 0});
  st->bind(7, failure.advice);
  st->step();
}

void ReviewStore::record_health(const std::string& source_id, const std::vector<Problem>& problems,
                                int new_reviews, int64_t now) {
  if (!problems.empty()) {
    Use st(st_->warnings);
    st->bind(1, source_id)
        .bind(2, encode_warnings(problems))
        .bind(3, static_cast<int64_t>(problems.size()))
        .bind(4, now);
    st->step();
  }
  if (new_reviews > 0) {
    std::vector<int64_t> arrivals = poll_state(source_id).arrivals;
    if (arrivals.empty() || arrivals.front() != now) arrivals.insert(arrivals.begin(), now);
    if (arrivals.size() > kMaxStoredArrivals) arrivals.resize(kMaxStoredArrivals);
    std::string text;
    for (int64_t t : arrivals) text += (text.empty() ? "" : ",") + std::to_string(t);
    Use st(st_->arrival);
    st->bind(1, source_id).bind(2, now).bind(3, text);
    st->step();
  }
}

}  // namespace repwatch::db
