// repwatch/cli/queries.h - the questions the managers' CLI asks, and the names it may use.
//
// The SQL and the rows are db/'s read models (db/read_model.h): Queries bundles them for a
// command and adds what only the command line knows: sources named in the config but not
// polled yet, and a search query a person mistyped (UsageError). Catalog resolves the names
// a filter gives on the command line into the ids the read models take.
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
#include "db/aggregate_reads.h"
#include "db/query_index.h"
#include "db/read_model.h"
#include "db/review_reads.h"
#include "db/source_reads.h"
#include "db/sqlite.h"
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

// ---- filters, figures and rows: db/'s read models -----------------------------------------

using Filter = db::ReviewFilter;
using db::DayTotals;
using db::GroupBy;
using db::kSearchWindow;
using db::ReadSnapshot;
using db::ReviewOrder;
using db::ReviewRow;
using db::Totals;
using db::TouchpointTotals;

// "4-5", "1-2", "<=2", ">=4", "<3", "5": a range on the 1..5 normalized rating. Throws
// UsageError.
void parse_rating_filter(std::string_view text, Filter& filter);

// A source as `repwatch sources` and `summary` show it: from the database (with its poll
// state) and the config.
struct SourceHealth : db::SourceRow {
  bool in_database = false;  // false: configured but never polled yet
  int64_t reviews = 0;
  std::optional<int64_t> interval_seconds;  // from the config
  bool enabled = true;                      // from the config
};

// top_phrases(): how many of the latest mentions are counted by the commands.
constexpr int64_t kPhraseWindow = 20000;

class Queries {
 public:
  explicit Queries(const db::Database& db) : db_(db), reviews_(db), aggregates_(db) {}

  const db::Database& database() const { return db_; }
  db::QueryIndexState index_state() const { return aggregates_.index_state(); }

  // Figures: db/aggregate_reads.h.
  std::vector<DayTotals> daily(const Filter& filter, GroupBy group) const {
    return aggregates_.daily(filter, group);
  }
  std::map<std::string, Totals> totals(const Filter& filter, GroupBy group) const {
    return aggregates_.totals(filter, group);
  }
  // Per touchpoint of filter.touchpoints, or of the catalog when it names none.
  std::map<std::string, TouchpointTotals> touchpoint_totals(const Filter& filter,
                                                            const Catalog& catalog) const;
  std::map<std::string, std::vector<std::pair<std::string, int64_t>>> top_phrases(
      const Filter& filter, size_t per_touchpoint, int64_t max_mentions, bool* capped) const {
    return reviews_.top_phrases(filter, per_touchpoint, max_mentions, capped);
  }

  // Reviews: db/review_reads.h.
  std::vector<ReviewRow> reviews(const Filter& filter, int64_t limit,
                                 ReviewOrder order = {}) const {
    return reviews_.list(filter, limit, order);
  }
  void each_review(const Filter& filter, ReviewOrder order,
                   const std::function<void(const ReviewRow&)>& fn) const {
    reviews_.each(filter, order, fn);
  }
  int64_t count_reviews(const Filter& filter) const { return reviews_.count(filter); }
  std::vector<ReviewRow> most_negative(const Filter& filter, int64_t limit) const {
    return reviews_.most_negative(filter, limit);
  }
  // db::ReviewReads::search(); a query without words or one FTS5 cannot parse is a UsageError
  // that points to `repwatch help search`.
  std::vector<ReviewRow> search(std::string_view query, const Filter& filter, int64_t limit,
                                bool* windowed = nullptr) const;
  std::optional<std::pair<int64_t, int64_t>> review_span() const { return reviews_.span(); }

  // Every source in the database or the config; with_counts adds each one's review count.
  std::vector<SourceHealth> sources(const Config* config, bool with_counts = true) const;

 private:
  const db::Database& db_;
  db::ReviewReads reviews_;
  db::AggregateReads aggregates_;
};

}  // namespace repwatch::cli
