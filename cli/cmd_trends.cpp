// repwatch trends / touchpoints.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "cli/commands.h"
#include "cli/trend.h"
#include "core/time.h"

namespace repwatch::cli {

// ---- buckets -------------------------------------------------------------------------------

Bucketing parse_bucketing(std::string_view by) {
  if (by == "day") return Bucketing::kDay;
  if (by == "week") return Bucketing::kWeek;
  if (by == "month") return Bucketing::kMonth;
  throw UsageError("--by: expected day, week or month, got \"" + std::string(by) + "\"");
}

int64_t bucket_start(int64_t day, Bucketing b) {
  using namespace std::chrono;
  switch (b) {
    case Bucketing::kDay:
      return day;
    case Bucketing::kWeek: {
      // 1970-01-01 was a Thursday; weeks start on Monday (ISO 8601).
      int64_t wd = ((day + 3) % 7 + 7) % 7;
      return day - wd;
    }
    case Bucketing::kMonth: {
      year_month_day ymd{sys_days{days{day}}};
      return sys_days{ymd.year() / ymd.month() / 1}.time_since_epoch().count();
    }
  }
  return day;
}

int64_t next_bucket(int64_t start, Bucketing b) {
  using namespace std::chrono;
  switch (b) {
    case Bucketing::kDay:
      return start + 1;
    case Bucketing::kWeek:
      return start + 7;
    case Bucketing::kMonth: {
      year_month_day ymd{sys_days{days{start}}};
      year_month next = year_month{ymd.year(), ymd.month()} + months{1};
      return sys_days{next / 1}.time_since_epoch().count();
    }
  }
  return start + 1;
}

std::string bucket_label(int64_t start, Bucketing b) {
  std::string date = format_date(start * kDay);
  return b == Bucketing::kMonth ? date.substr(0, 7) : date;
}

std::vector<Bucket> make_buckets(const std::vector<DayTotals>& days, Bucketing b,
                                 std::optional<int64_t> first_day, std::optional<int64_t> end_day) {
  std::map<int64_t, Totals> sums;
  for (const auto& d : days) sums[bucket_start(d.day, b)].add(d.totals);
  std::vector<Bucket> out;
  if (sums.empty() && (!first_day || !end_day)) return out;
  int64_t from = bucket_start(first_day ? *first_day : sums.begin()->first, b);
  int64_t to = end_day ? *end_day : next_bucket(sums.rbegin()->first, b);
  for (int64_t s = from; s < to; s = next_bucket(s, b)) {
    Bucket bk;
    bk.start_day = s;
    bk.end_day = next_bucket(s, b);
    bk.label = bucket_label(s, b);
    if (auto it = sums.find(s); it != sums.end()) bk.totals = it->second;
    out.push_back(std::move(bk));
  }
  return out;
}

namespace {

int64_t today(const Context& ctx) { return ctx.now >= 0 ? ctx.now / kDay : 0; }

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string scope(const Filter& f) {
  std::string s;
  s += f.sources.empty() ? "all sources" : "source " + join(f.sources);
  s += f.locations.empty() ? ", all locations" : ", location " + join(f.locations);
  return s;
}

Value tone_share(std::optional<double> share, int precision = 3) {
  Value v = Value::number(share, precision);
  v.shown = share ? percent(*share) : "-";
  if (share && *share >= 0.25) v.tone = Tone::kBad;
  return v;
}

}  // namespace

int cmd_trends(Context& ctx, const TrendsArgs& args) {
  Bucketing b = parse_bucketing(args.by);
  if (args.filter.negative || args.filter.unanswered || !args.filter.rating.empty())
    throw UsageError(
        "trends: --negative, --unanswered and --rating do not apply (trends show the "
        "share of negative reviews)");
  Filter f = resolve_filter(ctx, args.filter);
  // Whole UTC days; default windows: 30 days by day, 26 weeks by week, everything by month.
  int64_t end_day = f.until ? (*f.until + kDay - 1) / kDay : today(ctx) + 1;
  std::optional<int64_t> first_day;
  if (f.since) {
    first_day = *f.since / kDay;
  } else if (b == Bucketing::kDay) {
    first_day = end_day - 30;
  } else if (b == Bucketing::kWeek) {
    first_day = bucket_start(end_day - 1, b) - 25 * 7;
  }
  Filter q = f;
  q.since = first_day ? std::optional<int64_t>(*first_day * kDay) : std::nullopt;
  q.until = end_day * kDay;

  std::vector<DayTotals> days;
  {
    ReadSnapshot snap(ctx.db);
    days = ctx.queries.daily(q, GroupBy::kAll);
  }
  std::vector<Bucket> buckets;
  if (!days.empty() || first_day)
    buckets = make_buckets(days, b, first_day, std::optional<int64_t>(end_day));
  bool any = std::any_of(buckets.begin(), buckets.end(),
                         [](const Bucket& bk) { return bk.totals.reviews > 0; });
  bool by_touchpoint = !f.touchpoints.empty();

  std::vector<Column> cols = {{"period", b == Bucketing::kWeek  ? "Week of"
                                         : b == Bucketing::kDay ? "Day"
                                                                : "Month"},
                              {"start", "Start"},
                              {by_touchpoint ? "mentions" : "reviews",
                               by_touchpoint ? "Mentions" : "Reviews", Align::kRight},
                              {"rating", "Rating", Align::kRight},
                              {"sentiment", "Sentiment", Align::kRight},
                              {"share_negative", "Negative", Align::kRight}};
  bool spark_col = ctx.format == Format::kTable && ctx.style.tty;
  if (spark_col) cols.push_back({"trend", "Rating trend"});
  Table t(cols);
  double lo = 5, hi = 1;
  for (const auto& bk : buckets)
    if (auto r = bk.totals.rating()) lo = std::min(lo, *r), hi = std::max(hi, *r);
  for (const auto& bk : buckets) {
    std::vector<Value> row = {Value::text(bk.label),
                              Value::text(format_date(bk.start_day * kDay)),
                              Value::integer(bk.totals.reviews),
                              Value::number(bk.totals.rating(), 2),
                              Value::change(bk.totals.sentiment(), 2),
                              tone_share(bk.totals.share_negative())};
    if (spark_col) {
      std::string bar = spark(bk.totals.rating(), lo - 0.05, hi + 0.05);
      row.push_back(Value::text(bar));
    }
    t.add(std::move(row));
  }
  if (ctx.format != Format::kTable) {
    // The start column is for scripts; tables show it in the period label.
    t.write(ctx.out, ctx.format, ctx.style);
    return 0;
  }
  std::string what = by_touchpoint ? "Reviews mentioning " + join(f.touchpoints) : "Reviews";
  if (!any) {
    ctx.out << "No reviews "
            << (first_day ? "between " + format_date(*first_day * kDay) + " and " +
                                format_date(end_day * kDay - 1)
                          : std::string("yet"))
            << " (" << scope(f) << (by_touchpoint ? ", touchpoint " + join(f.touchpoints) : "")
            << ").\n";
    return 0;
  }
  ctx.out << paint(ctx.style, Tone::kBold, what + " by " + args.by) << " (" << scope(f)
          << "; UTC days)\n";
  // Drop the "start" column from the human table: the label says it.
  Table shown([&] {
    std::vector<Column> c = cols;
    c.erase(c.begin() + 1);
    return c;
  }());
  for (const auto& row : t.rows()) {
    std::vector<Value> r = row;
    r.erase(r.begin() + 1);
    shown.add(std::move(r));
  }
  shown.write_text(ctx.out, ctx.style);
  if (by_touchpoint)
    ctx.out << paint(ctx.style, Tone::kDim,
                     "Mentions: reviews mentioning it; Rating: their average rating; Sentiment "
                     "and Negative: about the touchpoint itself.")
            << "\n";
  if (ctx.style.tty && buckets.size() > 1) {
    std::vector<std::optional<double>> ratings, counts;
    double max_count = 0;
    for (const auto& bk : buckets) {
      ratings.push_back(bk.totals.rating());
      counts.push_back(double(bk.totals.reviews));
      max_count = std::max(max_count, double(bk.totals.reviews));
    }
    ctx.out << "\n  rating  " << sparkline(ratings, lo - 0.05, hi + 0.05) << "  " << fixed(lo, 2)
            << " .. " << fixed(hi, 2) << "\n  volume  " << sparkline(counts, 0, max_count)
            << "  0 .. " << max_count << "\n";
  }
  return 0;
}

// ---- touchpoints ---------------------------------------------------------------------------

std::vector<TouchpointCard> touchpoint_scorecard(const Queries& queries, const Catalog& catalog,
                                                 const Filter& base, const Range& cur,
                                                 size_t phrases, bool* phrases_capped) {
  Filter fc = base, fp = base;
  fc.since = cur.since, fc.until = cur.until;
  Range prev = cur.previous();
  fp.since = prev.since, fp.until = prev.until;
  auto now_totals = queries.touchpoint_totals(fc, catalog);
  auto prev_totals = queries.touchpoint_totals(fp, catalog);
  std::map<std::string, std::vector<std::pair<std::string, int64_t>>> top;
  if (phrases > 0) top = queries.top_phrases(fc, phrases, kPhraseWindow, phrases_capped);
  std::vector<TouchpointCard> cards;
  for (const auto& info : catalog.touchpoints) {
    if (!base.touchpoints.empty() && std::find(base.touchpoints.begin(), base.touchpoints.end(),
                                               info.id) == base.touchpoints.end())
      continue;
    TouchpointCard c;
    c.info = info;
    if (auto it = now_totals.find(info.id); it != now_totals.end()) c.current = it->second;
    if (auto it = prev_totals.find(info.id); it != prev_totals.end()) c.previous = it->second;
    if (auto it = top.find(info.id); it != top.end()) c.phrases = it->second;
    if (info.standard && c.current.rating()) c.met = *c.current.rating() >= *info.standard;
    cards.push_back(std::move(c));
  }
  return cards;
}

namespace {

void sort_cards(std::vector<TouchpointCard>& cards, const std::string& by) {
  auto key_neg = [](const TouchpointCard& c) { return c.current.negative_mentions; };
  if (by == "negative") {
    std::stable_sort(cards.begin(), cards.end(), [&](const auto& a, const auto& b) {
      if (key_neg(a) != key_neg(b)) return key_neg(a) > key_neg(b);
      return a.current.mentions > b.current.mentions;
    });
  } else if (by == "mentions") {
    std::stable_sort(cards.begin(), cards.end(), [](const auto& a, const auto& b) {
      return a.current.mentions > b.current.mentions;
    });
  } else if (by == "sentiment") {
    std::stable_sort(cards.begin(), cards.end(), [](const auto& a, const auto& b) {
      return a.current.sentiment().value_or(2) < b.current.sentiment().value_or(2);
    });
  } else if (by != "name" && by != "taxonomy") {
    throw UsageError("--sort: expected negative, mentions, sentiment or name, got \"" + by + "\"");
  }
}

std::optional<double> diff(std::optional<double> a, std::optional<double> b) {
  if (!a || !b) return std::nullopt;
  return *a - *b;
}

}  // namespace

int cmd_touchpoints(Context& ctx, const TouchpointsArgs& args) {
  Range cur = resolve_period(ctx, args.period);
  FilterArgs fa = args.filter;
  Filter base = resolve_filter(ctx, fa);
  bool capped = false;
  std::vector<TouchpointCard> cards;
  {
    ReadSnapshot snap(ctx.db);
    cards = touchpoint_scorecard(ctx.queries, ctx.catalog, base, cur, args.phrases, &capped);
  }
  sort_cards(cards, args.sort);
  if (!args.all)
    cards.erase(std::remove_if(cards.begin(), cards.end(),
                               [](const auto& c) { return c.current.mentions == 0; }),
                cards.end());

  Table t({{"touchpoint", "Touchpoint"},
           {"name", "Name", Align::kLeft, 28},
           {"mentions", "Mentions", Align::kRight},
           {"mentions_change", "Change", Align::kRight},
           {"share_negative", "Negative", Align::kRight},
           {"sentiment", "Sentiment", Align::kRight},
           {"sentiment_change", "Change", Align::kRight},
           {"rating", "Rating", Align::kRight},
           {"standard", "Standard", Align::kRight},
           {"standard_met", "Met"},
           {"owner", "Owner"},
           {"top_phrases", "Top phrases", Align::kLeft, 60}});
  for (const auto& c : cards) {
    Value mchange = Value::count_change(c.current.mentions, c.previous.mentions);
    Value schange =
        Value::toned_change(diff(c.current.sentiment(), c.previous.sentiment()), 2, 0.1);
    Value met = c.met ? Value::boolean(*c.met) : Value::null();
    if (c.met) met.tone = *c.met ? Tone::kGood : Tone::kBad, met.shown = *c.met ? "yes" : "NO";
    std::vector<std::string> phrases;
    for (const auto& [p, n] : c.phrases) phrases.push_back(p);
    std::vector<std::string> shown_phrases;
    for (const auto& [p, n] : c.phrases)
      shown_phrases.push_back(p + " (" + std::to_string(n) + ")");
    Value sentiment = Value::change(c.current.sentiment(), 2);
    if (c.current.sentiment() && *c.current.sentiment() < 0) sentiment.tone = Tone::kBad;
    t.add({Value::text(c.info.id), Value::text(c.info.name), Value::integer(c.current.mentions),
           std::move(mchange), tone_share(c.current.share_negative()), std::move(sentiment),
           std::move(schange), Value::number(c.current.rating(), 2),
           Value::number(c.info.standard, 1), std::move(met),
           c.info.owner.empty() ? Value::null() : Value::text(c.info.owner),
           Value::list(phrases).with_shown(join(shown_phrases))});
  }
  Range prev = cur.previous();
  if (ctx.format == Format::kJson) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.SetIndent(' ', 2);
    w.StartObject();
    w.Key("period");
    w.StartObject();
    w.Key("since");
    write_json(w, format_date(cur.since));
    w.Key("until");
    write_json(w, format_date(cur.until - 1));
    w.EndObject();
    w.Key("previous_period");
    w.StartObject();
    w.Key("since");
    write_json(w, format_date(prev.since));
    w.Key("until");
    write_json(w, format_date(prev.until - 1));
    w.EndObject();
    w.Key("phrases_sampled");
    w.Bool(capped);
    w.Key("touchpoints");
    write_json(w, t);
    w.EndObject();
    ctx.out << buf.GetString() << "\n";
    return 0;
  }
  if (ctx.format == Format::kCsv) {
    t.write_csv(ctx.out);
    return 0;
  }
  ctx.out << paint(ctx.style, Tone::kBold, "Touchpoints " + describe(cur)) << " vs "
          << describe(prev) << " (" << scope(base) << ")\n";
  if (cards.empty()) {
    ctx.out << "No touchpoint mentions in this period.\n";
    return 0;
  }
  // Tables: the id column is what filters take; the name is for reading.
  t.without_empty({"standard", "standard_met", "owner"}).write_text(ctx.out, ctx.style);
  ctx.out << paint(ctx.style, Tone::kDim,
                   "Negative: share of mentions that speak badly of it. Rating: average rating of "
                   "the reviews that mention it; Met: Rating >= the taxonomy's standard.")
          << "\n";
  if (capped)
    ctx.out << paint(ctx.style, Tone::kDim,
                     "Top phrases: counted over the latest " + std::to_string(kPhraseWindow) +
                         " mentions.")
            << "\n";
  return 0;
}

}  // namespace repwatch::cli
