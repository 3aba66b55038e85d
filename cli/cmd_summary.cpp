// repwatch summary / sources.
#include <algorithm>
#include <cmath>
#include <map>

#include "alerts/health.h"
#include "alerts/rules.h"
#include "cli/commands.h"
#include "cli/trend.h"
#include "core/time.h"

namespace repwatch::cli {

namespace {

std::optional<double> diff(std::optional<double> a, std::optional<double> b) {
  if (!a || !b) return std::nullopt;
  return *a - *b;
}

// Change of a share in percentage points: "+3 pts".
Value points(std::optional<double> a, std::optional<double> b) {
  Value v = Value::change(diff(a, b), 3);
  if (v.kind == Value::Kind::kNumber) {
    v.shown = signed_fixed(v.d * 100, 0) + " pts";
    if (v.d >= 0.05) v.tone = Tone::kBad;
    if (v.d <= -0.05) v.tone = Tone::kGood;
  }
  return v;
}

Value share(std::optional<double> s) {
  Value v = Value::number(s, 3);
  if (s) v.shown = percent(*s);
  return v;
}

// The last poll's kind of failure as its stored word ("auth"), or `healthy` when it did not fail.
Value error_kind_value(const db::PollState& poll, Value healthy) {
  return poll.last_error_kind ? Value::text(to_string(*poll.last_error_kind)) : healthy;
}

std::string status_of(const SourceHealth& h) {
  if (!h.enabled) return "disabled";
  if (h.poll.needs_attention) return "needs attention";
  if (h.poll.consecutive_failures > 0)
    return h.poll.last_error_kind == SourceError::Kind::kUnavailable ? "unavailable" : "failing";
  if (!h.poll.last_success_at && !h.poll.last_attempt_at) return "never polled";
  return "ok";
}

bool is_failing(const SourceHealth& h) {
  return h.enabled && (h.poll.needs_attention || h.poll.consecutive_failures > 0);
}

Value when(const std::optional<int64_t>& t, int64_t now) {
  if (!t) return Value::null();
  return Value::text(format_timestamp(*t))
      .with_shown(format_minute(*t) + " (" + format_ago(*t, now) + ")");
}

void totals_json(JsonWriter& w, const Totals& t) {
  w.StartObject();
  w.Key("reviews");
  w.Int64(t.reviews);
  w.Key("rating");
  write_json(w, Value::number(t.rating(), 3));
  w.Key("sentiment");
  write_json(w, Value::number(t.sentiment(), 3));
  w.Key("share_negative");
  write_json(w, Value::number(t.share_negative(), 3));
  w.EndObject();
}

void range_json(JsonWriter& w, const Range& r) {
  w.StartObject();
  w.Key("since");
  write_json(w, format_date(r.since));
  w.Key("until");
  write_json(w, format_date(r.until - 1));
  w.EndObject();
}

struct Comparison {
  std::string key;
  Totals current, previous;
};

std::vector<Comparison> compare(const std::map<std::string, Totals>& cur,
                                const std::map<std::string, Totals>& prev) {
  std::vector<Comparison> out;
  for (const auto& [k, t] : cur) out.push_back({k, t, {}});
  for (const auto& entry : prev) {  // (not a structured binding: clang 14 cannot capture one)
    const std::string& k = entry.first;
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& c) { return c.key == k; });
    if (it == out.end())
      out.push_back({k, {}, entry.second});
    else
      it->previous = entry.second;
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    if (a.current.reviews != b.current.reviews) return a.current.reviews > b.current.reviews;
    return a.key < b.key;
  });
  return out;
}

// By source (with its location) or by location (with its name).
Table comparison_table(const std::vector<Comparison>& rows, const Context& ctx, GroupBy by) {
  const bool sources = by == GroupBy::kSource;
  std::vector<Column> cols;
  if (sources) {
    cols = {{"source", "Source"}, {"location", "Location"}};
  } else {
    cols = {{"location", "Location"}, {"name", "Name", Align::kLeft, 32}};
  }
  for (Column c : std::vector<Column>{{"reviews", "Reviews", Align::kRight},
                                      {"reviews_change", "Change", Align::kRight},
                                      {"rating", "Rating", Align::kRight},
                                      {"rating_change", "Change", Align::kRight},
                                      {"sentiment", "Sentiment", Align::kRight},
                                      {"sentiment_change", "Change", Align::kRight},
                                      {"share_negative", "Negative", Align::kRight},
                                      {"share_negative_change", "Change", Align::kRight}})
    cols.push_back(c);
  Table t(cols);
  for (const auto& c : rows) {
    std::vector<Value> row;
    if (sources) {
      const auto* s = ctx.catalog.source(c.key);
      row = {Value::text(c.key), Value::text(s ? s->location_id : "")};
    } else {
      row = {Value::text(c.key), Value::text(ctx.catalog.location_name(c.key))};
    }
    row.push_back(Value::integer(c.current.reviews));
    row.push_back(Value::count_change(c.current.reviews, c.previous.reviews));
    row.push_back(Value::number(c.current.rating(), 2));
    row.push_back(Value::toned_change(diff(c.current.rating(), c.previous.rating()), 2, 0.2));
    row.push_back(Value::change(c.current.sentiment(), 2));
    row.push_back(Value::toned_change(diff(c.current.sentiment(), c.previous.sentiment()), 2, 0.1));
    row.push_back(share(c.current.share_negative()));
    row.push_back(points(c.current.share_negative(), c.previous.share_negative()));
    t.add(std::move(row));
  }
  return t;
}

// What the summary shows, read in one snapshot.
struct SummaryData {
  Range cur, prev;
  Filter base;  // sources and locations
  Totals all_cur, all_prev;
  std::vector<Comparison> by_source, by_location;
  std::vector<TouchpointCard> cards;        // the worst touchpoints, worst first
  std::vector<std::vector<Bucket>> weekly;  // each worst touchpoint's last 8 weeks
  int64_t unanswered_count = 0;             // negative reviews without a reply, this period
  std::vector<ReviewRow> unanswered;        // the latest of them
  std::vector<SourceHealth> failing;
};

// The touchpoints with the most negative mentions in `cur` (then the lowest sentiment), at
// most `worst`.
std::vector<TouchpointCard> worst_touchpoints(const Context& ctx, const Filter& base,
                                              const Range& cur, size_t worst) {
  bool capped = false;
  auto cards = touchpoint_scorecard(ctx.queries, ctx.catalog, base, cur, 3, &capped);
  std::stable_sort(cards.begin(), cards.end(), [](const auto& a, const auto& b) {
    if (a.current.negative_mentions != b.current.negative_mentions)
      return a.current.negative_mentions > b.current.negative_mentions;
    return a.current.sentiment().value_or(0) < b.current.sentiment().value_or(0);
  });
  cards.erase(std::remove_if(cards.begin(), cards.end(),
                             [](const auto& c) { return c.current.negative_mentions == 0; }),
              cards.end());
  if (cards.size() > worst) cards.resize(worst);
  return cards;
}

// Everything the summary shows (inside the caller's ReadSnapshot).
SummaryData gather_summary(const Context& ctx, const SummaryArgs& args) {
  SummaryData d;
  d.cur = resolve_period(ctx, args.period);
  d.prev = d.cur.previous();
  d.base = resolve_filter(ctx, args.filter);
  const Filter& base = d.base;
  Filter fc = base, fp = base;
  fc.since = d.cur.since, fc.until = d.cur.until;
  fp.since = d.prev.since, fp.until = d.prev.until;

  d.all_cur = ctx.queries.totals(fc, GroupBy::kAll)[""];
  d.all_prev = ctx.queries.totals(fp, GroupBy::kAll)[""];
  d.by_source =
      compare(ctx.queries.totals(fc, GroupBy::kSource), ctx.queries.totals(fp, GroupBy::kSource));
  d.by_location = compare(ctx.queries.totals(fc, GroupBy::kLocation),
                          ctx.queries.totals(fp, GroupBy::kLocation));
  d.cards = worst_touchpoints(ctx, base, d.cur, args.worst);
  // Each worst touchpoint's last 8 weeks, for its trend.
  int64_t end_day = d.cur.until / kDay;
  int64_t first_week = bucket_start(end_day - 1, Bucketing::kWeek) - 7 * 7;
  for (const auto& c : d.cards) {
    Filter fw = base;
    fw.touchpoints = {c.info.id};
    fw.since = first_week * kDay;
    fw.until = d.cur.until;
    d.weekly.push_back(
        make_buckets(ctx.queries.daily(fw, GroupBy::kAll), Bucketing::kWeek, first_week, end_day));
  }
  Filter fu = fc;
  fu.negative = true;
  fu.unanswered = true;
  d.unanswered_count = ctx.queries.count_reviews(fu);
  d.unanswered = ctx.queries.reviews(fu, static_cast<int64_t>(args.unanswered));
  for (auto& h : ctx.queries.sources(ctx.config, false))
    if (is_failing(h) &&
        (base.sources.empty() ||
         std::find(base.sources.begin(), base.sources.end(), h.id) != base.sources.end()))
      d.failing.push_back(std::move(h));
  return d;
}

// The summary's sections as tables (for JSON and CSV too).
struct SummaryTables {
  Table sources, locations, worst, unanswered, failing;
};

Table worst_table(const Context& ctx, const SummaryData& d) {
  bool spark_col = ctx.format == Format::kTable && ctx.style.tty;
  std::vector<Column> wcols = {{"touchpoint", "Touchpoint"},
                               {"name", "Name", Align::kLeft, 28},
                               {"mentions", "Mentions", Align::kRight},
                               {"negative_mentions", "Negative", Align::kRight},
                               {"share_negative", "Share", Align::kRight},
                               {"share_negative_change", "Change", Align::kRight},
                               {"sentiment", "Sentiment", Align::kRight},
                               {"sentiment_change", "Change", Align::kRight},
                               {"owner", "Owner"},
                               {"top_phrases", "Top phrases", Align::kLeft, 40}};
  if (spark_col) wcols.insert(wcols.begin() + 8, {"weekly", "Negative, 8 weeks"});
  Table worst(wcols);
  for (size_t i = 0; i < d.cards.size(); ++i) {
    const auto& c = d.cards[i];
    std::vector<std::string> phrases;
    for (const auto& [p, n] : c.phrases) phrases.push_back(p);
    std::vector<Value> row = {
        Value::text(c.info.id),
        Value::text(c.info.name),
        Value::integer(c.current.mentions),
        Value::integer(c.current.negative_mentions),
        share(c.current.share_negative()),
        points(c.current.share_negative(), c.previous.share_negative()),
        Value::change(c.current.sentiment(), 2),
        Value::toned_change(diff(c.current.sentiment(), c.previous.sentiment()), 2, 0.1),
        c.info.owner.empty() ? Value::null() : Value::text(c.info.owner),
        Value::list(phrases)};
    if (spark_col) {
      std::vector<std::optional<double>> neg;
      double hi = 1;
      for (const auto& b : d.weekly[i]) {
        neg.push_back(double(b.totals.negative));
        hi = std::max(hi, double(b.totals.negative));
      }
      row.insert(row.begin() + 8, Value::text(sparkline(neg, 0, hi)));
    }
    worst.add(std::move(row));
  }
  return worst;
}

Table unanswered_table(const SummaryData& d) {
  Table unanswered_table({{"id", "ID", Align::kRight},
                          {"date", "Date"},
                          {"source", "Source"},
                          {"location", "Location"},
                          {"rating", "Rating", Align::kRight},
                          {"url", "URL"},
                          {"text", "Review", Align::kLeft, 70}});
  for (const auto& r : d.unanswered)
    unanswered_table.add({Value::integer(r.id), Value::text(format_date(r.review.created_at)),
                          Value::text(r.review.source_id), Value::text(r.review.location_id),
                          Value::number(r.review.rating, 1).with_tone(Tone::kBad),
                          Value::text(r.review.url),
                          Value::text(r.review.text.empty() ? "(rating only)" : r.review.text)});
  return unanswered_table;
}

Table failing_table(const Context& ctx, const SummaryData& d) {
  Table failing_table({{"source", "Source"},
                       {"status", "Status"},
                       {"failures", "Failures", Align::kRight},
                       {"last_success", "Last success"},
                       {"last_error_kind", "Kind"},
                       {"last_error", "Last error", Align::kLeft, 70}});
  for (const auto& h : d.failing)
    failing_table.add({Value::text(h.id), Value::text(status_of(h)).with_tone(Tone::kBad),
                       Value::integer(h.poll.consecutive_failures),
                       when(h.poll.last_success_at, ctx.now),
                       error_kind_value(h.poll, Value::text("")), Value::text(h.poll.last_error)});
  return failing_table;
}

void write_summary_json(const Context& ctx, const SummaryData& d, const SummaryTables& t) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("period");
  range_json(w, d.cur);
  w.Key("previous_period");
  range_json(w, d.prev);
  w.Key("overall");
  w.StartObject();
  w.Key("current");
  totals_json(w, d.all_cur);
  w.Key("previous");
  totals_json(w, d.all_prev);
  w.EndObject();
  w.Key("by_source");
  write_json(w, t.sources);
  w.Key("by_location");
  write_json(w, t.locations);
  w.Key("worst_touchpoints");
  write_json(w, t.worst);
  w.Key("unanswered_negative");
  w.StartObject();
  w.Key("count");
  w.Int64(d.unanswered_count);
  w.Key("latest");
  write_json(w, t.unanswered);
  w.EndObject();
  w.Key("failing_sources");
  write_json(w, t.failing);
  w.EndObject();
  ctx.out << buf.GetString() << "\n";
}

// Long format for spreadsheets: one figure per line.
void write_summary_csv(const Context& ctx, const SummaryData& d) {
  Table t({{"section", "section"},
           {"name", "name"},
           {"metric", "metric"},
           {"current", "current"},
           {"previous", "previous"}});
  auto add_totals = [&](const std::string& section, const std::string& name, const Totals& a,
                        const Totals& b) {
    t.add({Value::text(section), Value::text(name), Value::text("reviews"),
           Value::integer(a.reviews), Value::integer(b.reviews)});
    t.add({Value::text(section), Value::text(name), Value::text("rating"),
           Value::number(a.rating(), 3), Value::number(b.rating(), 3)});
    t.add({Value::text(section), Value::text(name), Value::text("sentiment"),
           Value::number(a.sentiment(), 3), Value::number(b.sentiment(), 3)});
    t.add({Value::text(section), Value::text(name), Value::text("share_negative"),
           Value::number(a.share_negative(), 3), Value::number(b.share_negative(), 3)});
  };
  add_totals("overall", "", d.all_cur, d.all_prev);
  for (const auto& c : d.by_source) add_totals("source", c.key, c.current, c.previous);
  for (const auto& c : d.by_location) add_totals("location", c.key, c.current, c.previous);
  for (const auto& c : d.cards) {
    t.add({Value::text("touchpoint"), Value::text(c.info.id), Value::text("negative_mentions"),
           Value::integer(c.current.negative_mentions),
           Value::integer(c.previous.negative_mentions)});
    t.add({Value::text("touchpoint"), Value::text(c.info.id), Value::text("sentiment"),
           Value::number(c.current.sentiment(), 3), Value::number(c.previous.sentiment(), 3)});
  }
  t.add({Value::text("unanswered_negative"), Value::text(""), Value::text("reviews"),
         Value::integer(d.unanswered_count), Value::null()});
  for (const auto& h : d.failing)
    t.add({Value::text("failing_source"), Value::text(h.id), Value::text("failures"),
           Value::integer(h.poll.consecutive_failures), Value::null()});
  t.write_csv(ctx.out);
}

// This period against the previous one, all sources together.
void write_overall_text(const Context& ctx, const SummaryData& d) {
  auto& out = ctx.out;
  const Totals& all_cur = d.all_cur;
  const Totals& all_prev = d.all_prev;
  Table overall({{"metric", ""},
                 {"current", "This period", Align::kRight},
                 {"previous", "Previous", Align::kRight},
                 {"change", "Change", Align::kRight}});
  overall.add({Value::text("Reviews"), Value::integer(all_cur.reviews),
               Value::integer(all_prev.reviews),
               Value::count_change(all_cur.reviews, all_prev.reviews)});
  overall.add({Value::text("Average rating"), Value::number(all_cur.rating(), 2),
               Value::number(all_prev.rating(), 2),
               Value::toned_change(diff(all_cur.rating(), all_prev.rating()), 2, 0.2)});
  overall.add({Value::text("Average sentiment"), Value::change(all_cur.sentiment(), 2),
               Value::change(all_prev.sentiment(), 2),
               Value::toned_change(diff(all_cur.sentiment(), all_prev.sentiment()), 2, 0.1)});
  overall.add({Value::text("Negative reviews"), share(all_cur.share_negative()),
               share(all_prev.share_negative()),
               points(all_cur.share_negative(), all_prev.share_negative())});
  overall.write_text(out, ctx.style, "  ");
  if (all_cur.reviews == 0 && all_prev.reviews == 0) {
    out << "\n  No reviews in either period.";
    if (auto span = ctx.queries.review_span())
      out << " The latest review is from " << format_date(span->second) << ": try --until "
          << format_date(span->second) << ".";
    out << "\n";
  }
}

void write_summary_text(const Context& ctx, const SummaryData& d, SummaryTables& t) {
  auto& out = ctx.out;
  auto heading = [&](const std::string& s) {
    out << "\n" << paint(ctx.style, Tone::kBold, s) << "\n";
  };
  std::string scope =
      d.base.sources.empty() && d.base.locations.empty() ? "all sources and locations" : "filtered";
  out << paint(ctx.style, Tone::kBold, "Summary " + describe(d.cur)) << " vs " << describe(d.prev)
      << " (" << scope << ")\n\n";
  write_overall_text(ctx, d);
  if (!t.sources.empty()) {
    heading("By source");
    t.sources.write_text(out, ctx.style, "  ");
  }
  if (!t.locations.empty()) {
    heading("By location");
    t.locations.write_text(out, ctx.style, "  ");
  }
  heading("Worst touchpoints (most negative mentions)");
  if (t.worst.empty())
    out << "  No touchpoint drew a negative mention in this period.\n";
  else
    t.worst.without_empty({"owner"}).write_text(out, ctx.style, "  ");
  heading("Unanswered negative reviews: " + std::to_string(d.unanswered_count) + " in this period");
  if (!t.unanswered.empty()) {
    t.unanswered.without_empty({"url"}).write_text(out, ctx.style, "  ");
    if (d.unanswered_count > static_cast<int64_t>(d.unanswered.size()))
      out << paint(ctx.style, Tone::kDim,
                   "  (the latest " + std::to_string(d.unanswered.size()) +
                       "; all: repwatch reviews --negative --unanswered --since " +
                       format_date(d.cur.since) + ")")
          << "\n";
  }
  heading("Failing sources");
  if (d.failing.empty())
    out << "  None: every source's last poll succeeded.\n";
  else
    t.failing.write_text(out, ctx.style, "  ");
}

}  // namespace

int cmd_summary(Context& ctx, const SummaryArgs& args) {
  if (!args.filter.touchpoints.empty() || args.filter.negative || args.filter.unanswered ||
      !args.filter.rating.empty())
    throw UsageError(
        "summary takes --source and --location only (see `repwatch touchpoints` "
        "and `repwatch reviews` for the rest)");
  ReadSnapshot snap(ctx.db);  // one consistent read for every section
  const SummaryData d = gather_summary(ctx, args);
  SummaryTables t{comparison_table(d.by_source, ctx, GroupBy::kSource),
                  comparison_table(d.by_location, ctx, GroupBy::kLocation), worst_table(ctx, d),
                  unanswered_table(d), failing_table(ctx, d)};
  if (ctx.format == Format::kJson)
    write_summary_json(ctx, d, t);
  else if (ctx.format == Format::kCsv)
    write_summary_csv(ctx, d);
  else
    write_summary_text(ctx, d, t);
  return 0;
}

int cmd_sources(Context& ctx) {
  std::vector<SourceHealth> all;
  std::map<std::string, std::vector<int64_t>> dates;  // newest review dates, for "quiet"
  {
    ReadSnapshot snap(ctx.db);
    all = ctx.queries.sources(ctx.config);
    for (const auto& h : all)
      if (h.in_database) dates[h.id] = alerts::newest_review_dates(ctx.db, h.id);
  }
  // The source_health rule's options (after_failures, silent_after) when the config has them.
  std::optional<alerts::AlertsConfig> rules;
  if (ctx.config) {
    try {
      rules = alerts::load_alerts_config(*ctx.config, {});
    } catch (const std::exception&) {
      // An [alerts] section repwatchd would refuse: the defaults still say something useful.
    }
  }
  Table t({{"source", "Source"},
           {"type", "Type"},
           {"location", "Location"},
           {"status", "Status"},
           {"since", "Since"},
           {"last_success", "Last success"},
           {"failures", "Failures", Align::kRight},
           {"last_error_kind", "Kind"},
           {"last_error", "Last error", Align::kLeft, 50},
           {"last_error_at", "Error at"},
           {"next_poll", "Next poll"},
           {"reviews", "Reviews", Align::kRight},
           {"latest_review", "Latest review"},
           {"last_new_review", "Last new"},
           {"usual_gap_days", "Usual gap (d)", Align::kRight},
           {"quiet_after_days", "Quiet after (d)", Align::kRight},
           {"warning_count", "Warnings", Align::kRight},
           {"warnings", "Warning", Align::kLeft, 50},
           {"warnings_at", "Warned at"},
           {"advice", "What to do"}});  // last: printed in full under the table
  for (const auto& h : all) {
    std::string status = status_of(h);
    const alerts::HealthOptions options =
        rules ? rules->health_options(h.location_id, h.id) : alerts::HealthOptions{};
    const alerts::SourceStatus judged = alerts::judge_source(h.poll, dates[h.id], options, ctx.now);
    std::string advice = h.poll.consecutive_failures > 0 ? h.poll.advice : "";
    if (status == "ok" && h.enabled) {
      if (judged.state == alerts::SourceState::kQuiet) {
        status = "quiet";
        advice = alerts::quiet_advice(h.type, judged.quiet.empty);
      } else if (judged.state == alerts::SourceState::kWarnings) {
        status = "warnings";
      }
    }
    if (h.poll.consecutive_failures > 0 && advice.empty())
      advice = alerts::default_advice(h.poll.last_error_kind, h.type);
    Tone tone = status == "ok" ? Tone::kGood
                : status == "never polled" || status == "disabled" || status == "warnings" ||
                        status == "quiet"
                    ? Tone::kWarn
                    : Tone::kBad;
    std::vector<std::string> warnings;
    if (judged.recent_warnings)
      for (const Problem& p : h.poll.warnings) warnings.push_back(p.to_string());
    auto days = [](int64_t seconds) {
      return seconds > 0 ? Value::number(static_cast<double>(seconds) / 86400, 1) : Value::null();
    };
    t.add({Value::text(h.id),
           Value::text(h.type),
           Value::text(h.location_id),
           Value::text(status).with_tone(tone),
           when(h.poll.consecutive_failures > 0 ? h.poll.failing_since : std::nullopt, ctx.now),
           when(h.poll.last_success_at, ctx.now),
           Value::integer(h.poll.consecutive_failures),
           error_kind_value(h.poll, Value::null()),
           h.poll.last_error.empty() ? Value::null() : Value::text(h.poll.last_error),
           when(h.poll.last_error_at, ctx.now),
           when(h.poll.next_poll_at, ctx.now),
           Value::integer(h.reviews),
           h.latest_review_at ? Value::text(format_date(*h.latest_review_at)) : Value::null(),
           when(h.poll.last_new_at, ctx.now),
           judged.quiet.judged ? days(judged.quiet.usual_gap) : Value::null(),
           judged.quiet.judged ? days(judged.quiet.threshold) : Value::null(),
           Value::integer(judged.recent_warnings ? h.poll.warning_count : 0),
           warnings.empty() ? Value::null() : Value::list(warnings).with_tone(Tone::kWarn),
           judged.recent_warnings ? when(h.poll.warnings_at, ctx.now) : Value::null(),
           advice.empty() ? Value::null() : Value::text(advice)});
  }
  if (ctx.format == Format::kTable && t.empty()) {
    ctx.out << "No sources yet: add [[sources]] to the config and start repwatchd.\n";
    return 0;
  }
  if (ctx.format != Format::kTable) {
    t.write(ctx.out, ctx.format, ctx.style);
    return 0;
  }
  // A terminal gets the columns a person acts on, then what to do in full; JSON and CSV have
  // every column.
  const std::vector<std::string> shown = {
      "source",        "type",          "location",   "status",    "since",
      "last_success",  "failures",      "last_error", "next_poll", "reviews",
      "latest_review", "warning_count", "warnings"};
  std::vector<Column> columns;
  std::vector<size_t> index;
  for (size_t c = 0; c < t.columns().size(); ++c)
    if (std::find(shown.begin(), shown.end(), t.columns()[c].key) != shown.end()) {
      columns.push_back(t.columns()[c]);
      index.push_back(c);
    }
  Table brief(std::move(columns));
  for (const auto& row : t.rows()) {
    std::vector<Value> r;
    for (size_t c : index) {
      r.push_back(row[c]);
      // A count of 0 says nothing in a table.
      if (t.columns()[c].key == "warning_count" && r.back().i == 0) r.back() = Value::null();
    }
    brief.add(std::move(r));
  }
  brief.without_empty({"since", "warning_count", "warnings", "last_error"})
      .write(ctx.out, ctx.format, ctx.style);
  const size_t advice = t.columns().size() - 1;
  bool first = true;
  for (const auto& row : t.rows()) {
    if (row[advice].kind != Value::Kind::kText) continue;
    ctx.out << (first ? "\nWhat to do:\n" : "") << "  " << row[0].str << " (" << row[3].str
            << "): " << row[advice].str << "\n";
    first = false;
  }
  return 0;
}

}  // namespace repwatch::cli
