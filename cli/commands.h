// repwatch/cli/commands.h - the managers' commands as functions that print to a stream.
//
// cli/app.cpp parses the command line (CLI11) into these option structs and calls the
// command with a Context; tests call the same functions, or run_cli() from cli/app.h with a
// whole argument vector. Every command returns its exit code (0) or throws UsageError (exit 2)
// or another repwatch::Error (exit 1).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/output.h"
#include "cli/queries.h"
#include "config/config.h"
#include "db/sqlite.h"

namespace repwatch::cli {

// What every command runs with.
struct Context {
  const db::Database& db;
  const Config* config;  // nullptr with --db and no --config
  Catalog catalog;
  Queries queries;
  Style style;
  Format format = Format::kTable;
  int64_t now = 0;  // UTC epoch seconds ("30d" is relative to this)
  std::ostream& out;
  std::ostream& err;
};

// The filters shared by the listing commands, as typed.
struct FilterArgs {
  std::string since, until;
  std::vector<std::string> sources, locations, touchpoints;
  bool negative = false;
  bool unanswered = false;
  std::string rating;
  bool include_removed = false;  // --include-removed
};

// Checks and resolves names and dates (UsageError with suggestions for unknown names).
Filter resolve_filter(const Context& ctx, const FilterArgs& args);

struct ReviewsArgs {
  FilterArgs filter;
  int64_t limit = 20;
  bool all = false;   // no limit
  bool full = false;  // whole review text in tables
};
int cmd_reviews(Context& ctx, const ReviewsArgs& args);

struct TrendsArgs {
  FilterArgs filter;
  std::string by = "month";  // day, week, month
};
int cmd_trends(Context& ctx, const TrendsArgs& args);

// The reporting window shared by touchpoints, summary and report: --period (default 30d)
// ending at --until (default: the end of today, UTC), or an explicit --since/--until.
struct PeriodArgs {
  std::string period;  // "30d", "4w", "2026-01"
  std::string since, until;
};
Range resolve_period(const Context& ctx, const PeriodArgs& args);

struct TouchpointsArgs {
  PeriodArgs period;
  FilterArgs filter;  // sources, locations, touchpoints
  size_t phrases = 3;
  bool all = false;               // also touchpoints without mentions
  std::string sort = "negative";  // negative, mentions, sentiment, name
};
int cmd_touchpoints(Context& ctx, const TouchpointsArgs& args);

struct SummaryArgs {
  PeriodArgs period;
  FilterArgs filter;  // sources, locations
  size_t worst = 5;   // touchpoints shown
  size_t unanswered = 5;
};
int cmd_summary(Context& ctx, const SummaryArgs& args);

struct SearchArgs {
  std::string query;
  FilterArgs filter;
  int64_t limit = 20;
};
int cmd_search(Context& ctx, const SearchArgs& args);

struct ExportArgs {
  FilterArgs filter;
  std::string format = "csv";  // csv, json, jsonl
  std::string out;             // file; "" or "-" for stdout
};
int cmd_export(Context& ctx, const ExportArgs& args);

struct ReportArgs {
  PeriodArgs period;
  FilterArgs filter;  // sources, locations
  std::string out = "report.html";
  std::string by;       // chart buckets: week or month ("" = by the history's length)
  std::string history;  // chart history start ("" = 12 months before the period's end)
  std::string title;
};
int cmd_report(Context& ctx, const ReportArgs& args);

int cmd_sources(Context& ctx);

// `repwatch help TOPIC` texts: filters, dates, search, formats, exit-codes.
const std::vector<std::pair<std::string, std::string>>& help_topics();

// Human-friendly times for tables: "2026-01-31 14:05" and "3h ago" / "in 10m".
std::string format_minute(int64_t t);
std::string format_ago(int64_t t, int64_t now);

}  // namespace repwatch::cli
