// repwatch/cli/queries.h - every question the managers' CLI asks the database.
//
// Read-only: works on a connection opened with Database::Mode::kReadOnly while repwatchd
// writes (WAL). Trend, scorecard and summary questions are answered from the maintained daily
// aggregates of db/query_index.h plus the reviews not yet folded into them, so they cost the
// same on five years of reviews as on five weeks; listings and search read the reviews table
// through its indexes and the FTS5 index.
//
//   Queries q(db);
//   Catalog names = Catalog::load(db, taxonomy, &config);   // what filters may name
//   Filter f;  f.sources = names.resolve_sources({"google"});  // UsageError if unknown
//   for (const DayTotals& d : q.daily(f, GroupBy::kAll)) ...
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/analysis.h"
#include "db/query_index.h"
#include "db/sqlite.h"
#include "db/store.h"
#include "sentiment/analyzer.h"

namespace repwatch::cli {

// ---- names ---------------------------------------------------------------------------------

struct TouchpointInfo {
  std::string id;                  // "billing"
  std::string name;                // "Billing and insurance" (the id when not in the taxonomy)
  std::string owner;               // accountable staff member, may be ""
  std::optional<double> standard;  // the average rating (1..5) it must stay above
};

// The sources, locations and touchpoints a command-line filter may name: those in the database,
// those in the config (not polled yet) and the taxonomy's touchpoints.
struct Catalog {
  struct Source {
    std::string id, type, location_id;
  };
  struct Location {
    std::string id, name;
  };
  std::vector<Source> sources;              // by id
  std::vector<Location> locations;          // by id
  std::vector<TouchpointInfo> touchpoints;  // taxonomy order, then others found in the data

  static Catalog load(const db::Database& db, const std::vector<sentiment::Touchpoint>& taxonomy,
                      const Config* config = nullptr);

  const TouchpointInfo* touchpoint(std::string_view id) const;
  const Source* source(std::string_view id) const;
  std::string location_name(std::string_view id) const;  // the id when it has no name
  std::vector<std::string> touchpoint_ids() const;

  // Command-line names to ids. A source is named by id or by type ("google_business": all of
  // them); a location by id or name; a touchpoint by id or name, case-insensitively. Throws
  // UsageError naming the closest names for anything unknown.
  std::vector<std::string> resolve_sources(const std::vector<std::string>& given) const;
  std::vector<std::string> resolve_locations(const std::vector<std::string>& given) const;
  std::vector<std::string> resolve_touchpoints(const std::vector<std::string>& given) const;
};

// ---- filters and aggregates ----------------------------------------------------------------

// Which reviews a question is about. Times are UTC epoch seconds, [since, until); the
// aggregate questions (daily, totals, touchpoint_totals) need them on UTC day boundaries.
// Reviews marked removed at their source (a complete listing lacked them) are left out of
// every question unless include_removed.
struct Filter {
  std::optional<int64_t> since, until;
  std::vector<std::string> sources;              // ids; empty: all
  std::vector<std::string> locations;            // ids; empty: all
  std::vector<std::string> touchpoints;          // ids: reviews mentioning any of them; empty: all
  bool negative = false;                         // only reviews counted as negative
  bool unanswered = false;                       // only reviews without a reply from the practice
  std::optional<double> min_rating, max_rating;  // normalized rating bounds, inclusive
  bool include_removed = false;                  // also reviews removed at their source
};

// "4-5", "1-2", "<=2", ">=4", "<3", "5": a range on the 1..5 normalized rating. Throws
// UsageError.
void parse_rating_filter(std::string_view text, Filter& filter);

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
  std::string source_id;  // when asked per source
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

// ---- reviews -------------------------------------------------------------------------------

struct ReviewRow {
  int64_t id = 0;
  std::string source_id, external_id, location_id, author;
  std::optional<double> raw_rating;
  std::string scale;
  std::optional<double> rating;
  std::string text, language;
  std::string translated_text;  // the source's translation of `text`, if it gave one
  bool on_translation = false;  // the analysis (and the evidence spans) are of translated_text
  int64_t created_at = 0, updated_at = 0;
  std::string reply_text;
  std::optional<int64_t> reply_at;
  std::string url;
  int revision = 1;
  double sentiment = 0;
  std::string label;  // negative, neutral, positive
  bool negative = false;
  std::optional<int64_t> removed_at;          // marked removed at its source since then
  std::vector<TouchpointResult> touchpoints;  // with_touchpoints; spans of analyzed_text()
  // search(): the byte spans of `text` that matched, and a short excerpt around the first
  // with the matches between \x01 and \x02.
  std::vector<std::pair<size_t, size_t>> matches;
  std::string snippet;

  // The text the touchpoints' evidence spans point into.
  const std::string& analyzed_text() const { return on_translation ? translated_text : text; }
};

struct SourceHealth {
  std::string id, type, location_id;
  bool in_database = false;  // false: configured but never polled yet
  std::optional<int64_t> added_at, first_sync_at, last_attempt_at, last_success_at;
  std::string last_error, last_error_kind;
  std::optional<int64_t> last_error_at, next_poll_at;
  int consecutive_failures = 0;
  bool needs_attention = false;
  int64_t reviews = 0;
  std::optional<int64_t> latest_review_at;
  std::optional<int64_t> interval_seconds;  // from the config
  bool enabled = true;                      // from the config
  db::PollState poll;  // the whole poll state: advice, warnings, arrivals (alerts/health.h)
};

// search(): how many of the newest matches are ranked.
constexpr int64_t kSearchWindow = 20000;
// top_phrases(): how many of the latest mentions are counted by the commands.
constexpr int64_t kPhraseWindow = 20000;

// How Queries::reviews() and each_review() read.
struct ReviewOrder {
  bool with_touchpoints = false;  // each review's touchpoint hits too
  bool newest_first = true;       // else oldest first
};

class Queries {
 public:
  explicit Queries(const db::Database& db) : db_(db) {}

  const db::Database& database() const { return db_; }
  db::QueryIndexState index_state() const { return db::query_index_state(db_); }

  // Per UTC day (and per source or location: DayTotals::key) over since/until/sources/
  // locations, from the aggregates. With filter.touchpoints: the mentioning reviews (count =
  // mentions, sentiment = the touchpoint's, negative = negative mentions).
  std::vector<DayTotals> daily(const Filter& filter, GroupBy group) const;
  // Totals over the filter, per source, per location or all together (key "").
  std::map<std::string, Totals> totals(const Filter& filter, GroupBy group) const;
  // Per touchpoint over since/until/sources/locations (and filter.touchpoints if given).
  std::map<std::string, TouchpointTotals> touchpoint_totals(const Filter& filter,
                                                            const Catalog& catalog) const;
  // The most frequent evidence phrases (lowercased) per touchpoint in the filter's reviews,
  // counted over at most the `max_mentions` latest mentions. Sets *capped when it stopped there.
  std::map<std::string, std::vector<std::pair<std::string, int64_t>>> top_phrases(
      const Filter& filter, size_t per_touchpoint, int64_t max_mentions, bool* capped) const;

  // Reviews in `order`, at most `limit` (< 0: all).
  std::vector<ReviewRow> reviews(const Filter& filter, int64_t limit, ReviewOrder order = {}) const;
  // The same, streamed: for export.
  void each_review(const Filter& filter, ReviewOrder order,
                   const std::function<void(const ReviewRow&)>& fn) const;
  int64_t count_reviews(const Filter& filter) const;
  // Negative reviews of the filter, most negative sentiment first, with touchpoints.
  std::vector<ReviewRow> most_negative(const Filter& filter, int64_t limit) const;

  // Full-text search, best match first. `query`: words (all must match), "quoted phrases",
  // prefix*, OR, NOT. Throws UsageError for a query FTS5 cannot parse.
  // Ranks among the newest kSearchWindow matches; sets *windowed when there were more.
  std::vector<ReviewRow> search(std::string_view query, const Filter& filter, int64_t limit,
                                bool* windowed = nullptr) const;

  // Every source in the database or the config; with_counts adds each one's review count.
  std::vector<SourceHealth> sources(const Config* config, bool with_counts = true) const;

  // Earliest and latest review time, nullopt when there are no reviews.
  std::optional<std::pair<int64_t, int64_t>> review_span() const;

 private:
  const db::Database& db_;
};

// The FTS5 query for what a person typed: bare words are quoted (so "e-mail" or "8:00" do not
// break the syntax), "phrases", word*, OR, AND, NOT and parentheses are kept.
std::string fts_query(std::string_view typed);

// RAII read transaction (BEGIN ... COMMIT) so a command's several queries see one snapshot.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(const db::Database& db);
  ~ReadSnapshot();
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  const db::Database& db_;
};

}  // namespace repwatch::cli
