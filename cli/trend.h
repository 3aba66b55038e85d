// repwatch/cli/trend.h - time buckets and touchpoint scorecards, shared by trends,
// touchpoints, summary and the HTML report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/queries.h"

namespace repwatch::cli {

enum class Bucketing { kDay, kWeek, kMonth };
Bucketing parse_bucketing(std::string_view by);  // "day", "week", "month"; UsageError otherwise

// Buckets are named by their first UTC day (days since 1970-01-01); weeks start on Monday.
int64_t bucket_start(int64_t day, Bucketing b);
int64_t next_bucket(int64_t start, Bucketing b);
std::string bucket_label(int64_t start, Bucketing b);  // "2026-01-31", "2026-01"

struct Bucket {
  int64_t start_day = 0;
  int64_t end_day = 0;  // exclusive
  std::string label;
  Totals totals;
};

// Sums days into buckets, every bucket from first_day's (default: the first with data) up to
// end_day (exclusive; default: after the last with data), empty ones included.
std::vector<Bucket> make_buckets(const std::vector<DayTotals>& days, Bucketing b,
                                 std::optional<int64_t> first_day, std::optional<int64_t> end_day);

struct TouchpointCard {
  TouchpointInfo info;
  TouchpointTotals current, previous;                    // this period, the one before
  std::vector<std::pair<std::string, int64_t>> phrases;  // most frequent evidence
  std::optional<bool> met;  // rating >= standard; nullopt without a standard or ratings
};

// Every touchpoint of the catalog (or base.touchpoints) over `period` and the period before,
// in taxonomy order. base: sources and locations.
std::vector<TouchpointCard> touchpoint_scorecard(const Queries& queries, const Catalog& catalog,
                                                 const Filter& base, const Range& period,
                                                 size_t phrases, bool* phrases_capped);

}  // namespace repwatch::cli
