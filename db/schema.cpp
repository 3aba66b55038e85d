// repwatch/db/schema.cpp - the store's schema: every migration, in order, and open_store().
#include <string>
#include <vector>

#include "db/query_index.h"
#include "db/store.h"

namespace repwatch::db {

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

// Every connection of the store's: a first sync writes 10,000 reviews per transaction, and a
// page cache of up to 64 MiB (allocated as used) keeps the indexes' pages in memory instead of
// re-reading them; a multi-row INSERT (upsert_many()) keeps a statement journal, in memory
// rather than a temporary file.
constexpr const char* kConnectionSettings = "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY";

// The time indexes as the migrations ("core" and "cli") created them; db_store_test checks
// that these are the same, word for word, as what a freshly migrated store holds. A store
// whose import was cut short meets the migrations without them (open_store() builds them
// after migrating): a new migration that changes one of them says IF EXISTS, and changes it
// here too.
constexpr const char* kTimeIndexes[][2] = {
    {"reviews_by_created", "reviews(created_at)"},
    {"reviews_by_location", "reviews(location_id, created_at)"},
    {"reviews_by_source", "reviews(source_id, created_at)"},
    {"reviews_unanswered_negative",
     "reviews(created_at)\n  WHERE negative = 1 AND reply_text = ''"},
};

}  // namespace

void drop_time_indexes(const Database& db) {
  std::string sql;
  for (const auto& [name, on] : kTimeIndexes)
    sql += std::string("DROP INDEX IF EXISTS ") + name + ";";
  Transaction tx(db);  // all four or none
  db.exec(sql);
  tx.commit();
}

void build_time_indexes(const Database& db) {
  std::string names;
  for (const auto& [name, on] : kTimeIndexes)
    names += std::string(names.empty() ? "'" : ", '") + name + "'";
  Statement present = db.prepare(
      "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN (" + names + ")");
  if (present.step() && present.column_int(0) == std::ssize(kTimeIndexes)) return;
  present.reset();
  // Sorting a million rows takes tens of MB: in a temporary file (deleted as it is opened)
  // instead of the memory temp_store=MEMORY gives it, and with a 4 MiB page cache meanwhile (the
  // sort takes as much memory as the cache may): at a million reviews the build then adds
  // nothing to the import's peak, where the usual 64 MiB took it from 140 to 161 MB.
  struct Settings {
    const Database& db;
    explicit Settings(const Database& d) : db(d) {
      db.exec("PRAGMA temp_store=FILE; PRAGMA cache_size=-4096");
    }
    ~Settings() {
      try {
        db.exec(kConnectionSettings);
      } catch (...) {  // the connection is unusable anyway; its next statement says why
      }
    }
  } settings(db);
  std::string sql;
  for (const auto& [name, on] : kTimeIndexes)
    sql += std::string("CREATE INDEX IF NOT EXISTS ") + name + " ON " + on + ";";
  Transaction tx(db);
  db.exec(sql);
  tx.commit();
}

int64_t highest_review_id(const Database& db) {
  Statement st = db.prepare("SELECT coalesce(max(id), 0) FROM reviews");
  return st.step() ? st.column_int(0) : 0;
}

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
  db.exec(kConnectionSettings);
  db.migrate(schema_migrations());
  build_time_indexes(db);
  return db;
}
}  // namespace repwatch::db
