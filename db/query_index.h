// repwatch/db/query_index.h - maintained aggregates and full-text search for the managers' CLI.
//
// Years of reviews from many locations must answer `repwatch trends`, `touchpoints`, `summary`
// and `search` in well under a second. The "cli" migration (schema_migrations()) adds:
//
//   review_daily(day, source_id, location_id, reviews, rated, rating_sum, sentiment_sum,
//                negative)                       -- one row per UTC day, source and location
//   touchpoint_daily(touchpoint, day, source_id, location_id, mentions, negative_mentions,
//                    score_sum, rated, rating_sum)   -- the same per touchpoint mentioned
//   reviews_fts                                  -- FTS5 over reviews.text (external content,
//                                                   porter stemming, diacritics folded)
//   query_index(indexed_upto, refreshed_at)      -- the watermark
//
// Reviews with id <= query_index.indexed_upto are counted in the aggregates and indexed for
// search; triggers (and ReviewStore, for re-written touchpoint hits) keep them right when such
// a review is edited, rescored, removed at its source, restored or deleted. A review marked
// removed (reviews.removed_at, see db/store.h) is not counted in the aggregates but stays in
// the search index; readers that include removed reviews add them from the reviews table. Newer
// reviews are folded in by refresh_query_index(), in batches and off the ingest path (an FTS5
// trigger per inserted row makes ingest ~8x slower). Readers never depend on the refresh
// having run: they add the reviews above the watermark from the reviews table themselves, so
// answers are always exact, only slower while the backlog is large.
//
// Days are UTC days since 1970-01-01: day = created_at / 86400.
#pragma once

#include <cstdint>

#include "db/sqlite.h"

namespace repwatch::db {

// The SQL of the "cli" migration (registered in schema_migrations()).
const char* query_index_migration_sql();
// The triggers on touchpoint_hits deletes and updates (the "ingest" migration re-creates them
// with the table; there is no trigger on inserts, see query_index_add_hits_sql()).
const char* query_index_hit_triggers_sql();

// The trigger changes of the "removed" migration (registered in schema_migrations()): removed
// reviews leave the aggregates and come back when restored.
const char* query_index_removed_sql();

// Adds the touchpoint hits of review ?1 to touchpoint_daily when the review is at or below the
// watermark and not removed (a no-op otherwise). ReviewStore runs it after re-writing a review's
// hits (an edit, a rescore); the old hits leave the aggregate through the delete trigger.
const char* query_index_add_hits_sql();

struct QueryIndexState {
  int64_t indexed_upto = 0;      // reviews with id <= this are aggregated and searchable
  int64_t latest_review_id = 0;  // max(reviews.id)
  int64_t refreshed_at = 0;      // UTC epoch seconds of the last refresh, 0 if never
  int64_t pending() const {
    return latest_review_id > indexed_upto ? latest_review_id - indexed_upto : 0;
  }
};

// Reads the watermark (works on a read-only connection).
QueryIndexState query_index_state(const Database& db);

// Folds up to `max_reviews` reviews above the watermark into the aggregates and the search
// index, in one transaction of its own (call it outside any other transaction, e.g. after a
// poll commits). Returns how many reviews are still pending afterwards; call again while > 0.
int64_t refresh_query_index(const Database& db, int64_t now, int64_t max_reviews = 50000);

}  // namespace repwatch::db
