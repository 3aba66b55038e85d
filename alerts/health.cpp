#include "alerts/health.h"

#include <algorithm>
#include <cmath>

#include "db/alert_queries.h"

namespace repwatch::alerts {

namespace {

// The mean gap between the first `n` values of `times` (sorted newest first); 0 when there are
// fewer than kRhythmMinimum of them.
int64_t mean_gap(std::vector<int64_t> times) {
  std::sort(times.begin(), times.end(), std::greater<>());
  if (times.size() > kRhythmSamples) times.resize(kRhythmSamples);
  if (times.size() < kRhythmMinimum) return 0;
  return (times.front() - times.back()) / static_cast<int64_t>(times.size() - 1);
}

}  // namespace

const char* to_string(SourceState state) {
  switch (state) {
    case SourceState::kOk:
      return "ok";
    case SourceState::kWarnings:
      return "warnings";
    case SourceState::kQuiet:
      return "quiet";
    case SourceState::kFailing:
      return "failing";
    case SourceState::kUnavailable:
      return "unavailable";
    case SourceState::kNeedsAttention:
      return "needs attention";
  }
  return "ok";
}

QuietJudgement judge_quiet(const db::PollState& state, const std::vector<int64_t>& newest_dates,
                           const HealthOptions& options, int64_t now) {
  QuietJudgement q;
  if (!options.judge_quiet) return q;
  std::optional<int64_t> since = state.last_new_at ? state.last_new_at : state.first_sync_at;
  if (!since) return q;  // never synced: nothing to judge yet
  q.since = *since;
  q.silence = std::max<int64_t>(0, now - *since);
  q.empty = newest_dates.empty();
  if (q.empty) {
    q.threshold = std::max(options.silent_after_seconds, kEmptySourceQuietAfter);
  } else {
    q.usual_gap = std::max(mean_gap(newest_dates), mean_gap(state.arrivals));
    if (q.usual_gap == 0) return q;  // too little history to know the rhythm
    q.threshold =
        std::max(options.silent_after_seconds,
                 static_cast<int64_t>(std::ceil(kQuietFactor * static_cast<double>(q.usual_gap))));
  }
  q.judged = true;
  q.quiet = q.silence > q.threshold;
  return q;
}

SourceState state_of_failure(std::optional<SourceError::Kind> kind) {
  if (kind == SourceError::Kind::kAuth || kind == SourceError::Kind::kConfig)
    return SourceState::kNeedsAttention;
  if (kind == SourceError::Kind::kUnavailable) return SourceState::kUnavailable;
  return SourceState::kFailing;
}

SourceStatus judge_source(const db::PollState& state, const std::vector<int64_t>& newest_dates,
                          const HealthOptions& options, int64_t now) {
  SourceStatus s;
  s.recent_warnings =
      state.warning_count > 0 && state.warnings_at && now - *state.warnings_at < kWarningsShownFor;
  if (state.consecutive_failures > 0) {
    s.error_kind = state.last_error_kind;
    s.state = state.needs_attention ? SourceState::kNeedsAttention : state_of_failure(s.error_kind);
    return s;
  }
  s.quiet = judge_quiet(state, newest_dates, options, now);
  if (s.quiet.quiet)
    s.state = SourceState::kQuiet;
  else if (s.recent_warnings)
    s.state = SourceState::kWarnings;
  return s;
}

std::vector<int64_t> newest_review_dates(const db::Database& db, const std::string& source_id) {
  return db::newest_review_dates(db, source_id, static_cast<int>(kRhythmSamples));
}

std::string site_name(const std::string& type) {
  if (type == "facebook") return "Facebook";
  if (type == "google_business") return "Google Business Profile";
  if (type == "google_places") return "Google Maps";
  if (type == "yelp") return "Yelp";
  if (type == "json_http") return "the review feed";
  if (type == "file") return "the export files";
  return type.empty() ? "the source" : type;
}

std::string default_advice(std::optional<SourceError::Kind> kind, const std::string& type) {
  const std::string site = site_name(type);
  const std::string reload =
      "then reload repwatch (sudo systemctl reload repwatchd): it tries this source again at "
      "once.";
  switch (kind.value_or(SourceError::Kind::kTransient)) {
    case SourceError::Kind::kAuth:
      return site +
             " refused repwatch's credentials (see the error below). Renew the key or token in "
             "this source's settings (or in the file its *_file key names), " +
             reload;
    case SourceError::Kind::kConfig:
      return "The settings of this source are wrong (see the error below). Correct them in "
             "repwatch's configuration file, check it with `repwatchd --check-config`, " +
             reload;
    case SourceError::Kind::kUnavailable:
      return site +
             " says it does not provide these reviews (see the error below); repwatch asks "
             "again once a day. Check the listing on the site itself meanwhile.";
    case SourceError::Kind::kGarbage:
      return site +
             " answered with something that is not its API's answer - often a web page from "
             "a proxy, a captive portal or a login page. repwatch keeps retrying; if this "
             "lasts, check the proxy settings ([http] in the configuration) and the source's "
             "address (base_url or url).";
    case SourceError::Kind::kTransient:
      break;
  }
  return "repwatch could not get an answer from " + site +
         " (a network error, a timeout, the site's own server error or its rate limit). It "
         "keeps retrying with growing pauses, so nothing needs doing if this passes. If it "
         "lasts, check this server's internet connection, DNS and proxy ([http] in the "
         "configuration), and the site's status page.";
}

std::string quiet_advice(const std::string& type, bool empty) {
  std::string s;
  if (empty)
    s = "This source has not returned a single review since it was added: check that its "
        "settings name the right listing (ids, path, locales). ";
  if (type == "file") {
    s += "Check that the export files still arrive where the source's path points: a stopped "
         "export job, a moved folder or a renamed file (pattern) look exactly like this.";
  } else if (type == "google_places") {
    s += "Google Maps shows repwatch only the 5 reviews it finds most relevant, so newer reviews "
         "may simply not be among them: open the place on Google Maps to compare (a "
         "google_business source sees every review).";
  } else if (type == "yelp") {
    s += "Yelp's API shows only the 3 newest reviews in each language asked for: open the "
         "business on yelp.com to compare; if it has newer reviews in another language, add that "
         "locale to the source's locales.";
  } else {
    s += "Open the listing on " + site_name(type) +
         " and compare: if it shows reviews newer than the last one repwatch saw, check that the "
         "source's settings still name this listing (a moved or merged listing gets a new id); "
         "if it does not, the listing really is quiet.";
  }
  s += " If silences this long are normal here, raise silent_after for this source (a "
       "source_health rule in [[alerts.rules]]).";
  return s;
}

std::string format_span(int64_t seconds) {
  seconds = std::max<int64_t>(0, seconds);
  auto unit = [](int64_t n, const char* one) {
    return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
  };
  const int64_t minutes = (seconds + 30) / 60;
  if (minutes < 60) return unit(std::max<int64_t>(1, minutes), "minute");
  const int64_t hours = minutes / 60;
  if (hours < 48) {
    const int64_t m = minutes % 60;
    return unit(hours, "hour") + (m ? " " + unit(m, "minute") : "");
  }
  const int64_t days = hours / 24;
  if (days < 14) {
    const int64_t h = hours % 24;
    return unit(days, "day") + (h ? " " + unit(h, "hour") : "");
  }
  return unit((seconds + 43200) / 86400, "day");
}

}  // namespace repwatch::alerts
