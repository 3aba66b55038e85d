// repwatch/alerts/engine.h - decides which alerts to queue, and queues them in the outbox.
//
// The daemon uses it through AlertService (service.h), which builds one per connection. Direct
// use (tests, tools), all on one thread with the store's connection:
//
//   AlertEngine engine(load_alerts_config(config, analyzer.touchpoints()), store.database());
//   pipeline::store_poll(store, source, std::move(fetched), engine.hook(), now);  // per poll
//   engine.evaluate_periodic(now);   // every few minutes: no_reply, touchpoint_average
//
// The hook runs inside the poll's transaction: the alert rows and their deliveries commit or
// roll back with the review that triggered them. Each alert's dedupe key is UNIQUE, so a
// second hook call for the same thing queues nothing.
//
// When a review alerts (rules new_negative / edit_negative):
//   - inserted: negative, the rule's filters match, and it is NEW, not history:
//       * first sync of the source (state.first_sync_at empty): only when created_at >=
//         poll_started_at (in practice nothing; alert_on_first_sync = true alerts on all);
//       * later syncs: when created_at >= first_sync_at - backdate_grace (1 day by default:
//         sources that give only a date, reviews indexed late). An older review that shows up
//         only now is history the first sync missed: no alert.
//     key "<rule>:<review id>:<revision>".
//   - edited: the new version is negative, the version it replaced was not (by the same
//     rule's thresholds), and the rule never alerted on this review before: a review edited
//     negative, positive and negative again alerts once (one alert per review per rule,
//     ever); key "<rule>:<review id>:<revision>". Edits of history count: the edit itself is
//     new. (A review that was new and negative, then edited positive and negative again, gets
//     its new_negative alert and one edit_negative alert: they are two rules.)
//   - unchanged: nothing.
//   The alert of a review first seen kBackdatedAfter (2 days) or more after its own date says
//   so ("posted 9 days ago, first seen today").
// When a reply discloses (rule reply_phi; replies/checker.h finds something in reply_text,
// with the review's author and text as context):
//   - inserted with a reply: when the review is new as above, or the reply is (its reply_at by
//     the same rule: an old review answered after the first sync);
//   - edited: when the reply text changed (ignoring white space);
//   key "<rule>:<review id>:<fingerprint of the reply text>": once per reply text, so re-polls,
//   restarts and edits of the review alone queue nothing, and a reply changed back to a text
//   already alerted on is not alerted again. Recipients: owners of the rule's touchpoints
//   ("privacy") and the managers, else the marketing list (Rule::fallback).
// When a complete listing of its source lacks a review and it is marked removed (rule
// removed_negative, not urgent by default): the review as stored is negative, and the rule's
// filters match; key "<rule>:<review id>:removed:<removed_at>" (once per removal).
// Periodic rules (reviews marked removed are left out):
//   - no_reply: a review negative now, with no reply text, max(updated_at, first_seen_at) +
//     after <= now, that the source saw after its first sync (no escalations for history);
//     one per review ever: key "<rule>:<review id>".
//   - touchpoint_average: per location and touchpoint with a standard, the average over the
//     window (touchpoint sentiment mapped onto 1..5 as 3 + 2 * score, or the reviews' rating)
//     of at least min_reviews reviews is below the standard; key
//     "<rule>:<location>:<touchpoint>:<now / repeat>" (at most one per repeat period).
// Source health (rule source_health; the policy is in alerts/health.h): the poll hook runs in
// the transaction that records each poll, failed or not (db::PollHook):
//   engine.poll_hook()  -> pipeline::store_poll(..., next_poll_at, poll_hook)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alerts/content.h"
#include "alerts/rules.h"
#include "config/config.h"
#include "core/analysis.h"
#include "core/review.h"
#include "db/events.h"
#include "db/outbox_store.h"
#include "db/sqlite.h"
#include "db/store.h"

namespace repwatch::alerts {

class AlertEngine {
 public:
  AlertEngine(AlertsConfig config, const db::Database& db);
  AlertEngine(std::shared_ptr<const AlertsConfig> config, const db::Database& db);

  const AlertsConfig& config() const { return *config_; }

  // The pipeline's ReviewHook (db/events.h). The engine must outlive it.
  db::ReviewHook hook();
  // The pipeline's PollHook: source_health alerts. The engine must outlive it.
  db::PollHook poll_hook();

  // What the poll hook does: queues the source_health alerts one recorded poll raises (see
  // alerts/health.h). Returns how many. Must run inside the transaction that recorded it.
  int on_poll(const db::PollEvent& event);

  // What the hook does: on_review() or on_removed(), as the event says. Returns alerts queued.
  int on_event(const db::StoredEvent& event);

  // Queues the alerts one stored review triggers. Returns how many. Must run inside the
  // transaction that stored the review.
  int on_review(const SourceConfig& source, const Review& review, const Analysis& analysis,
                const db::UpsertResult& upsert, const db::PollState& state,
                int64_t poll_started_at);

  // Queues the alerts of a review just marked removed (at `removed_at`), as stored. Must run
  // inside the transaction that marked it.
  int on_removed(const SourceConfig& source, const Review& review, const Analysis& analysis,
                 int64_t review_id, int revision, int64_t removed_at);

  // Evaluates the periodic rules (no_reply, touchpoint_average) in one transaction of its
  // own. Returns alerts queued.
  int evaluate_periodic(int64_t now);

  // Queues a test alert to one address (`repwatch alerts test --to`); returns the delivery id.
  int64_t queue_test(const std::string& to, int64_t now);

 private:
  // What an alert is about: its row's review and place, and whose owners hear of it.
  struct Subject {
    std::optional<int64_t> review_id;
    std::optional<int> revision;
    std::string location_id;
    std::string source_id;
    std::vector<std::string> owner_touchpoints;  // the owners of these are told ("owners")
  };
  // The rule's urgency, or none (source_health: only "needs attention" follows the rule).
  enum class Urgency { kAsRule, kNotUrgent };
  // Inserts the alert (nothing when its key was queued before) with a delivery per recipient.
  // Returns 1 when it was queued, else 0.
  int queue(const Rule& rule, const std::string& dedupe_key, const AlertContent& content,
            const Subject& about, int64_t now, Urgency urgency = Urgency::kAsRule);
  // A source_health alert is about a source at a location: no review, no touchpoint owners.
  static Subject about_source(const std::string& location, const std::string& source_id);
  int health_failure(const Rule& rule, const db::PollEvent& e, const std::string& location);
  int health_success(const Rule& rule, const db::PollEvent& e, const std::string& location);
  HealthSnapshot health_snapshot(const db::PollEvent& e, const std::string& location,
                                 const std::string& state) const;
  // The start of the newest silence of `source` alerted by `rule`, if any.
  std::optional<int64_t> last_quiet_start(const Rule& rule, const std::string& source_id) const;
  ReviewSnapshot snapshot(const Review& review, const Analysis& analysis, int64_t review_id,
                          int revision, const std::string& source_type) const;
  // The content of an alert of `rule` about one stored review (at `location`).
  AlertContent review_content(const Rule& rule, Review review, const std::string& location,
                              const Analysis& analysis, int64_t review_id, int revision,
                              const std::string& source_type) const;
  // reply_phi: checks a new or changed reply; `reply_is_new` for an inserted review.
  int on_reply(const Rule& rule, const SourceConfig& source, const Review& review,
               const Analysis& analysis, const db::UpsertResult& upsert,
               const std::string& location, bool reply_is_new, int64_t poll_started_at);
  int evaluate_no_reply(const Rule& rule, int64_t now);
  int evaluate_average(const Rule& rule, int64_t now);

  std::shared_ptr<const AlertsConfig> config_;
  const db::Database& db_;
  db::OutboxStore outbox_;
};

// The headline of an alert of this rule type: "New negative review", ...
std::string headline_for(const Rule& rule);

}  // namespace repwatch::alerts
