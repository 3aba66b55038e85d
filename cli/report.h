// repwatch/cli/report.h - the HTML report: one self-contained file (inline CSS and SVG, no
// script, no external asset; a Content-Security-Policy forbids loading any), readable on
// screen and on paper.
//
//   ReportOptions o;  o.period = {since, until};  o.history_since = ...;
//   ReportData data = gather_report(queries, catalog, config, now, o);   // all the queries
//   std::string html = render_report_html(data);                          // no database
//
// The two halves are separate so that a weekly digest email can gather once and render the
// same page (or embed its <body>) without the CLI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/queries.h"
#include "cli/trend.h"
#include "config/config.h"

namespace repwatch::cli {

struct ReportOptions {
  Range period;                      // "this period"; compared with period.previous()
  int64_t history_since = 0;         // charts start here (UTC day boundary)
  Bucketing by = Bucketing::kMonth;  // chart buckets
  Filter filter;                     // sources and locations (ids)
  std::string title = "Patient reviews";
  size_t notable = 8;  // negative reviews shown
};

struct ChartSeries {
  std::string name;                              // a source id, a source type, or "All sources"
  std::vector<std::optional<double>> rating;     // per bucket, nullopt when no rated review
  std::vector<std::optional<double>> sentiment;  // per bucket
  std::vector<int64_t> reviews;                  // per bucket
  std::vector<int64_t> negative;                 // per bucket
};

struct LocationRow {
  std::string id, name;
  Totals current, previous;
};

struct ReportData {
  std::string title;
  std::string scope;  // "All sources and locations", "Location: Downtown ..."
  int64_t generated_at = 0;
  Range period, previous;
  Totals current, prior;  // this period, the one before
  Bucketing by = Bucketing::kMonth;
  std::vector<std::string> buckets;  // chart x labels ("2026-01", "2026-01-26")
  ChartSeries overall;
  std::vector<ChartSeries> series;          // per source (or per source type when there are many)
  std::vector<TouchpointCard> touchpoints;  // mentioned in the period, most negative first
  std::vector<LocationRow> locations;
  std::vector<ReviewRow> notable;  // most negative reviews of the period
  int64_t unanswered_negative = 0;
  std::vector<SourceHealth> failing;
  const Catalog* catalog = nullptr;  // names of touchpoints and locations
};

ReportData gather_report(const Queries& queries, const Catalog& catalog, const Config* config,
                         int64_t now, const ReportOptions& options);

std::string render_report_html(const ReportData& data);

}  // namespace repwatch::cli
