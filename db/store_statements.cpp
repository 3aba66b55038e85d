// repwatch/db/store_statements.cpp - the SQL of ReviewStore's prepared statements, and the
// multi-row statements prepared when first needed (db/store_statements.h).
#include "db/store_statements.h"

#include <algorithm>

#include "db/query_index.h"
#include "db/review_fields.h"

namespace repwatch::db {

using detail::bind_static;
using detail::Use;

// Columns of kSelectReview, in order.
#define REVIEW_COLUMNS \
  "id, " REPWATCH_REVIEW_FIELDS("") ", content_hash, revision, first_seen_at, removed_at"

// The health columns of poll_state (read_poll_state(), from column 11), as "p.<name>".
#define POLL_HEALTH_COLUMNS                                               \
  "p.failing_since, coalesce(p.advice, ''), coalesce(p.warnings, '[]'), " \
  "coalesce(p.warning_count, 0), p.warnings_at, p.last_new_at, coalesce(p.arrivals, '')"

const char* const kSelectAllPollStates =
    "SELECT s.id, p.cursor, s.first_sync_at, p.last_attempt_at, p.last_success_at, "
    "p.last_error, p.last_error_kind, p.last_error_at, p.consecutive_failures, "
    "p.next_poll_at, p.needs_attention, " POLL_HEALTH_COLUMNS
    " FROM sources s LEFT JOIN poll_state p ON p.source_id = s.id ORDER BY s.id";

// The columns a new review is inserted with (the parameters of bind_review(), with revision 1
// and first_seen_at = last_seen_at), by insert_review and insert_reviews().
#define INSERTED_REVIEW_COLUMNS                                                                  \
  "source_id, external_id, location_id, author, raw_rating, scale, rating, text, language, "     \
  "translated_text, created_at, updated_at, reply_text, reply_at, url, content_hash, revision, " \
  "first_seen_at, last_seen_at, sentiment, label, negative"

namespace {

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

}  // namespace

ReviewStore::Statements::Statements(const Database& db)
    : db_(db),
      find_key(
          db.prepare("SELECT id, content_hash, revision, removed_at IS NOT NULL FROM reviews WHERE "
                     "source_id = ?1 AND external_id = ?2")),
      // Parameters shared by insert_review and update_review (see bind_review()).
      insert_review(db.prepare("INSERT INTO reviews(" INSERTED_REVIEW_COLUMNS
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
      listed_ids(db.prepare("SELECT id FROM reviews WHERE source_id = ?1 AND removed_at IS NULL")),
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
      select_hits(
          db.prepare("SELECT touchpoint, score, evidence FROM touchpoint_hits WHERE review_id = ?1 "
                     "ORDER BY ord")),
      count_reviews(db.prepare("SELECT count(*) FROM reviews")),
      count_revisions(db.prepare("SELECT count(*) FROM review_revisions WHERE review_id = ?1")),
      upsert_location(db.prepare(
          "INSERT INTO locations(id, name) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET "
          "name = excluded.name WHERE name <> excluded.name")),
      add_location(
          db.prepare("INSERT INTO locations(id, name) VALUES (?1, ?1) ON CONFLICT(id) DO NOTHING")),
      upsert_source(
          db.prepare("INSERT INTO sources(id, type, location_id, added_at) VALUES (?1, ?2, ?3, ?4) "
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
      arrival(
          db.prepare("UPDATE poll_state SET last_new_at = ?2, arrivals = ?3 WHERE source_id = ?1")),
      max_id(db.prepare("SELECT coalesce(max(id), 0) FROM reviews")),
      any_review(db.prepare("SELECT 1 FROM reviews WHERE source_id = ?1 LIMIT 1")),
      count_source_reviews(db.prepare(
          "SELECT count(*) FROM reviews WHERE source_id = ?1 AND (?2 OR removed_at IS NULL)")) {}

template <size_t N, typename MakeSql>
Statement& ReviewStore::Statements::cached(std::array<std::optional<Statement>, N>& cache, size_t n,
                                           MakeSql make_sql) {
  std::optional<Statement>& st = cache.at(n - 1);
  if (!st) st.emplace(db_.prepare(make_sql(n)));
  return *st;
}

Statement& ReviewStore::Statements::insert_hits(size_t n) {
  return cached(insert_hits_, n, [](size_t rows) {
    return "INSERT OR IGNORE INTO touchpoint_hits(review_id, ord, touchpoint, score, evidence) "
           "VALUES " +
           values_sql(rows, 5);
  });
}

Statement& ReviewStore::Statements::insert_reviews(size_t n) {
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

Statement& ReviewStore::Statements::insert_analyses(size_t n) {
  return cached(insert_analyses_, n, [](size_t rows) {
    return "INSERT INTO analyses(review_id, score, label, language, scored, lexicon_version, "
           "analyzed_at, terms, on_translation, taxonomy_version) VALUES " +
           values_sql(rows, kAnalysisParams);
  });
}

void ReviewStore::Statements::write_hits() {
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

Statement& ReviewStore::Statements::find_keys(size_t n) {
  return cached(find_keys_, n, [](size_t rows) {
    std::string sql = "SELECT external_id FROM reviews WHERE source_id = ?1 AND external_id IN (";
    for (size_t i = 0; i < rows; ++i) sql += (i ? ", ?" : "?") + std::to_string(i + 2);
    return sql + ")";
  });
}

}  // namespace repwatch::db
