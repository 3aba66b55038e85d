#include <algorithm>

#include "cli/commands.h"
#include "core/time.h"

namespace repwatch::cli {

namespace {

int64_t floor_day(int64_t t) { return (t >= 0 ? t : t - (kDay - 1)) / kDay * kDay; }
int64_t ceil_day(int64_t t) { return floor_day(t + kDay - 1); }

}  // namespace

Filter resolve_filter(const Context& ctx, const FilterArgs& a) {
  Filter f;
  if (!a.since.empty()) f.since = parse_when(a.since, ctx.now, false, "--since");
  if (!a.until.empty()) f.until = parse_when(a.until, ctx.now, true, "--until");
  if (f.since && f.until && *f.since >= *f.until)
    throw UsageError("--since " + a.since + " is not before --until " + a.until);
  f.sources = ctx.catalog.resolve_sources(a.sources);
  f.locations = ctx.catalog.resolve_locations(a.locations);
  f.touchpoints = ctx.catalog.resolve_touchpoints(a.touchpoints);
  if (!a.sources.empty() && !a.locations.empty()) {
    // A source belongs to one location: a combination that cannot match is a mistake.
    bool any = false;
    for (const auto& s : f.sources)
      for (const auto& l : f.locations)
        if (const auto* src = ctx.catalog.source(s); src && src->location_id == l) any = true;
    if (!any) {
      std::string msg = "--source and --location do not overlap: ";
      for (size_t i = 0; i < f.sources.size(); ++i) {
        const auto* src = ctx.catalog.source(f.sources[i]);
        msg += (i ? ", " : "") + f.sources[i] + " is at " + (src ? src->location_id : "?");
      }
      // Reviews carry their own location, which may differ from the source's home location
      // (one export for several clinics): only refuse when no review could match.
      Filter probe;
      probe.sources = f.sources;
      probe.locations = f.locations;
      if (ctx.queries.count_reviews(probe) == 0) throw UsageError(msg);
    }
  }
  f.negative = a.negative;
  f.unanswered = a.unanswered;
  f.include_removed = a.include_removed;
  if (!a.rating.empty()) parse_rating_filter(a.rating, f);
  return f;
}

Range resolve_period(const Context& ctx, const PeriodArgs& a) {
  int64_t until =
      a.until.empty() ? floor_day(ctx.now) + kDay : parse_when(a.until, ctx.now, true, "--until");
  Range r;
  if (!a.since.empty()) {
    if (!a.period.empty()) throw UsageError("give either --period or --since, not both");
    r = {parse_when(a.since, ctx.now, false, "--since"), until};
  } else {
    r = parse_period(a.period.empty() ? "30d" : a.period, until);
  }
  // The aggregates count whole UTC days.
  r.since = floor_day(r.since);
  r.until = ceil_day(r.until);
  if (r.since >= r.until) throw UsageError("the period " + describe(r) + " is empty");
  return r;
}

std::string format_minute(int64_t t) {
  std::string s = format_timestamp(t);  // 2026-01-31T14:05:09Z
  return s.substr(0, 10) + " " + s.substr(11, 5);
}

std::string format_ago(int64_t t, int64_t now) {
  int64_t d = now - t;
  bool future = d < 0;
  if (future) d = -d;
  std::string n;
  if (d < 90)
    n = std::to_string(d) + "s";
  else if (d < 90 * 60)
    n = std::to_string((d + 30) / 60) + "m";
  else if (d < 36 * 3600)
    n = std::to_string((d + 1800) / 3600) + "h";
  else
    n = std::to_string((d + kDay / 2) / kDay) + "d";
  return future ? "in " + n : n + " ago";
}

const std::vector<std::pair<std::string, std::string>>& help_topics() {
  static const std::vector<std::pair<std::string, std::string>> topics = {
      {"filters", R"(FILTERS - choosing which reviews a command looks at

Every listing command (reviews, search, export, trends, touchpoints, summary, report) takes
the same filters. Filters combine with AND; a filter given several values (repeated or
comma-separated) matches any of them.

  --since WHEN        reviews written at or after WHEN (see `repwatch help dates`)
  --until WHEN        reviews written before WHEN; a bare date includes that whole day
  --source NAME       a source id from the config ("google-downtown"), or a source type
                      ("google_business", "yelp", "file") meaning all sources of that type
  --location NAME     a location id ("downtown") or its name ("Downtown Family Practice")
  --touchpoint NAME   reviews that mention a touchpoint: its id ("billing") or name
                      ("Billing and insurance"); `repwatch touchpoints --all` lists them
  --negative          only reviews counted as negative: normalized rating <= 2, or no rating
                      and sentiment <= -0.3 (the daemon's [alerts] thresholds decide)
  --unanswered        only reviews the practice has not replied to
  --rating RANGE      normalized rating (1..5): 5, 4-5, 1-2, <=2, >=4, <3
  --include-removed   also reviews removed at their source: a source that lists everything
                      (Google Business Profile, Facebook, files) no longer has them. They are
                      kept, marked removed, and left out of every listing and figure unless
                      this is given.

Names are checked: an unknown source, location or touchpoint is an error (exit 2) that
suggests the closest known names, never a silent empty result.

The reporting commands (touchpoints, summary, report) look at a period instead:

  --period LENGTH     30d (default), 4w, 3mo, 1y: that long, ending with today (UTC); or a
                      calendar month: 2026-01
  --until WHEN        end the period there instead of today
  --since WHEN        start the period there (instead of --period)

and compare it with the period of the same length just before it. They count whole UTC days.

Examples:
  repwatch reviews --negative --unanswered --since 14d
  repwatch reviews --location downtown --touchpoint billing,wait_time --rating 1-2
  repwatch trends --by week --source yelp --since 2026-01-01
  repwatch touchpoints --period 2026-01 --location northside
)"},
      {"dates", R"(DATES - how --since, --until and --period read time

  2026-01-31              that day (UTC); as --until it includes the whole day
  2026-01-31T14:00:00Z    an exact time (RFC 3339, any offset)
  30d  2w  12h  3mo  1y   that long ago (mo = 30 days, y = 365 days); combine as 1w3d
  today  yesterday  now

"6m" is refused: on a date it would mean six minutes; write 6mo or 180d.

All days are UTC days: the trends' buckets, the periods' boundaries and "today".
)"},
      {"search", R"(SEARCH - the query language of `repwatch search`

  parking                 reviews containing "parking" (also "park", "parked": words are
                          matched by their stem, and accents are ignored)
  front desk              both words, anywhere in the review
  "front desk"            the exact phrase
  bill*                   words starting with "bill": billing, billed, bills
  parking OR garage       either word
  rude NOT doctor         "rude" but not "doctor"
  (phone OR call) rude    parentheses group

Results come best match first (BM25 ranking), with the matching words highlighted. When
more than 20,000 reviews match, the best are picked among the newest 20,000 of them. Combine
with any filter from `repwatch help filters`:
  repwatch search "call back" --location downtown --since 90d --negative
)"},
      {"formats", R"(OUTPUT FORMATS

Listings print an aligned table for people. For scripts and spreadsheets:
  --json       one JSON array of objects (summary and touchpoints: one JSON object)
  --csv        RFC 4180 CSV with a header line (CRLF line ends), UTF-8
Numbers in JSON keep their type; absent values are null. Ratings are normalized onto 1..5,
sentiment is -1..1, shares are 0..1.

`repwatch export --format csv|json|jsonl` writes every matching review with its analysis
(touchpoints, scores and evidence phrases), for spreadsheets or other tools.

Colors are used only on a terminal; NO_COLOR=1 or --color never turns them off, and
--color always forces them. Terminal tables also get a sparkline column in `trends`.
)"},
      {"exit-codes", R"(EXIT CODES

  0   success (an empty result is a success, and says so)
  1   an error: the database cannot be opened or read, a file cannot be written
  2   a usage error: unknown option, command, source, location or touchpoint, a bad date
  3   reply-check: the reply discloses patient information (the findings are printed)
)"},
  };
  return topics;
}

}  // namespace repwatch::cli
