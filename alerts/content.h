// repwatch/alerts/content.h - what an alert says, and how it reads as email and webhook.
//
// An alert's content is a snapshot taken when the alert is queued (the review as it was then,
// its touchpoints with their evidence phrases), stored as JSON in the outbox. Rendering at send
// time works from the snapshot only, so a later edit of the review cannot change what an alert
// already queued says, and a retry renders the same message.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"

namespace repwatch::alerts {

struct TouchpointSnapshot {
  std::string id;    // "billing"
  std::string name;  // "Billing and insurance"
  double score = 0;
  // Phrases of the review text: offsets into `text`, or into `translated_text` when the
  // review was analysed on the translation (ReviewSnapshot::on_translation).
  std::vector<Evidence> evidence;
};

struct ReviewSnapshot {
  int64_t review_id = 0;
  int revision = 1;
  std::string source_id;
  std::string source_type;  // "google_business"
  std::string location_id;
  std::string location_name;
  std::string author;
  std::optional<double> rating;      // normalized 1..5
  std::optional<double> raw_rating;  // as given
  std::string scale;                 // "1-5", "0-10", "binary", "none"
  std::string text;                  // the reviewer's own words
  std::string translated_text;       // the source's translation, if it gave one
  bool on_translation = false;       // sentiment and evidence are of translated_text
  int64_t created_at = 0;
  int64_t updated_at = 0;
  // When repwatch first saw the review (new_negative alerts; 0 when not said). An alert for a
  // review first seen kBackdatedAfter or more after its own date says so.
  int64_t first_seen_at = 0;
  int64_t removed_at = 0;  // removed_negative: when a complete listing first lacked it
  std::string reply_text;
  std::string url;
  double sentiment = 0;
  std::string label;  // "negative", ...
  std::vector<TouchpointSnapshot> touchpoints;
};

// A review first seen this long after its own date (moderation holds, sources that publish
// reviews backdated, late export files) is noted as such in its alert: "posted 9 days ago,
// first seen today".
constexpr int64_t kBackdatedAfter = 2 * 86400;

struct AverageSnapshot {  // touchpoint_average
  std::string location_id;
  std::string location_name;
  std::string touchpoint;
  std::string touchpoint_name;
  std::string measure;  // "sentiment" or "rating"
  double average = 0;
  double standard = 0;
  int reviews = 0;
  int64_t window_seconds = 0;
};

// source_health (alerts/health.h): one source's episode, as it stood when the alert was queued.
struct HealthSnapshot {
  std::string state;    // "needs_attention", "unavailable", "failing", "quiet", "recovered"
  std::string episode;  // recovered: what ended ("needs_attention", ..., "quiet")
  std::string source_id;
  std::string source_type;  // "facebook"
  std::string location_id;
  std::string location_name;
  std::string error_kind;  // "auth", "config", "unavailable", "transient", "garbage"
  std::string error;       // the last error, as the site gave it (secrets scrubbed)
  std::string advice;      // what to do, in words an office manager can act on
  int64_t since = 0;       // the episode's start: the first failed poll, or the silence's start
  int64_t at = 0;          // the poll that raised this alert
  int failed_polls = 0;    // failed polls in a row
  std::optional<int64_t> last_success_at;  // the last poll that worked, before the episode
  std::optional<int64_t> next_poll_at;     // the next try
  int64_t usual_gap_seconds = 0;           // quiet: the source's usual gap (0: no review yet)
  int64_t threshold_seconds = 0;           // quiet: the silence that counts as quiet
  int new_reviews = 0;                     // recovered: reviews not seen before in that poll
};

// reply_phi: what the reply checker found in ReviewSnapshot::reply_text.
struct ReplyFindingSnapshot {
  std::vector<std::string> kinds;  // "name", "relationship", ...: the most specific first
  std::string kind_name;           // "Patient's name or initials"
  std::string why;                 // why it matters
  std::string hint;                // what to write instead
  uint32_t offset = 0;             // into the reply text
  uint32_t length = 0;
  std::string phrase;
  std::optional<bool> in_review;  // the review itself says it
};

struct ReplyCheckSnapshot {
  std::vector<ReplyFindingSnapshot> findings;
  std::string safe_reply;  // a reply that is always safe (the terms file's)
};

struct DigestEntry {
  int64_t alert_id = 0;
  std::string headline;
  int64_t created_at = 0;
  std::optional<ReviewSnapshot> review;
  std::optional<AverageSnapshot> average;
  std::optional<HealthSnapshot> health;
  std::optional<ReplyCheckSnapshot> reply_check;
};

struct AlertContent {
  std::string kind;      // rule type ("new_negative", ..., "reply_phi"), "digest" or "test"
  std::string rule;      // rule name
  std::string headline;  // "New negative review", "No reply after 48 hours", ...
  std::optional<ReviewSnapshot> review;
  std::optional<AverageSnapshot> average;
  std::optional<HealthSnapshot> health;
  std::optional<ReplyCheckSnapshot> reply_check;  // reply_phi
  // digest
  std::vector<DigestEntry> entries;
  std::map<std::string, int> touchpoint_counts;  // touchpoint name -> alerts mentioning it
  int64_t period_start = 0;
  int64_t period_end = 0;
  // test
  std::string note;
};

std::string to_json(const AlertContent& content);
// Throws Error naming what is wrong when `json` is not a stored AlertContent.
AlertContent content_from_json(std::string_view json);

struct Rendered {
  std::string subject;  // UTF-8, unsanitized (message.h sanitizes and encodes)
  std::string text;     // text/plain body
  std::string html;     // text/html body, every piece of review data HTML-escaped
};

// The email for one alert. `prefix` starts the subject ("[repwatch]"; may be empty). An alert
// about a new or edited negative review ends with a short "Before you reply" reminder (what a
// public reply must not say, and the `repwatch reply-check` command for a draft); a reply_phi
// alert shows the posted reply with its findings marked and what to do now. `now` is the
// message's date: relative times ("posted 9 days ago") are reckoned from it; 0 reckons them
// from when the review was first seen.
Rendered render_email(const AlertContent& content, std::string_view prefix, int64_t now = 0);
// The webhook payload: format "slack" ({"text", "blocks"}) or "teams" (MessageCard).
std::string render_webhook(const AlertContent& content, std::string_view format, int64_t now = 0);

// "posted 9 days ago, first seen today" for a review first seen kBackdatedAfter or more after
// it was posted, as of `now` (0: as of when it was first seen); "" otherwise.
std::string backdated_note(const ReviewSnapshot& review, int64_t now);

// "★★☆☆☆" for a 1..5 rating, rounded to the nearest star.
std::string stars(double rating);

// The headline of a source_health alert in `state` ("Source needs attention", ...).
std::string health_headline(const std::string& state);

}  // namespace repwatch::alerts
