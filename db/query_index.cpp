#include "db/query_index.h"

#include <algorithm>
#include <string>

namespace repwatch::db {

// Upsert tails shared by the statements below: adding a row of deltas to an aggregate.
#define REVIEW_DAILY_ADD                                                                     \
  " ON CONFLICT(day, source_id, location_id) DO UPDATE SET reviews = reviews + "             \
  "excluded.reviews, rated = rated + excluded.rated, rating_sum = rating_sum + "             \
  "excluded.rating_sum, sentiment_sum = sentiment_sum + excluded.sentiment_sum, negative = " \
  "negative + excluded.negative"
#define TOUCHPOINT_DAILY_ADD                                                                   \
  " ON CONFLICT(touchpoint, day, source_id, location_id) DO UPDATE SET mentions = mentions + " \
  "excluded.mentions, negative_mentions = negative_mentions + excluded.negative_mentions, "    \
  "score_sum = score_sum + excluded.score_sum, rated = rated + excluded.rated, rating_sum = "  \
  "rating_sum + excluded.rating_sum"
#define INDEXED(id) " " id " <= (SELECT indexed_upto FROM query_index) "

// The triggers on touchpoint_hits deletes and updates, in the "cli" migration and again in
// "ingest", which rebuilds the table (dropping its triggers with it).
const char* query_index_hit_triggers_sql() {
  // clang-format off
  return R"sql(
CREATE TRIGGER query_index_hit_delete AFTER DELETE ON touchpoint_hits
WHEN)sql" INDEXED("OLD.review_id") R"sql(
BEGIN
  INSERT INTO touchpoint_daily SELECT OLD.touchpoint, created_at / 86400, source_id,
    location_id, -1, -(OLD.score < 0), -OLD.score, -(rating IS NOT NULL), -coalesce(rating, 0)
    FROM reviews WHERE id = OLD.review_id
   )sql" TOUCHPOINT_DAILY_ADD R"sql(;
  DELETE FROM touchpoint_daily WHERE touchpoint = OLD.touchpoint AND mentions = 0
    AND (day, source_id, location_id) IN
      (SELECT created_at / 86400, source_id, location_id FROM reviews WHERE id = OLD.review_id);
END;

CREATE TRIGGER query_index_hit_update AFTER UPDATE OF review_id, touchpoint, score ON touchpoint_hits
WHEN)sql" INDEXED("OLD.review_id") R"sql(OR)sql" INDEXED("NEW.review_id") R"sql(
BEGIN
  INSERT INTO touchpoint_daily SELECT OLD.touchpoint, created_at / 86400, source_id,
    location_id, -1, -(OLD.score < 0), -OLD.score, -(rating IS NOT NULL), -coalesce(rating, 0)
    FROM reviews WHERE id = OLD.review_id AND)sql" INDEXED("OLD.review_id") R"sql(
   )sql" TOUCHPOINT_DAILY_ADD R"sql(;
  INSERT INTO touchpoint_daily SELECT NEW.touchpoint, created_at / 86400, source_id,
    location_id, 1, NEW.score < 0, NEW.score, rating IS NOT NULL, coalesce(rating, 0)
    FROM reviews WHERE id = NEW.review_id AND)sql" INDEXED("NEW.review_id") R"sql(
   )sql" TOUCHPOINT_DAILY_ADD R"sql(;
END;
)sql";
  // clang-format on
}

const char* query_index_migration_sql() {
  // clang-format off
  static const std::string sql = std::string(R"sql(
-- cli: maintained aggregates and full-text search for the managers' queries (db/query_index.h).
-- Reviews with id <= query_index.indexed_upto are counted in review_daily / touchpoint_daily
-- and indexed in reviews_fts; refresh_query_index() folds newer ones in, in batches. The
-- triggers keep already-folded reviews right when they are edited, rescored or deleted.
CREATE TABLE query_index (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_upto INTEGER NOT NULL,
  refreshed_at INTEGER
);
INSERT INTO query_index(id, indexed_upto) VALUES (1, 0);

-- Per UTC day (created_at / 86400), source and location.
CREATE TABLE review_daily (
  day           INTEGER NOT NULL,
  source_id     TEXT NOT NULL,
  location_id   TEXT NOT NULL,
  reviews       INTEGER NOT NULL,   -- reviews written that day
  rated         INTEGER NOT NULL,   -- of which with a rating
  rating_sum    REAL NOT NULL,      -- sum of normalized ratings (1..5)
  sentiment_sum REAL NOT NULL,      -- sum of sentiment scores (-1..1)
  negative      INTEGER NOT NULL,   -- reviews with negative = 1
  PRIMARY KEY (day, source_id, location_id)
) WITHOUT ROWID;

-- The same per touchpoint mentioned; rated/rating_sum are those of the mentioning reviews.
CREATE TABLE touchpoint_daily (
  touchpoint        TEXT NOT NULL,
  day               INTEGER NOT NULL,
  source_id         TEXT NOT NULL,
  location_id       TEXT NOT NULL,
  mentions          INTEGER NOT NULL,
  negative_mentions INTEGER NOT NULL, -- touchpoint score below 0
  score_sum         REAL NOT NULL,    -- sum of touchpoint scores (-1..1)
  rated             INTEGER NOT NULL,
  rating_sum        REAL NOT NULL,
  PRIMARY KEY (touchpoint, day, source_id, location_id)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE reviews_fts USING fts5(
  text, content='reviews', content_rowid='id',
  tokenize='porter unicode61 remove_diacritics 2');

-- `repwatch summary`: negative reviews nobody has answered yet.
CREATE INDEX reviews_unanswered_negative ON reviews(created_at)
  WHERE negative = 1 AND reply_text = '';

CREATE TRIGGER query_index_review_update
AFTER UPDATE OF created_at, source_id, location_id, rating, sentiment, negative ON reviews
WHEN)sql" INDEXED("OLD.id") R"sql(AND (OLD.created_at / 86400 IS NOT NEW.created_at / 86400
  OR OLD.source_id IS NOT NEW.source_id OR OLD.location_id IS NOT NEW.location_id
  OR OLD.rating IS NOT NEW.rating OR OLD.sentiment IS NOT NEW.sentiment
  OR OLD.negative IS NOT NEW.negative)
BEGIN
  INSERT INTO review_daily VALUES (OLD.created_at / 86400, OLD.source_id, OLD.location_id, -1,
    -(OLD.rating IS NOT NULL), -coalesce(OLD.rating, 0), -OLD.sentiment, -OLD.negative)
   )sql" REVIEW_DAILY_ADD R"sql(;
  INSERT INTO review_daily VALUES (NEW.created_at / 86400, NEW.source_id, NEW.location_id, 1,
    NEW.rating IS NOT NULL, coalesce(NEW.rating, 0), NEW.sentiment, NEW.negative)
   )sql" REVIEW_DAILY_ADD R"sql(;
  DELETE FROM review_daily WHERE day = OLD.created_at / 86400 AND source_id = OLD.source_id
    AND location_id = OLD.location_id AND reviews = 0;
  INSERT INTO touchpoint_daily SELECT touchpoint, OLD.created_at / 86400, OLD.source_id,
    OLD.location_id, -1, -(score < 0), -score, -(OLD.rating IS NOT NULL), -coalesce(OLD.rating, 0)
    FROM touchpoint_hits WHERE review_id = OLD.id
   )sql" TOUCHPOINT_DAILY_ADD R"sql(;
  INSERT INTO touchpoint_daily SELECT touchpoint, NEW.created_at / 86400, NEW.source_id,
    NEW.location_id, 1, score < 0, score, NEW.rating IS NOT NULL, coalesce(NEW.rating, 0)
    FROM touchpoint_hits WHERE review_id = NEW.id
   )sql" TOUCHPOINT_DAILY_ADD R"sql(;
  DELETE FROM touchpoint_daily WHERE day = OLD.created_at / 86400 AND source_id = OLD.source_id
    AND location_id = OLD.location_id AND mentions = 0
    AND touchpoint IN (SELECT touchpoint FROM touchpoint_hits WHERE review_id = OLD.id);
END;

CREATE TRIGGER query_index_review_delete BEFORE DELETE ON reviews
WHEN)sql" INDEXED("OLD.id") R"sql(
BEGIN
  INSERT INTO review_daily VALUES (OLD.created_at / 86400, OLD.source_id, OLD.location_id, -1,
    -(OLD.rating IS NOT NULL), -coalesce(OLD.rating, 0), -OLD.sentiment, -OLD.negative)
   )sql" REVIEW_DAILY_ADD R"sql(;
  DELETE FROM review_daily WHERE day = OLD.created_at / 86400 AND source_id = OLD.source_id
    AND location_id = OLD.location_id AND reviews = 0;
  -- Its touchpoint hits go too (ON DELETE CASCADE, after the row is gone, when the hit
  -- trigger below no longer finds the review): take them out of the aggregate now.
  INSERT INTO touchpoint_daily SELECT touchpoint, OLD.created_at / 86400, OLD.source_id,
    OLD.location_id, -1, -(score < 0), -score, -(OLD.rating IS NOT NULL), -coalesce(OLD.rating, 0)
    FROM touchpoint_hits WHERE review_id = OLD.id
   )sql" TOUCHPOINT_DAILY_ADD R"sql(;
  DELETE FROM touchpoint_daily WHERE day = OLD.created_at / 86400 AND source_id = OLD.source_id
    AND location_id = OLD.location_id AND mentions = 0
    AND touchpoint IN (SELECT touchpoint FROM touchpoint_hits WHERE review_id = OLD.id);
  INSERT INTO reviews_fts(reviews_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
END;

CREATE TRIGGER query_index_text_update AFTER UPDATE OF text ON reviews
WHEN)sql" INDEXED("OLD.id") R"sql(AND OLD.text IS NOT NEW.text
BEGIN
  INSERT INTO reviews_fts(reviews_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
  INSERT INTO reviews_fts(rowid, text) VALUES (NEW.id, NEW.text);
END;

CREATE TRIGGER query_index_hit_insert AFTER INSERT ON touchpoint_hits
WHEN)sql" INDEXED("NEW.review_id") R"sql(
BEGIN
  INSERT INTO touchpoint_daily SELECT NEW.touchpoint, created_at / 86400, source_id,
    location_id, 1, NEW.score < 0, NEW.score, rating IS NOT NULL, coalesce(rating, 0)
    FROM reviews WHERE id = NEW.review_id
   )sql" TOUCHPOINT_DAILY_ADD R"sql(;
END;
)sql") + query_index_hit_triggers_sql();
  // clang-format on
  return sql.c_str();
}

// The statements of the "removed" migration's triggers on reviews: a review's figures and
// touchpoint hits leaving the aggregates (OLD, then dropping rows left at zero) or entering
// them (NEW).
#define REVIEW_OUT                                                                                \
  "\n  INSERT INTO review_daily VALUES (OLD.created_at / 86400, OLD.source_id, OLD.location_id, " \
  "-1, -(OLD.rating IS NOT NULL), -coalesce(OLD.rating, 0), -OLD.sentiment, "                     \
  "-OLD.negative)" REVIEW_DAILY_ADD                                                               \
  ";\n  DELETE FROM review_daily WHERE day = OLD.created_at / 86400 AND source_id = "             \
  "OLD.source_id AND location_id = OLD.location_id AND reviews = 0;"                              \
  "\n  INSERT INTO touchpoint_daily SELECT touchpoint, OLD.created_at / 86400, OLD.source_id, "   \
  "OLD.location_id, -1, -(score < 0), -score, -(OLD.rating IS NOT NULL), "                        \
  "-coalesce(OLD.rating, 0) FROM touchpoint_hits WHERE review_id = OLD.id" TOUCHPOINT_DAILY_ADD   \
  ";\n  DELETE FROM touchpoint_daily WHERE day = OLD.created_at / 86400 AND source_id = "         \
  "OLD.source_id AND location_id = OLD.location_id AND mentions = 0 AND touchpoint IN "           \
  "(SELECT touchpoint FROM touchpoint_hits WHERE review_id = OLD.id);"
#define REVIEW_IN                                                                                 \
  "\n  INSERT INTO review_daily VALUES (NEW.created_at / 86400, NEW.source_id, NEW.location_id, " \
  "1, NEW.rating IS NOT NULL, coalesce(NEW.rating, 0), NEW.sentiment, "                           \
  "NEW.negative)" REVIEW_DAILY_ADD                                                                \
  ";\n  INSERT INTO touchpoint_daily SELECT touchpoint, NEW.created_at / 86400, NEW.source_id, "  \
  "NEW.location_id, 1, score < 0, score, NEW.rating IS NOT NULL, coalesce(NEW.rating, 0) FROM "   \
  "touchpoint_hits WHERE review_id = NEW.id" TOUCHPOINT_DAILY_ADD ";"
// A touchpoint hit (OLD or NEW, as `hit`) leaving or entering touchpoint_daily, when its review
// is counted: indexed and not removed.
#define HIT_OUT(hit)                                  \
  "\n  INSERT INTO touchpoint_daily SELECT " hit      \
  ".touchpoint, created_at / 86400, source_id, "      \
  "location_id, -1, -(" hit ".score < 0), -" hit      \
  ".score, -(rating IS NOT NULL), "                   \
  "-coalesce(rating, 0) FROM reviews WHERE id = " hit \
  ".review_id AND removed_at IS NULL AND" INDEXED(hit ".review_id") TOUCHPOINT_DAILY_ADD ";"
#define HIT_IN(hit)                                                                                \
  "\n  INSERT INTO touchpoint_daily SELECT " hit                                                   \
  ".touchpoint, created_at / 86400, source_id, "                                                   \
  "location_id, 1, " hit ".score < 0, " hit                                                        \
  ".score, rating IS NOT NULL, coalesce(rating, 0) "                                               \
  "FROM reviews WHERE id = " hit ".review_id AND removed_at IS NULL AND" INDEXED(hit ".review_id") \
      TOUCHPOINT_DAILY_ADD ";"

const char* query_index_removed_sql() {
  // clang-format off
  return
"-- removed: reviews.removed_at is set while a complete listing of the review's source lacks it\n"
"-- (ReviewStore::mark_removed), NULL again when it comes back. A removed review stays in the\n"
"-- reviews table and the search index but leaves the aggregates: the triggers below take it\n"
"-- out and put it back, and the ones that keep the aggregates right on edits, rescores and\n"
"-- deletes now leave removed reviews alone.\n"
"DROP TRIGGER query_index_review_update;\n"
"CREATE TRIGGER query_index_review_update\n"
"AFTER UPDATE OF created_at, source_id, location_id, rating, sentiment, negative ON reviews\n"
"WHEN" INDEXED("OLD.id") "AND OLD.removed_at IS NULL AND NEW.removed_at IS NULL\n"
"  AND (OLD.created_at / 86400 IS NOT NEW.created_at / 86400\n"
"  OR OLD.source_id IS NOT NEW.source_id OR OLD.location_id IS NOT NEW.location_id\n"
"  OR OLD.rating IS NOT NEW.rating OR OLD.sentiment IS NOT NEW.sentiment\n"
"  OR OLD.negative IS NOT NEW.negative)\n"
"BEGIN" REVIEW_OUT REVIEW_IN "\nEND;\n"
// Marked removed (the statement that marks it changes nothing else).
"CREATE TRIGGER query_index_review_removed AFTER UPDATE OF removed_at ON reviews\n"
"WHEN" INDEXED("OLD.id") "AND OLD.removed_at IS NULL AND NEW.removed_at IS NOT NULL\n"
"BEGIN" REVIEW_OUT "\nEND;\n"
// Listed again: counted as it is now (restoring may come with an edit in the same UPDATE;
// query_index_review_update skips that row).
"CREATE TRIGGER query_index_review_restored AFTER UPDATE OF removed_at ON reviews\n"
"WHEN" INDEXED("OLD.id") "AND OLD.removed_at IS NOT NULL AND NEW.removed_at IS NULL\n"
"BEGIN" REVIEW_IN "\nEND;\n"
// Deleted: a removed review is in the search index only.
"DROP TRIGGER query_index_review_delete;\n"
"CREATE TRIGGER query_index_review_delete BEFORE DELETE ON reviews\n"
"WHEN" INDEXED("OLD.id") "AND OLD.removed_at IS NULL\n"
"BEGIN" REVIEW_OUT "\n"
"  INSERT INTO reviews_fts(reviews_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);\n"
"END;\n"
"CREATE TRIGGER query_index_removed_review_delete BEFORE DELETE ON reviews\n"
"WHEN" INDEXED("OLD.id") "AND OLD.removed_at IS NOT NULL\n"
"BEGIN\n"
"  INSERT INTO reviews_fts(reviews_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);\n"
"END;\n"
// Touchpoint hits rewritten (an edit, a rescore): only those of reviews that are counted.
"DROP TRIGGER query_index_hit_delete;\n"
"CREATE TRIGGER query_index_hit_delete AFTER DELETE ON touchpoint_hits\n"
"WHEN" INDEXED("OLD.review_id") "\n"
"BEGIN" HIT_OUT("OLD") "\n"
"  DELETE FROM touchpoint_daily WHERE touchpoint = OLD.touchpoint AND mentions = 0\n"
"    AND (day, source_id, location_id) IN\n"
"      (SELECT created_at / 86400, source_id, location_id FROM reviews WHERE id = OLD.review_id);\n"
"END;\n"
"DROP TRIGGER query_index_hit_update;\n"
"CREATE TRIGGER query_index_hit_update AFTER UPDATE OF review_id, touchpoint, score ON touchpoint_hits\n"
"WHEN" INDEXED("OLD.review_id") "OR" INDEXED("NEW.review_id") "\n"
"BEGIN" HIT_OUT("OLD") HIT_IN("NEW") "\nEND;\n";
  // clang-format on
}

const char* query_index_add_hits_sql() {
  return "INSERT INTO touchpoint_daily SELECT h.touchpoint, r.created_at / 86400, r.source_id, "
         "r.location_id, count(*), sum(h.score < 0), total(h.score), count(r.rating), "
         "total(r.rating) FROM touchpoint_hits h JOIN reviews r ON r.id = h.review_id "
         "WHERE h.review_id = ?1 AND r.removed_at IS NULL AND" INDEXED("?1") "GROUP BY 1, 2, 3, "
         "4" TOUCHPOINT_DAILY_ADD;
}

QueryIndexState query_index_state(const Database& db) {
  Statement st = db.prepare(
      "SELECT indexed_upto, coalesce(refreshed_at, 0), (SELECT coalesce(max(id), 0) FROM "
      "reviews) FROM query_index WHERE id = 1");
  QueryIndexState s;
  if (st.step()) {
    s.indexed_upto = st.column_int(0);
    s.refreshed_at = st.column_int(1);
    s.latest_review_id = st.column_int(2);
  }
  return s;
}

int64_t refresh_query_index(const Database& db, int64_t now, int64_t max_reviews) {
  Transaction tx(db);
  QueryIndexState s = query_index_state(db);
  if (s.pending() == 0) return 0;
  int64_t lo = s.indexed_upto;
  int64_t hi = std::min(s.latest_review_id, lo + std::max<int64_t>(max_reviews, 1));
  Statement days = db.prepare(
      "INSERT INTO review_daily SELECT created_at / 86400, source_id, location_id, count(*), "
      "count(rating), total(rating), total(sentiment), sum(negative) FROM reviews "
      "WHERE id > ?1 AND id <= ?2 AND removed_at IS NULL GROUP BY 1, 2, 3" REVIEW_DAILY_ADD);
  days.bind(1, lo).bind(2, hi).run();
  Statement touchpoints = db.prepare(
      "INSERT INTO touchpoint_daily SELECT h.touchpoint, r.created_at / 86400, r.source_id, "
      "r.location_id, count(*), sum(h.score < 0), total(h.score), count(r.rating), "
      "total(r.rating) FROM touchpoint_hits h JOIN reviews r ON r.id = h.review_id "
      "WHERE h.review_id > ?1 AND h.review_id <= ?2 AND r.removed_at IS NULL GROUP BY 1, 2, 3, "
      "4" TOUCHPOINT_DAILY_ADD);
  touchpoints.bind(1, lo).bind(2, hi).run();
  Statement fts = db.prepare(
      "INSERT INTO reviews_fts(rowid, text) SELECT id, text FROM reviews WHERE id > ?1 AND "
      "id <= ?2");
  fts.bind(1, lo).bind(2, hi).run();
  Statement mark =
      db.prepare("UPDATE query_index SET indexed_upto = ?1, refreshed_at = ?2 WHERE id = 1");
  mark.bind(1, hi).bind(2, now).run();
  tx.commit();
  return s.latest_review_id - hi;
}

}  // namespace repwatch::db
