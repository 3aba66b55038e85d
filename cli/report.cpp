#include "cli/report.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/file.h"
#include "core/text.h"
#include "core/time.h"

namespace repwatch::cli {

// ---- gathering -----------------------------------------------------------------------------

ReportData gather_report(const Queries& q, const Catalog& catalog, const Config* config,
                         int64_t now, const ReportOptions& o) {
  ReportData d;
  d.catalog = &catalog;
  d.title = o.title;
  d.generated_at = now;
  d.period = o.period;
  d.previous = o.period.previous();
  d.by = o.by;
  {
    std::vector<std::string> parts;
    for (const auto& s : o.filter.sources) parts.push_back("source " + s);
    for (const auto& l : o.filter.locations) parts.push_back(catalog.location_name(l));
    if (parts.empty()) {
      d.scope = "All sources and locations";
    } else {
      for (size_t i = 0; i < parts.size(); ++i) d.scope += (i ? ", " : "") + parts[i];
    }
  }

  Filter fc = o.filter, fp = o.filter;
  fc.since = d.period.since, fc.until = d.period.until;
  fp.since = d.previous.since, fp.until = d.previous.until;
  d.current = q.totals(fc, GroupBy::kAll)[""];
  d.prior = q.totals(fp, GroupBy::kAll)[""];

  // Charts: per bucket from history_since to the end of the period, per source.
  int64_t first_day = o.history_since / kDay;
  int64_t end_day = d.period.until / kDay;
  Filter fh = o.filter;
  fh.since = first_day * kDay;
  fh.until = d.period.until;
  std::vector<DayTotals> days = q.daily(fh, GroupBy::kSource);
  // Many sources make an unreadable chart: group them by type beyond 8.
  std::map<std::string, std::string> series_of;
  std::set<std::string> ids, types;
  for (const auto& day : days) ids.insert(day.source_id);
  for (const auto& id : ids) {
    const auto* s = catalog.source(id);
    types.insert(s ? s->type : id);
  }
  bool by_type = ids.size() > 8;
  for (const auto& id : ids) {
    const auto* s = catalog.source(id);
    series_of[id] = by_type ? (s ? s->type : id) : id;
  }
  std::map<std::string, std::vector<DayTotals>> per_series;
  std::vector<DayTotals> all;
  for (const auto& day : days) {
    per_series[series_of[day.source_id]].push_back(day);
    all.push_back(day);
  }
  auto to_series = [&](const std::string& name, const std::vector<DayTotals>& v) {
    ChartSeries s;
    s.name = name;
    for (const auto& b : make_buckets(v, o.by, first_day, end_day)) {
      s.rating.push_back(b.totals.rating());
      s.sentiment.push_back(b.totals.sentiment());
      s.reviews.push_back(b.totals.reviews);
      s.negative.push_back(b.totals.negative);
    }
    return s;
  };
  for (const auto& b : make_buckets({}, o.by, first_day, end_day)) d.buckets.push_back(b.label);
  d.overall = to_series("All sources", all);
  if (per_series.size() > 8) per_series.clear();  // even the types are too many: overall only
  for (const auto& [name, v] : per_series) d.series.push_back(to_series(name, v));

  bool capped = false;
  d.touchpoints = touchpoint_scorecard(q, catalog, o.filter, d.period, 4, &capped);
  d.touchpoints.erase(std::remove_if(d.touchpoints.begin(), d.touchpoints.end(),
                                     [](const auto& c) { return c.current.mentions == 0; }),
                      d.touchpoints.end());
  std::stable_sort(d.touchpoints.begin(), d.touchpoints.end(), [](const auto& a, const auto& b) {
    if (a.current.negative_mentions != b.current.negative_mentions)
      return a.current.negative_mentions > b.current.negative_mentions;
    return a.current.mentions > b.current.mentions;
  });

  auto cur_loc = q.totals(fc, GroupBy::kLocation);
  auto prev_loc = q.totals(fp, GroupBy::kLocation);
  std::set<std::string> locs;
  for (const auto& [k, v] : cur_loc) locs.insert(k);
  for (const auto& [k, v] : prev_loc) locs.insert(k);
  for (const auto& id : locs)
    d.locations.push_back({id, catalog.location_name(id), cur_loc[id], prev_loc[id]});

  d.notable = q.most_negative(fc, static_cast<int64_t>(o.notable));
  Filter fu = fc;
  fu.negative = fu.unanswered = true;
  d.unanswered_negative = q.count_reviews(fu);
  for (auto& h : q.sources(config, false))
    if (h.enabled && (h.poll.needs_attention || h.poll.consecutive_failures > 0) &&
        (o.filter.sources.empty() || std::find(o.filter.sources.begin(), o.filter.sources.end(),
                                               h.id) != o.filter.sources.end()))
      d.failing.push_back(std::move(h));
  return d;
}

// ---- rendering -----------------------------------------------------------------------------

namespace {

// Colors that stay apart in print and for common color blindness (Okabe-Ito + a few).
const char* const kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                "#E69F00", "#56B4E9", "#7F7F7F", "#000000"};
constexpr const char* kNegative = "#C0392B";
constexpr const char* kOther = "#8FA9C4";

std::string num(double v, int precision = 1) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

std::string opt(std::optional<double> v, int precision) {
  if (!v) return "&ndash;";
  return fixed(*v, precision);
}

// With its sign: "+0.25", "-0.10".
std::string signed_opt(std::optional<double> v, int precision) {
  if (!v) return "&ndash;";
  return signed_fixed(*v, precision);
}

// How a change between two periods is shown.
struct DeltaStyle {
  int precision = 2;
  bool higher_is_better = true;
  double notable = 0;      // a change at least this large is colored good or bad
  bool as_points = false;  // a share: the change in percentage points ("+3 pts")
};
constexpr DeltaStyle kRatingDelta{.precision = 2, .higher_is_better = true, .notable = 0.2};
constexpr DeltaStyle kSentimentDelta{.precision = 2, .higher_is_better = true, .notable = 0.1};
constexpr DeltaStyle kNegativeShareDelta{
    .precision = 3, .higher_is_better = false, .notable = 0.05, .as_points = true};

std::string delta_html(std::optional<double> cur, std::optional<double> prev,
                       const DeltaStyle& style) {
  if (!cur || !prev) return "<span class=\"delta\">&ndash;</span>";
  double d = *cur - *prev;
  std::string text =
      style.as_points ? signed_fixed(d * 100, 0) + " pts" : signed_fixed(d, style.precision);
  const char* cls = "delta";
  if (std::abs(d) >= style.notable)
    cls = (d > 0) == style.higher_is_better ? "delta good" : "delta bad";
  return std::string("<span class=\"") + cls + "\">" + text + "</span>";
}

// A line chart's look: what it shows on which scale.
struct LineChart {
  std::string kind;  // data-chart="...": "rating", "sentiment"
  std::string caption;
  double ymin = 0, ymax = 1;
  std::vector<double> ticks;  // values of the y axis with a grid line and a label
  int tick_precision = 0;     // decimals of those labels
  std::optional<double> reference = std::nullopt;  // a value drawn as a reference line
};

// One line per series (name, a value per bucket) over `labels`; gaps where a bucket has no
// value.
std::string line_chart(
    const LineChart& c, const std::vector<std::string>& labels,
    const std::vector<std::pair<std::string, std::vector<std::optional<double>>>>& series) {
  const double ymin = c.ymin, ymax = c.ymax;
  const double W = 760, H = 260, L = 46, R = 14, T = 14, B = 44;
  double pw = W - L - R, ph = H - T - B;
  size_t n = std::max<size_t>(labels.size(), 1);
  auto x = [&](size_t i) { return L + (i + 0.5) * pw / n; };
  auto y = [&](double v) { return T + (ymax - std::clamp(v, ymin, ymax)) / (ymax - ymin) * ph; };
  std::ostringstream s;
  s << "<figure class=\"chart-box\"><figcaption>" << html_escape(c.caption)
    << "</figcaption><svg class=\"chart\" data-chart=\"" << c.kind << "\" viewBox=\"0 0 " << W
    << " " << H << "\" role=\"img\" aria-label=\"" << html_escape(c.caption)
    << "\" xmlns=\"http://www.w3.org/2000/svg\">";
  for (double t : c.ticks) {
    s << "<line class=\"grid\" x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << num(y(t))
      << "\" y2=\"" << num(y(t)) << "\"/>";
    s << "<text class=\"tick\" x=\"" << L - 6 << "\" y=\"" << num(y(t) + 4)
      << "\" text-anchor=\"end\">" << (c.tick_precision ? num(t, c.tick_precision) : num(t, 0))
      << "</text>";
  }
  if (c.reference)
    s << "<line class=\"ref\" x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\""
      << num(y(*c.reference)) << "\" y2=\"" << num(y(*c.reference)) << "\"/>";
  size_t every = std::max<size_t>(1, (labels.size() + 11) / 12);
  for (size_t i = 0; i < labels.size(); i += every)
    s << "<text class=\"tick\" x=\"" << num(x(i)) << "\" y=\"" << H - B + 16
      << "\" text-anchor=\"middle\">" << html_escape(labels[i]) << "</text>";
  for (size_t k = 0; k < series.size(); ++k) {
    const char* color = kPalette[k % 8];
    const auto& values = series[k].second;
    std::string points;
    auto flush = [&]() {
      if (points.empty()) return;
      s << "<polyline class=\"line\" fill=\"none\" stroke=\"" << color << "\" points=\"" << points
        << "\"/>";
      points.clear();
    };
    for (size_t i = 0; i < values.size(); ++i) {
      if (!values[i]) {
        flush();
        continue;
      }
      points += (points.empty() ? "" : " ") + num(x(i)) + "," + num(y(*values[i]));
    }
    flush();
    for (size_t i = 0; i < values.size(); ++i)
      if (values[i])
        s << "<circle cx=\"" << num(x(i)) << "\" cy=\"" << num(y(*values[i]))
          << "\" r=\"2.6\" fill=\"" << color << "\"><title>" << html_escape(series[k].first) << " "
          << html_escape(labels[i]) << ": " << num(*values[i], 2) << "</title></circle>";
  }
  s << "</svg><div class=\"legend\">";
  for (size_t k = 0; k < series.size(); ++k)
    s << "<span><i style=\"background:" << kPalette[k % 8] << "\"></i>"
      << html_escape(series[k].first) << "</span>";
  s << "</div></figure>";
  return s.str();
}

// Review counts per bucket, the negative ones stacked at the bottom.
std::string volume_chart(const std::vector<std::string>& labels, const ChartSeries& all) {
  const double W = 760, H = 200, L = 46, R = 14, T = 14, B = 44;
  double pw = W - L - R, ph = H - T - B;
  size_t n = std::max<size_t>(labels.size(), 1);
  int64_t max = 1;
  for (auto v : all.reviews) max = std::max(max, v);
  double step = std::pow(10, std::floor(std::log10(double(max))));
  double top = std::ceil(double(max) / step) * step;
  auto y = [&](double v) { return T + (top - v) / top * ph; };
  double bw = std::max(1.0, pw / n * 0.7);
  std::ostringstream s;
  s << "<figure class=\"chart-box\"><figcaption>Reviews per "
    << (labels.size() && labels[0].size() == 7 ? "month" : "bucket")
    << " (red: negative)</figcaption><svg class=\"chart\" data-chart=\"volume\" viewBox=\"0 0 " << W
    << " " << H
    << "\" role=\"img\" aria-label=\"Reviews over time\" xmlns=\"http://www.w3.org/2000/svg\">";
  for (int i = 0; i <= 4; ++i) {
    double t = top * i / 4;
    s << "<line class=\"grid\" x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << num(y(t))
      << "\" y2=\"" << num(y(t)) << "\"/><text class=\"tick\" x=\"" << L - 6 << "\" y=\""
      << num(y(t) + 4) << "\" text-anchor=\"end\">" << num(t, 0) << "</text>";
  }
  size_t every = std::max<size_t>(1, (labels.size() + 11) / 12);
  for (size_t i = 0; i < labels.size(); ++i) {
    double cx = L + (i + 0.5) * pw / n;
    int64_t total = i < all.reviews.size() ? all.reviews[i] : 0;
    int64_t neg = i < all.negative.size() ? all.negative[i] : 0;
    if (total > 0) {
      s << "<rect class=\"bar\" x=\"" << num(cx - bw / 2) << "\" y=\"" << num(y(double(total)))
        << "\" width=\"" << num(bw) << "\" height=\"" << num(y(double(neg)) - y(double(total)))
        << "\" fill=\"" << kOther << "\"><title>" << html_escape(labels[i]) << ": " << total
        << " reviews, " << neg << " negative</title></rect>";
      if (neg > 0)
        s << "<rect class=\"bar\" x=\"" << num(cx - bw / 2) << "\" y=\"" << num(y(double(neg)))
          << "\" width=\"" << num(bw) << "\" height=\"" << num(y(0) - y(double(neg)))
          << "\" fill=\"" << kNegative << "\"/>";
    }
    if (i % every == 0)
      s << "<text class=\"tick\" x=\"" << num(cx) << "\" y=\"" << H - B + 16
        << "\" text-anchor=\"middle\">" << html_escape(labels[i]) << "</text>";
  }
  s << "</svg></figure>";
  return s.str();
}

// Mentions per touchpoint: negative part red, the rest blue; standard misses marked.
std::string touchpoint_chart(const std::vector<TouchpointCard>& cards) {
  const double W = 760, L = 210, R = 190, row = 26, T = 8;
  double H = T * 2 + row * std::max<size_t>(cards.size(), 1);
  int64_t max = 1;
  for (const auto& c : cards) max = std::max(max, c.current.mentions);
  double pw = W - L - R;
  std::ostringstream s;
  s << "<figure class=\"chart-box\"><figcaption>Touchpoint mentions this period (red: spoken of "
       "negatively)</figcaption><svg class=\"chart\" data-chart=\"touchpoints\" viewBox=\"0 0 "
    << W << " " << num(H, 0)
    << "\" role=\"img\" aria-label=\"Touchpoint mentions\" xmlns=\"http://www.w3.org/2000/svg\">";
  for (size_t i = 0; i < cards.size(); ++i) {
    const auto& c = cards[i];
    double yy = T + i * row;
    double wall = pw * double(c.current.mentions) / double(max);
    double wneg = pw * double(c.current.negative_mentions) / double(max);
    s << "<text class=\"label\" x=\"" << L - 8 << "\" y=\"" << num(yy + 17)
      << "\" text-anchor=\"end\">" << html_escape(c.info.name) << "</text>";
    s << "<rect class=\"bar\" x=\"" << L << "\" y=\"" << num(yy + 4) << "\" width=\""
      << num(std::max(wall, 1.0)) << "\" height=\"18\" fill=\"" << kOther << "\"/>";
    if (wneg > 0)
      s << "<rect class=\"bar\" x=\"" << L << "\" y=\"" << num(yy + 4) << "\" width=\"" << num(wneg)
        << "\" height=\"18\" fill=\"" << kNegative << "\"/>";
    s << "<text class=\"value\" x=\"" << num(L + std::max(wall, 1.0) + 6) << "\" y=\""
      << num(yy + 17) << "\">" << c.current.mentions << " &middot; "
      << (c.current.share_negative() ? percent(*c.current.share_negative()) : "-") << " negative"
      << (c.met && !*c.met ? " &middot; below standard" : "") << "</text>";
  }
  s << "</svg></figure>";
  return s.str();
}

// `text` (the review's text or its translation) as HTML, with every evidence span of the
// review's touchpoints marked when `text` is the one the review was analysed on.
std::string marked_review(const ReviewRow& r, const std::string& text) {
  std::vector<std::pair<size_t, size_t>> spans;
  if (&text == &r.analyzed_text())
    for (const auto& t : r.analysis.touchpoints)
      for (const auto& e : t.evidence)
        if (e.length > 0 && size_t(e.offset) + e.length <= text.size())
          spans.emplace_back(e.offset, size_t(e.offset) + e.length);
  std::sort(spans.begin(), spans.end());
  std::string out;
  size_t pos = 0;
  for (auto [a, b] : spans) {
    if (a < pos) a = pos;
    if (a >= b) continue;
    out += html_escape(std::string_view(text).substr(pos, a - pos));
    out += "<mark>" + html_escape(std::string_view(text).substr(a, b - a)) + "</mark>";
    pos = b;
  }
  out += html_escape(std::string_view(text).substr(pos));
  return out;
}

constexpr const char* kCss = R"css(
:root { --ink: #1d2630; --muted: #5b6773; --line: #d9dee3; --bad: #C0392B; --good: #1E8449; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #f4f6f8; }
main { max-width: 860px; margin: 0 auto; padding: 28px 22px 40px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
.meta { color: var(--muted); margin: 0 0 18px; }
.kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; }
.kpi { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.kpi .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi .value { font-size: 26px; font-weight: 650; }
.kpi .prev { color: var(--muted); font-size: 12px; }
.delta { font-weight: 600; color: var(--muted); }
.delta.good { color: var(--good); } .delta.bad { color: var(--bad); }
figure { margin: 14px 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: #e6e9ec; stroke-width: 1; }
svg .ref { stroke: #9aa5b1; stroke-width: 1; stroke-dasharray: 4 3; }
svg .tick { font-size: 11px; fill: var(--muted); }
svg .label { font-size: 12.5px; fill: var(--ink); }
svg .value { font-size: 12px; fill: var(--muted); }
svg .line { stroke-width: 2.2; stroke-linejoin: round; stroke-linecap: round; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 13px; color: var(--muted); }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
table { width: 100%; border-collapse: collapse; font-size: 13.5px; }
th, td { text-align: left; padding: 5px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bad { color: var(--bad); } .good { color: var(--good); } .muted { color: var(--muted); }
.review { border: 1px solid var(--line); border-left: 4px solid var(--bad); border-radius: 6px;
          padding: 10px 12px; margin: 10px 0; break-inside: avoid; }
.review .head { font-size: 13px; color: var(--muted); margin-bottom: 4px; }
.review .text { white-space: pre-wrap; }
.review .translation { white-space: pre-wrap; margin-top: 6px; padding-left: 10px; border-left: 2px solid var(--line); }
.review .translation .label { color: var(--muted); font-size: 12px; }
.review .tps { margin-top: 6px; font-size: 12.5px; }
.chip { display: inline-block; border: 1px solid var(--line); border-radius: 10px; padding: 0 8px; margin: 2px 4px 0 0; }
.chip.neg { border-color: #e4b1aa; background: #fbeeec; }
mark { background: #fde2a7; padding: 0 1px; border-radius: 2px; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
@media (max-width: 640px) { .kpis { grid-template-columns: repeat(2, 1fr); } }
@media print {
  body { background: #fff; font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  figure, .kpis, table, .review { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  mark { background: #fde2a7 !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .chip.neg, .legend i { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
@page { margin: 14mm; }
)css";

// The page's head, title and what it covers.
void report_head(std::ostream& h, const ReportData& d) {
  std::string period = format_date(d.period.since) + " to " + format_date(d.period.until - 1);
  std::string previous = format_date(d.previous.since) + " to " + format_date(d.previous.until - 1);
  h << "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
       "'unsafe-inline'; img-src data:\">\n<title>"
    << html_escape(d.title) << " &middot; " << period << "</title>\n<style>" << kCss
    << "</style>\n</head>\n<body>\n<main>\n";
  h << "<h1>" << html_escape(d.title) << "</h1>\n<p class=\"meta\">" << period << " compared with "
    << previous << " &middot; " << html_escape(d.scope) << " &middot; generated "
    << format_minute(d.generated_at) << " UTC</p>\n";
}

// Key figures: this period against the one before.
void report_key_figures(std::ostream& h, const ReportData& d) {
  auto kpi = [&](const std::string& label, const std::string& value, const std::string& prev,
                 const std::string& delta) {
    h << "<div class=\"kpi\"><div class=\"label\">" << label << "</div><div class=\"value\">"
      << value << "</div><div class=\"prev\">" << delta << " vs " << prev << "</div></div>";
  };
  h << "<section class=\"kpis\">";
  kpi("Reviews", std::to_string(d.current.reviews), std::to_string(d.prior.reviews),
      std::string("<span class=\"delta\">") + (d.current.reviews >= d.prior.reviews ? "+" : "") +
          std::to_string(d.current.reviews - d.prior.reviews) + "</span>");
  kpi("Average rating", opt(d.current.rating(), 2), opt(d.prior.rating(), 2),
      delta_html(d.current.rating(), d.prior.rating(), kRatingDelta));
  kpi("Average sentiment", signed_opt(d.current.sentiment(), 2), signed_opt(d.prior.sentiment(), 2),
      delta_html(d.current.sentiment(), d.prior.sentiment(), kSentimentDelta));
  kpi("Negative reviews",
      d.current.share_negative() ? percent(*d.current.share_negative()) : "&ndash;",
      d.prior.share_negative() ? percent(*d.prior.share_negative()) : "&ndash;",
      delta_html(d.current.share_negative(), d.prior.share_negative(), kNegativeShareDelta));
  h << "</section>\n";
}

// Rating and sentiment per bucket and source, and the review count.
void report_trends(std::ostream& h, const ReportData& d) {
  std::string unit = d.by == Bucketing::kMonth  ? "month"
                     : d.by == Bucketing::kWeek ? "week"
                                                : "day";
  h << "<h2>Trends</h2>\n";
  std::vector<std::pair<std::string, std::vector<std::optional<double>>>> rating, sentiment;
  const std::vector<ChartSeries>& lines =
      d.series.empty() ? std::vector<ChartSeries>{d.overall} : d.series;
  for (const auto& s : lines) {
    rating.emplace_back(s.name, s.rating);
    sentiment.emplace_back(s.name, s.sentiment);
  }
  h << line_chart({.kind = "rating",
                   .caption = "Average rating (1-5) per " + unit + " and source",
                   .ymin = 1,
                   .ymax = 5,
                   .ticks = {1, 2, 3, 4, 5}},
                  d.buckets, rating)
    << "\n";
  h << line_chart({.kind = "sentiment",
                   .caption = "Average sentiment (-1 to +1) per " + unit + " and source",
                   .ymin = -1,
                   .ymax = 1,
                   .ticks = {-1, -0.5, 0, 0.5, 1},
                   .tick_precision = 1,
                   .reference = 0.0},
                  d.buckets, sentiment)
    << "\n";
  h << volume_chart(d.buckets, d.overall) << "\n";
}

// The touchpoint chart and scorecard.
void report_touchpoints(std::ostream& h, const ReportData& d) {
  h << "<h2>Touchpoints of the patient journey</h2>\n";
  if (d.touchpoints.empty()) {
    h << "<p class=\"muted\">No touchpoint was mentioned in this period.</p>\n";
  } else {
    h << touchpoint_chart(d.touchpoints) << "\n";
    h << "<table class=\"scorecard\"><thead><tr><th>Touchpoint</th><th class=\"n\">Mentions</th>"
         "<th class=\"n\">Negative</th><th class=\"n\">Sentiment</th><th class=\"n\">Change</th>"
         "<th class=\"n\">Rating</th><th class=\"n\">Standard</th><th>Owner</th>"
         "<th>Frequent phrases</th></tr></thead><tbody>";
    for (const auto& c : d.touchpoints) {
      std::string phrases;
      for (const auto& [p, n] : c.phrases)
        phrases += (phrases.empty() ? "" : ", ") + html_escape(p) + " <span class=\"muted\">(" +
                   std::to_string(n) + ")</span>";
      std::string standard = "&ndash;";
      if (c.info.standard) {
        standard = num(*c.info.standard, 1);
        if (c.met)
          standard +=
              *c.met ? " <span class=\"good\">met</span>" : " <span class=\"bad\">missed</span>";
      }
      h << "<tr><td>" << html_escape(c.info.name) << "</td><td class=\"n\">" << c.current.mentions
        << "</td><td class=\"n\">"
        << (c.current.share_negative() ? percent(*c.current.share_negative()) : "&ndash;")
        << "</td><td class=\"n\">" << signed_opt(c.current.sentiment(), 2)
        << "</td><td class=\"n\">"
        << delta_html(c.current.sentiment(), c.previous.sentiment(), kSentimentDelta)
        << "</td><td class=\"n\">" << opt(c.current.rating(), 2) << "</td><td class=\"n\">"
        << standard << "</td><td>" << html_escape(c.info.owner) << "</td><td>" << phrases
        << "</td></tr>";
    }
    h << "</tbody></table>\n";
  }
}

// One row per location, when there are several.
void report_locations(std::ostream& h, const ReportData& d) {
  if (d.locations.size() > 1) {
    h << "<h2>By location</h2>\n<table><thead><tr><th>Location</th><th class=\"n\">Reviews</th>"
         "<th class=\"n\">Rating</th><th class=\"n\">Change</th><th class=\"n\">Sentiment</th>"
         "<th class=\"n\">Negative</th><th class=\"n\">Change</th></tr></thead><tbody>";
    for (const auto& l : d.locations)
      h << "<tr><td>" << html_escape(l.name) << "</td><td class=\"n\">" << l.current.reviews
        << "</td><td class=\"n\">" << opt(l.current.rating(), 2) << "</td><td class=\"n\">"
        << delta_html(l.current.rating(), l.previous.rating(), kRatingDelta)
        << "</td><td class=\"n\">" << signed_opt(l.current.sentiment(), 2)
        << "</td><td class=\"n\">"
        << (l.current.share_negative() ? percent(*l.current.share_negative()) : "&ndash;")
        << "</td><td class=\"n\">"
        << delta_html(l.current.share_negative(), l.previous.share_negative(), kNegativeShareDelta)
        << "</td></tr>";
    h << "</tbody></table>\n";
  }
}

// The most negative reviews of the period, with their evidence marked.
void report_notable_reviews(std::ostream& h, const ReportData& d) {
  h << "<h2>Notable negative reviews</h2>\n<p class=\"meta\">" << d.unanswered_negative
    << " negative review" << (d.unanswered_negative == 1 ? "" : "s")
    << " of this period still without a reply. The most negative:</p>\n";
  if (d.notable.empty()) h << "<p class=\"muted\">No negative reviews in this period.</p>\n";
  for (const auto& r : d.notable) {
    h << "<article class=\"review\"><div class=\"head\">" << format_date(r.review.created_at)
      << " &middot; " << html_escape(r.review.source_id) << " &middot; "
      << html_escape(d.catalog ? d.catalog->location_name(r.review.location_id)
                               : r.review.location_id);
    if (r.review.rating) h << " &middot; rating " << num(*r.review.rating, 1) << "/5";
    h << " &middot; sentiment " << signed_fixed(r.analysis.score, 2);
    if (!r.review.author.empty()) h << " &middot; " << html_escape(r.review.author);
    h << (r.review.reply_text.empty() ? " &middot; <span class=\"bad\">no reply</span>"
                                      : " &middot; <span class=\"good\">replied</span>");
    if (r.removed_at)
      h << " &middot; <span class=\"muted\">removed at the source " << format_date(*r.removed_at)
        << "</span>";
    if (!r.review.url.empty() &&
        (r.review.url.rfind("https://", 0) == 0 || r.review.url.rfind("http://", 0) == 0))
      h << " &middot; <a href=\"" << html_escape(r.review.url) << "\">open</a>";
    h << "</div><div class=\"text\">"
      << (r.review.text.empty() ? "<span class=\"muted\">(rating only)</span>"
                                : marked_review(r, r.review.text))
      << "</div>";
    // The reviewer's own words first; the source's translation (what was analysed) beside.
    if (!r.review.translated_text.empty())
      h << "<div class=\"translation\"><span class=\"label\">Translation (by the source): "
           "</span>"
        << marked_review(r, r.review.translated_text) << "</div>";
    if (!r.analysis.touchpoints.empty()) {
      h << "<div class=\"tps\">";
      for (const auto& t : r.analysis.touchpoints) {
        const auto* info = d.catalog ? d.catalog->touchpoint(t.touchpoint) : nullptr;
        h << "<span class=\"chip" << (t.score < 0 ? " neg" : "") << "\">"
          << html_escape(info ? info->name : t.touchpoint) << " " << signed_fixed(t.score, 2)
          << "</span>";
      }
      h << "</div>";
    }
    h << "</article>\n";
  }
}

void report_failing_sources(std::ostream& h, const ReportData& d) {
  if (!d.failing.empty()) {
    h << "<h2>Sources that fail to poll</h2>\n<table><thead><tr><th>Source</th>"
         "<th class=\"n\">Failures</th><th>Last success</th><th>Last "
         "error</th></tr></thead><tbody>";
    for (const auto& s : d.failing)
      h << "<tr><td>" << html_escape(s.id) << "</td><td class=\"n\">" << s.poll.consecutive_failures
        << "</td><td>"
        << (s.poll.last_success_at ? format_minute(*s.poll.last_success_at) : "never")
        << "</td><td>" << html_escape(s.poll.last_error) << "</td></tr>";
    h << "</tbody></table>\n";
  }
}

}  // namespace

std::string render_report_html(const ReportData& d) {
  std::ostringstream h;
  report_head(h, d);
  report_key_figures(h, d);
  report_trends(h, d);
  report_touchpoints(h, d);
  report_locations(h, d);
  report_notable_reviews(h, d);
  report_failing_sources(h, d);
  h << "<footer>Ratings are normalized onto 1&ndash;5 from each source's scale; sentiment runs "
       "from &minus;1 (very negative) to +1. A review is negative when its rating is 2 or less, "
       "or it has no rating and its text is clearly negative. Days are UTC. Generated by "
       "repwatch.</footer>\n</main>\n</body>\n</html>\n";
  return h.str();
}

// ---- the command ---------------------------------------------------------------------------

int cmd_report(Context& ctx, const ReportArgs& args) {
  if (!args.filter.touchpoints.empty() || args.filter.negative || args.filter.unanswered ||
      !args.filter.rating.empty())
    throw UsageError("report takes --source and --location only");
  ReportOptions o;
  o.period = resolve_period(ctx, args.period);
  o.filter = resolve_filter(ctx, args.filter);
  if (!args.title.empty()) o.title = args.title;
  if (!args.history.empty()) {
    o.history_since = parse_when(args.history, ctx.now, false, "--history") / kDay * kDay;
  } else {
    // Twelve months before the period's end, at least the period and the one before.
    o.history_since = std::min(o.period.until - 365 * kDay, o.period.previous().since);
  }
  if (o.history_since >= o.period.until)
    throw UsageError("--history must be before the end of the period");
  if (!args.by.empty()) {
    o.by = parse_bucketing(args.by);
  } else {
    o.by = o.period.until - o.history_since > 120 * kDay ? Bucketing::kMonth : Bucketing::kWeek;
  }
  if ((o.period.until - o.history_since) / kDay > 2000 && o.by == Bucketing::kDay)
    throw UsageError("--by day over more than 2000 days makes an unreadable chart; use week");
  ReportData data;
  {
    ReadSnapshot snap(ctx.db);
    data = gather_report(ctx.queries, ctx.catalog, ctx.config, ctx.now, o);
  }
  std::string html = render_report_html(data);

  std::filesystem::path target(args.out.empty() ? "report.html" : args.out);
  write_file_atomically(target, html);
  if (ctx.format == Format::kJson) {
    ctx.out << "{\"out\": \"" << target.string() << "\", \"bytes\": " << html.size()
            << ", \"period\": {\"since\": \"" << format_date(o.period.since) << "\", \"until\": \""
            << format_date(o.period.until - 1) << "\"}}\n";
  } else {
    ctx.out << "wrote " << target.string() << " (" << (html.size() + 1023) / 1024
            << " KB): " << format_date(o.period.since) << " .. " << format_date(o.period.until - 1)
            << ", " << data.current.reviews << " reviews, charts from "
            << format_date(o.history_since) << "\n";
  }
  return 0;
}

}  // namespace repwatch::cli
