// repwatch/db/alert_queries.h - what the alert rules read from the stored reviews.
//
//   TouchpointAverageQuery q;                   // touchpoint_average: one window
//   q.measure = AverageMeasure::kRating;
//   q.since = now - 30 * 86400;
//   for (const TouchpointAverage& a : touchpoint_averages(db, q)) ...
//   std::vector<int64_t> dates = newest_review_dates(db, "google-north", 20);  // source health
//
// Reviews marked removed are left out of the averages. The outbox itself (alerts and their
// deliveries) is db/outbox_store.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/sqlite.h"

namespace repwatch::db {

// What a touchpoint's average is taken of: its sentiment score mapped onto 1..5 as
// 3 + 2 * score, or the rating (normalized 1..5) of the reviews that mention it.
enum class AverageMeasure { kSentiment, kRating };

struct TouchpointAverageQuery {
  AverageMeasure measure = AverageMeasure::kSentiment;
  int64_t since = 0;                 // reviews created at or after
  std::vector<std::string> sources;  // empty: every source
};

struct TouchpointAverage {
  std::string location_id;
  std::string touchpoint;
  double average = 0;
  int reviews = 0;  // distinct reviews averaged (kRating: those with a rating)
};

// Per location and touchpoint, ordered by both.
std::vector<TouchpointAverage> touchpoint_averages(const Database& db,
                                                   const TouchpointAverageQuery& query);

// created_at of the `limit` newest reviews of a source, newest first.
std::vector<int64_t> newest_review_dates(const Database& db, const std::string& source_id,
                                         int limit);

}  // namespace repwatch::db
