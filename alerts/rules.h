// repwatch/alerts/rules.h - what to alert on and whom to tell: the [alerts], [smtp], [webhook]
// and [digest] sections of the config, parsed and validated.
//
//   AlertsConfig ac = load_alerts_config(config, analyzer.touchpoints());
//
// Every mistake throws ConfigError naming file, line and key ("repwatch.toml:31:
// alerts.rules[1].type: unknown rule type \"negative\"; expected one of new_negative, ...").
// See config/repwatch.example.toml for every option with its default.
//
// A review is NEGATIVE for a rule (match = "rating_then_sentiment", the default) when its
// normalized rating is <= rating_at_most, or it has no rating and its sentiment score is
// <= sentiment_at_most. match = "either" also counts a rated review whose text is negative
// enough; match = "both" needs both (a review without a rating then never matches).
//
// Rule types:
//   new_negative        a review seen for the first time is negative          (hook, urgent)
//   edit_negative       an edit turns a review that was not negative negative  (hook, urgent)
//   no_reply            a negative review still has no reply from the practice `after` hours
//                       after it was posted or last edited (escalation)        (periodic)
//   touchpoint_average  a touchpoint's average over `window` (per location) falls below its
//                       standard (taxonomy `standard`, overridable)            (periodic)
//   reply_phi           a reply the practice posted (new or edited) discloses patient
//                       information (replies/checker.h), once per reply text   (hook, urgent)
//   removed_negative    a negative review was removed at its source: a complete listing of a
//                       source that lists everything no longer has it (hook, not urgent: it
//                       goes into the next digest, or alone outside quiet hours without one)
//   source_health       a source needs attention, is unavailable, has failed `after_failures`
//                       polls in a row, or has gone quiet (no new review for longer than its
//                       own rhythm and `silent_after` allow); again when it recovers. Only
//                       the first source_health rule that applies to a source judges it.
//                       Policy: alerts/health.h          (poll hook; urgent: needs attention)
//
// Without any [[alerts.rules]], new_negative, edit_negative, reply_phi, removed_negative
// and source_health apply.
//
// Recipients of a rule: `notify` groups plus `to` addresses. Groups:
//   marketing  [alerts] marketing, replaced per location by [[locations]] alerts.marketing
//   managers   [alerts] managers, replaced per location by [[locations]] alerts.managers
//   owners     owner of each touchpoint the review mentions that is not praised (score <= 0):
//              taxonomy `owner`, overridden by [alerts.owners] and then [[locations]]
//              alerts.owners; for touchpoint_average, the owner of that touchpoint
//   webhook    the [webhook] channel, when configured
// reply_phi tells the owners of its `touchpoints` (default: "privacy") and the managers; when
// neither has an address at the review's location, the marketing list (Rule::fallback).
// source_health tells the managers; where a location has none (and the rule no `to`), the
// marketing list (Rule::fallback).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alerts/health.h"
#include "config/config.h"
#include "core/analysis.h"
#include "core/review.h"
#include "db/outbox_store.h"
#include "db/store.h"
#include "net/http.h"
#include "replies/checker.h"
#include "sentiment/analyzer.h"

namespace repwatch::alerts {

enum class RuleType {
  kNewNegative,
  kEditNegative,
  kNoReply,
  kTouchpointAverage,
  kReplyPhi,
  kRemovedNegative,
  kSourceHealth
};
const char* to_string(RuleType type);  // "new_negative", ...: the kind of its alerts' text
// The kind of the alerts a rule of this type raises (db/outbox_store.h).
db::AlertKind alert_kind(RuleType type);

enum class Match { kRatingThenSentiment, kEither, kBoth };

struct Rule {
  std::string name;  // unique; part of the alert's dedupe key. Default: the type's name.
  RuleType type = RuleType::kNewNegative;
  bool urgent = true;  // urgent rules ignore quiet hours and digests

  // Negativity (all but touchpoint_average).
  Match match = Match::kRatingThenSentiment;
  double rating_at_most = 2;        // on the normalized 1..5 scale
  double sentiment_at_most = -0.3;  // on the analyzer's [-1, 1] scale

  // Filters: empty means every location / source.
  std::vector<std::string> locations;
  std::vector<std::string> sources;

  // Routing.
  std::vector<std::string> notify;  // "marketing", "managers", "owners", "webhook"
  std::vector<std::string> to;      // extra email addresses
  // Groups told instead when `notify` and `to` reach no email address (reply_phi,
  // source_health: marketing).
  std::vector<std::string> fallback;

  // no_reply
  int64_t after_seconds = 48 * 3600;

  // touchpoint_average
  std::string measure = "sentiment";     // "sentiment" (touchpoint score) or "rating"
  int64_t window_seconds = 30 * 86400;   // rolling window
  int min_reviews = 3;                   // fewer reviews in the window: no verdict
  int64_t repeat_seconds = 7 * 86400;    // at most one alert per touchpoint and location per this
  std::vector<std::string> touchpoints;  // empty: every touchpoint with a standard;
                                         // reply_phi: whose owners are told ("privacy")

  // source_health: after_failures, silent_after (or "off"). `urgent` applies to its "needs
  // attention" alerts only; the others are never urgent.
  HealthOptions health;

  bool applies_to(const std::string& location_id, const std::string& source_id) const;
  // Is this version of a review negative by this rule's thresholds?
  bool is_negative(const Review& review, const Analysis& analysis) const;
};

struct QuietHours {
  bool enabled = false;
  int start_minute = 0;  // minutes after local midnight, e.g. 22:00 = 1320
  int end_minute = 0;    // may be < start_minute (wraps midnight)
};

struct SmtpConfig {
  std::string url;  // "smtp://host:587" (STARTTLS per `starttls`) or "smtps://host:465"
  std::string starttls = "required";    // "required", "try" or "off" (smtp:// only)
  std::string username;                 // AUTH when non-empty
  std::optional<std::string> password;  // from password / password_file / password_env
  std::string ca_file;                  // extra CA bundle (self-signed relay)
  bool verify_tls = true;
  int64_t timeout_seconds = 60;
};

struct WebhookConfig {
  std::string name = "webhook";    // shown in the outbox as the recipient
  std::optional<std::string> url;  // a secret: url / url_file / url_env
  std::string format = "slack";    // "slack" ({"text": ...} plus blocks) or "teams" (MessageCard)
  int64_t timeout_seconds = 30;
  net::HttpOptions http;  // from [http] (proxy, CA), with retries off: the outbox retries
};

enum class DigestMode { kOff, kDaily, kWeekly };

struct DigestConfig {
  DigestMode mode = DigestMode::kOff;  // off: non-urgent alerts go out one by one
  int at_minute = 8 * 60;              // local time of day the digest goes out
  int weekday = 1;                     // weekly: 0 = Sunday .. 6 = Saturday
};

// Per-location overrides ([[locations]] entry, key `alerts`).
struct LocationRouting {
  std::optional<std::vector<std::string>> marketing;
  std::optional<std::vector<std::string>> managers;
  std::map<std::string, std::vector<std::string>> owners;  // touchpoint id -> addresses
};

struct AlertsConfig {
  bool enabled = true;
  std::vector<Rule> rules;     // defaults: new_negative, edit_negative, reply_phi,
                               // removed_negative, source_health
  double negative_rating = 2;  // [alerts] negative_rating: default of every rule
  double negative_sentiment = -0.3;  // [alerts] negative_sentiment: default of every rule

  std::vector<std::string> marketing;
  std::vector<std::string> managers;
  std::map<std::string, std::vector<std::string>> owners;  // taxonomy, then [alerts.owners]
  std::map<std::string, double> standards;                 // taxonomy, then [alerts.standards]
  std::map<std::string, std::string> touchpoint_names;     // id -> "Billing and insurance"
  std::map<std::string, LocationRouting> locations;        // location id -> overrides
  std::map<std::string, std::string> location_names;       // id -> display name
  std::map<std::string, std::string> source_types;         // source id -> connector type

  // First sync of a source: alert on nothing older than the poll (false, the default) or
  // treat its history like new reviews (true; for demos).
  bool alert_on_first_sync = false;
  // Later syncs: a newly seen review older than the source's first sync minus this grace is
  // history that the first sync did not return; no alert. Covers date-only timestamps.
  int64_t backdate_grace_seconds = 86400;

  QuietHours quiet;
  bool utc = false;  // quiet hours and digest times in UTC instead of the machine's local time
  int max_emails_per_hour = 20;  // per recipient; 0 = no limit. Excess goes into a digest.

  // Retries: backoff starts at retry_initial, doubles up to retry_max; a delivery still
  // failing temporarily after retry_for is marked failed.
  int64_t retry_initial_seconds = 60;
  int64_t retry_max_seconds = 3600;
  int64_t retry_for_seconds = 3 * 86400;

  std::string from = "repwatch <repwatch@localhost>";  // From: header and envelope sender
  std::string from_address = "repwatch@localhost";     // the address part of `from`
  std::string message_id_domain = "localhost";         // right side of Message-IDs
  std::string subject_prefix = "[repwatch]";

  std::optional<SmtpConfig> smtp;  // absent: .eml files into eml_dir
  std::filesystem::path eml_dir;   // default state_dir / "outbox-eml"
  std::optional<WebhookConfig> webhook;
  DigestConfig digest;

  // The reply checker of [replies] (replies/checker.h), for reply_phi rules.
  std::shared_ptr<const replies::Checker> reply_checker;

  const Rule* find_rule(const std::string& name) const;
  // The options of the first source_health rule that applies to a source (the defaults when
  // none does), for `repwatch sources`.
  HealthOptions health_options(const std::string& location_id, const std::string& source_id) const;
  // Addresses for a group ("marketing", "managers") at a location, after overrides.
  const std::vector<std::string>& group(const std::string& group,
                                        const std::string& location_id) const;
  // Owners of a touchpoint at a location, after overrides (may be empty).
  std::vector<std::string> owners_of(const std::string& touchpoint,
                                     const std::string& location_id) const;
  std::string location_name(const std::string& location_id) const;
  std::string touchpoint_name(const std::string& touchpoint) const;
};

// Parses [alerts] (with [alerts.owners], [alerts.standards], [[alerts.rules]]), [smtp],
// [webhook], [digest], [replies] (for reply_phi) and each [[locations]] entry's `alerts` table.
AlertsConfig load_alerts_config(const Config& config,
                                const std::vector<sentiment::Touchpoint>& taxonomy);

// The store's `negative` column (db::NegativeRule) from [alerts] negative_rating and
// negative_sentiment, so that `repwatch reviews --negative` agrees with the alerts.
db::NegativeRule negative_rule(const AlertsConfig& config);

// "a@b.example" -> true. Rejects anything that could smuggle header syntax: spaces, control
// characters, <>()[],;:\" and missing local part or domain.
bool is_valid_address(const std::string& address);

// Is `epoch` inside the quiet hours? When so, `*ends_at` gets the end of this quiet period.
bool in_quiet_hours(const QuietHours& quiet, bool utc, int64_t epoch, int64_t* ends_at);

// The first digest time strictly after `epoch` (local or UTC per `utc`).
int64_t next_digest_time(const DigestConfig& digest, bool utc, int64_t epoch);

}  // namespace repwatch::alerts
