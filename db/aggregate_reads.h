// repwatch/db/aggregate_reads.h - the figures of `repwatch trends`, `touchpoints`, `summary`
// and the report: sums per UTC day, source, location and touchpoint.
//
// Answered from the maintained daily aggregates of db/query_index.h plus the reviews not yet
// folded into them (above the watermark; and, with include_removed, the removed ones the
// aggregates leave out), so a question costs the same on five years of reviews as on five
// weeks, and its answer is exact whether or not the daemon has refreshed the index.
//
//   AggregateReads a(db);
//   for (const DayTotals& d : a.daily(filter, GroupBy::kSource)) ...  // d.key: the source id
//   std::optional<double> avg = a.totals(filter, GroupBy::kAll)[""].rating();
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/query_index.h"
#include "db/read_model.h"
#include "db/sqlite.h"

namespace repwatch::db {

// Sums of review-level figures.
struct Totals {
  int64_t reviews = 0;
  int64_t rated = 0;
  int64_t negative = 0;
  double rating_sum = 0;
  double sentiment_sum = 0;

  std::optional<double> rating() const;          // average normalized rating, 1..5
  std::optional<double> sentiment() const;       // average sentiment, -1..1
  std::optional<double> share_negative() const;  // 0..1
  void add(const Totals& o);
};

struct DayTotals {
  int64_t day = 0;        // UTC days since 1970-01-01
  std::string source_id;  // the source or location id when asked per source or location
  Totals totals;
};

// Sums over the mentions of one touchpoint.
struct TouchpointTotals {
  int64_t mentions = 0;
  int64_t negative_mentions = 0;  // touchpoint score below 0
  int64_t rated = 0;              // mentioning reviews with a rating
  double score_sum = 0;
  double rating_sum = 0;

  std::optional<double> sentiment() const;       // average touchpoint score, -1..1
  std::optional<double> share_negative() const;  // negative mentions / mentions
  std::optional<double> rating() const;          // average rating of the mentioning reviews
  void add(const TouchpointTotals& o);
};

enum class GroupBy { kAll, kSource, kLocation };

class AggregateReads {
 public:
  explicit AggregateReads(const Database& db) : db_(db) {}

  // Per UTC day (and per source or location) over the filter's since/until/sources/locations.
  // With filter.touchpoints: over the mentioning reviews (reviews = mentions, sentiment = the
  // touchpoint's, negative = negative mentions).
  std::vector<DayTotals> daily(const ReviewFilter& filter, GroupBy group) const;
  // Totals over the filter, per source, per location or all together (key "", always there).
  std::map<std::string, Totals> totals(const ReviewFilter& filter, GroupBy group) const;
  // Per touchpoint of `touchpoints` (all must be listed: the aggregate's key starts with the
  // touchpoint) over since/until/sources/locations; touchpoints without mentions are absent.
  std::map<std::string, TouchpointTotals> touchpoint_totals(
      const ReviewFilter& filter, const std::vector<std::string>& touchpoints) const;

  // Every touchpoint id the stored analyses mention, each once: a skip-scan over
  // touchpoint_daily's key (one seek per distinct value) plus the hits above the watermark.
  std::vector<std::string> touchpoints_in_data() const;

  QueryIndexState index_state() const { return query_index_state(db_); }

 private:
  const Database& db_;
};

}  // namespace repwatch::db
