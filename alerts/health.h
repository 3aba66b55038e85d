// repwatch/alerts/health.h - is a source healthy? The policy behind the source_health rule and
// behind the status `repwatch sources` shows: pure judgements of a source's poll state
// (db::PollState, kept by pipeline::store_poll) and of its reviews' dates, with no clock and no
// writes of their own.
//
//   SourceStatus s = judge_source(state, newest_review_dates(db, id), options, now);
//   s.state == SourceState::kQuiet ...
//
// States, the first that holds:
//   needs attention  the last poll failed with an error a person must fix: the site refused
//                    the credentials (SourceError kAuth: token expired or revoked, key
//                    invalid, permission missing) or the source's settings are wrong (kConfig:
//                    unknown id, missing path). The scheduler retries no sooner than an hour
//                    later, and at once after a reload (daemon/scheduler.h).
//   unavailable      the last poll failed because the site says, for good, that it does not
//                    serve these reviews (kUnavailable: Facebook error 12 on a deprecated
//                    edge, Yelp BUSINESS_UNAVAILABLE). Asked again once a day.
//   failing          the last poll failed with an error that may pass by itself (kTransient:
//                    network, timeout, the site's 5xx, a rate limit; kGarbage: an answer not
//                    of the API's shape, e.g. a proxy's HTML page). Retried with backoff.
//   quiet            polls work, but no review not seen before has come for longer than this
//                    source's usual silence (below).
//   warnings         polls work, but a poll of the last 7 days had problems: records skipped
//                    as bad input, paging stopped at max_pages. Shown, never emailed.
//   ok
// (`repwatch sources` adds "disabled" and "never polled", which need the config.)
//
// Gone quiet, judged against the source's own rhythm:
//   silence    now - the last poll that stored a review not seen before (last_new_at), or,
//              for a source with no review yet, now - its first successful poll.
//   usual gap  the mean gap between the dates of its newest 20 reviews, and the mean gap
//              between the newest 20 polls that brought new reviews (a batch export's delivery
//              rhythm: a monthly survey file of 50 answers is one arrival a month, not one
//              review every 14 hours); the larger of the two. Each needs at least 5 values (4
//              gaps), else it is unknown.
//   threshold  max(silent_after, 4.6 x usual gap): if reviews kept coming at the usual rate
//              (a Poisson process), a silence that long would happen less than 1% of the time
//              (e^-4.6 = 0.01). A source with a review a month is quiet after about 4.6 months
//              of nothing, not after a week; one with ten a day after silent_after (default 7d).
//   Too little history: a source with no review at all is quiet max(silent_after, 30d) after
//   its first sync (its settings may point at the wrong listing); one with fewer than 5
//   reviews and fewer than 5 arrivals is not judged (its rhythm is not known yet).
//
// Alerts (rule type source_health, alerts/engine.h; recipients default managers, falling back
// to marketing where a location has no managers; the first such rule that applies to a source
// judges it). Each is raised inside the transaction that
// records the poll (db::PollHook), so it is queued exactly once and never lost:
//   needs attention  at once, urgent (ignores quiet hours and digests; rule key `urgent`).
//   unavailable      at once, not urgent.
//   failing          when `after_failures` (default 3) polls in a row have failed - repwatchd
//                    --once runs count, the count is in the database - not urgent.
//   quiet            at the first successful poll that finds the silence past its threshold,
//                    not urgent.
//   recovered        once, at the first successful poll after a run of failures that raised
//                    one of the alerts above (for quiet: the first poll that brings a new
//                    review), not urgent.
// One alert per episode: a run of failed polls is identified by its first failure
// (failing_since) and alerts at most once per state, and only ever worse - a run that was
// "failing" and turns into "needs attention" (the token expired during an outage) says so once
// more, one that needed attention is not reported as merely failing later; a silence is
// identified by its start. Dedupe keys: "<rule>:<source>:<state>:<start>" and
// "<rule>:<source>:recovered:<start>" (quiet: "<rule>:<source>:recovered-quiet:<start>").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/sqlite.h"
#include "db/store.h"

namespace repwatch::alerts {

enum class SourceState { kOk, kWarnings, kQuiet, kFailing, kUnavailable, kNeedsAttention };
// "ok", "warnings", "quiet", "failing", "unavailable", "needs attention"
const char* to_string(SourceState state);

inline constexpr int64_t kWarningsShownFor = 7 * 86400;
inline constexpr int64_t kEmptySourceQuietAfter = 30 * 86400;
inline constexpr double kQuietFactor = 4.6;  // -ln(0.01)
inline constexpr size_t kRhythmSamples = 20;
inline constexpr size_t kRhythmMinimum = 5;

struct HealthOptions {
  int after_failures = 3;                    // failed polls in a row before "failing" alerts
  int64_t silent_after_seconds = 7 * 86400;  // the shortest silence that can be "quiet"
  bool judge_quiet = true;                   // silent_after = "off": never quiet
};

struct QuietJudgement {
  bool judged = false;    // false: too little history (or never synced)
  bool quiet = false;     // silence > threshold
  int64_t since = 0;      // start of the silence (last_new_at or the first sync)
  int64_t silence = 0;    // seconds
  int64_t usual_gap = 0;  // seconds; 0 for a source without any review
  int64_t threshold = 0;  // seconds
  bool empty = false;     // the source has stored no review at all
};

// `newest_dates`: created_at of the source's newest reviews, newest first (at most
// kRhythmSamples are used); see newest_review_dates().
QuietJudgement judge_quiet(const db::PollState& state, const std::vector<int64_t>& newest_dates,
                           const HealthOptions& options, int64_t now);

struct SourceStatus {
  SourceState state = SourceState::kOk;
  std::optional<SourceError::Kind> error_kind;  // of the last poll, when it failed
  QuietJudgement quiet;
  bool recent_warnings = false;  // warnings_at within kWarningsShownFor
};

SourceStatus judge_source(const db::PollState& state, const std::vector<int64_t>& newest_dates,
                          const HealthOptions& options, int64_t now);

// The alerted state of a failed poll's error kind: needs attention (auth, config),
// unavailable, or failing (transient, garbage, unknown).
SourceState state_of_failure(std::optional<SourceError::Kind> kind);

// created_at of the source's newest kRhythmSamples reviews, newest first (one index range).
std::vector<int64_t> newest_review_dates(const db::Database& db, const std::string& source_id);

// The site a connector type reads, for people: "Facebook", "Google Business Profile",
// "Google Maps", "Yelp", "JSON feed", "export files"; the type itself when unknown.
std::string site_name(const std::string& source_type);

// What to do about a failed poll when the connector gave no advice of its own
// (SourceError::advice()), by error kind and site.
std::string default_advice(std::optional<SourceError::Kind> kind, const std::string& source_type);
// What to check when a source has gone quiet.
std::string quiet_advice(const std::string& source_type, bool empty);

// "45 minutes", "5 hours 10 minutes", "3 days 4 hours", "23 days".
std::string format_span(int64_t seconds);

}  // namespace repwatch::alerts
