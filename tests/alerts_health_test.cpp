// Source health (alerts/health.h, rule source_health): the policy as pure judgements, the rule's
// configuration, the alerts the poll hook queues through pipeline::store_poll() into a real
// SQLite outbox (once per episode, recovered once, urgency, routing, digests), what the email
// says, and what the poll state keeps (warnings, arrivals, the migration that seeds them).
#include <gtest/gtest.h>

#include <set>

#include "alerts/content.h"
#include "alerts/engine.h"
#include "alerts/health.h"
#include "alerts/sender.h"
#include "tests/fixtures/smtp/alerts_harness.h"
#include "tests/fixtures/smtp/smtp_fixture.h"

namespace repwatch {
namespace {

using alerts::HealthOptions;
using alerts::judge_quiet;
using testing::AlertsHarness;
using testing::kT0;
using testing::make_review;

constexpr int64_t kDay = 86400;

// ---- the policy ---------------------------------------------------------------------------

// `n` times, newest first, `gap` apart, the newest at `newest`.
std::vector<int64_t> every(int64_t gap, int n, int64_t newest) {
  std::vector<int64_t> v;
  for (int i = 0; i < n; ++i) v.push_back(newest - i * gap);
  return v;
}

db::PollState synced(int64_t first_sync, std::optional<int64_t> last_new,
                     std::vector<int64_t> arrivals = {}) {
  db::PollState s;
  s.source_id = "src";
  s.first_sync_at = first_sync;
  s.last_success_at = first_sync;
  s.last_new_at = last_new;
  s.arrivals = std::move(arrivals);
  return s;
}

TEST(HealthPolicy, AReviewAMonthIsNotQuietAfterAWeek) {
  const int64_t now = kT0;
  // Twenty reviews a month apart, the last one arrived 20 days ago.
  auto dates = every(30 * kDay, 20, now - 20 * kDay);
  auto st = synced(now - 700 * kDay, now - 20 * kDay, every(30 * kDay, 20, now - 20 * kDay));
  auto q = judge_quiet(st, dates, HealthOptions{}, now);
  EXPECT_TRUE(q.judged);
  EXPECT_FALSE(q.quiet);
  EXPECT_EQ(q.usual_gap, 30 * kDay);
  EXPECT_EQ(q.threshold, 138 * kDay) << "4.6 x the usual gap: a silence that rare at its rate";
  // Nothing for 139 days is unusual even for this source.
  st.last_new_at = now - 139 * kDay;
  q = judge_quiet(st, every(30 * kDay, 20, now - 139 * kDay), HealthOptions{}, now);
  EXPECT_TRUE(q.quiet);
  EXPECT_EQ(q.since, now - 139 * kDay);
  EXPECT_EQ(q.silence, 139 * kDay);
}

TEST(HealthPolicy, ABusySourceIsQuietAfterSilentAfter) {
  const int64_t now = kT0;
  // Ten reviews a day: the usual gap is 2.4 h, so silent_after (7 days) decides.
  auto dates = every(8640, 20, now - 6 * kDay);
  auto st = synced(now - 100 * kDay, now - 6 * kDay, every(8640, 20, now - 6 * kDay));
  EXPECT_FALSE(judge_quiet(st, dates, HealthOptions{}, now).quiet);
  auto q = judge_quiet(st, dates, HealthOptions{}, now + 2 * kDay);
  EXPECT_TRUE(q.quiet);
  EXPECT_EQ(q.threshold, 7 * kDay);
  HealthOptions longer;
  longer.silent_after_seconds = 14 * kDay;
  EXPECT_FALSE(judge_quiet(st, dates, longer, now + 2 * kDay).quiet);
  HealthOptions off;
  off.judge_quiet = false;
  EXPECT_FALSE(judge_quiet(st, dates, off, now + 200 * kDay).judged);
}

TEST(HealthPolicy, ABatchExportIsJudgedByItsDeliveries) {
  const int64_t now = kT0;
  // A survey file delivered monthly, each with a month of daily answers: the reviews' dates
  // are a day apart, the deliveries a month.
  auto dates = every(kDay, 20, now - 21 * kDay);
  auto st = synced(now - 400 * kDay, now - 20 * kDay, every(30 * kDay, 12, now - 20 * kDay));
  auto q = judge_quiet(st, dates, HealthOptions{}, now);
  EXPECT_FALSE(q.quiet) << "20 days after the last delivery is normal for a monthly export";
  EXPECT_EQ(q.usual_gap, 30 * kDay);
  // Without the deliveries' rhythm (a source whose reviews arrive as they are written), 20
  // days is long for a review a day.
  st.arrivals = every(kDay, 20, now - 20 * kDay);
  EXPECT_TRUE(judge_quiet(st, dates, HealthOptions{}, now).quiet);
}

TEST(HealthPolicy, TooLittleHistoryIsNotJudgedAndAnEmptySourceIsAfterAMonth) {
  const int64_t now = kT0;
  auto st = synced(now - 90 * kDay, now - 80 * kDay, {now - 80 * kDay, now - 90 * kDay});
  auto q = judge_quiet(st, every(10 * kDay, 3, now - 80 * kDay), HealthOptions{}, now);
  EXPECT_FALSE(q.judged) << "3 reviews and 2 arrivals say nothing about the rhythm";
  EXPECT_FALSE(q.quiet);

  auto empty = synced(now - 20 * kDay, std::nullopt);
  q = judge_quiet(empty, {}, HealthOptions{}, now);
  EXPECT_TRUE(q.judged);
  EXPECT_FALSE(q.quiet);
  q = judge_quiet(empty, {}, HealthOptions{}, now + 11 * kDay);
  EXPECT_TRUE(q.quiet);
  EXPECT_TRUE(q.empty);
  EXPECT_EQ(q.since, now - 20 * kDay);

  db::PollState never;  // never synced
  EXPECT_FALSE(judge_quiet(never, {}, HealthOptions{}, now).judged);
}

TEST(HealthPolicy, StatesOfFailedPolls) {
  using alerts::SourceState;
  using K = SourceError::Kind;
  EXPECT_EQ(alerts::state_of_failure(K::kAuth), SourceState::kNeedsAttention);
  EXPECT_EQ(alerts::state_of_failure(K::kConfig), SourceState::kNeedsAttention);
  EXPECT_EQ(alerts::state_of_failure(K::kUnavailable), SourceState::kUnavailable);
  EXPECT_EQ(alerts::state_of_failure(K::kTransient), SourceState::kFailing);
  EXPECT_EQ(alerts::state_of_failure(K::kGarbage), SourceState::kFailing);
  EXPECT_EQ(alerts::state_of_failure(std::nullopt), SourceState::kFailing);

  db::PollState st = synced(kT0 - kDay, kT0 - kDay);
  st.warning_count = 2;
  st.warnings_at = kT0 - 6 * kDay;
  EXPECT_EQ(alerts::judge_source(st, {}, {}, kT0).state, SourceState::kWarnings);
  EXPECT_EQ(alerts::judge_source(st, {}, {}, kT0 + 2 * kDay).state, SourceState::kOk)
      << "warnings are shown for 7 days";
  st.consecutive_failures = 1;
  st.last_error_kind = SourceError::Kind::kUnavailable;
  EXPECT_EQ(alerts::judge_source(st, {}, {}, kT0).state, SourceState::kUnavailable);
  st.needs_attention = true;
  EXPECT_EQ(alerts::judge_source(st, {}, {}, kT0).state, SourceState::kNeedsAttention);
}

TEST(HealthPolicy, SpansReadLikeWords) {
  EXPECT_EQ(alerts::format_span(20), "1 minute");
  EXPECT_EQ(alerts::format_span(45 * 60), "45 minutes");
  EXPECT_EQ(alerts::format_span(3600), "1 hour");
  EXPECT_EQ(alerts::format_span(5 * 3600 + 10 * 60), "5 hours 10 minutes");
  EXPECT_EQ(alerts::format_span(3 * kDay + 4 * 3600), "3 days 4 hours");
  EXPECT_EQ(alerts::format_span(23 * kDay + 3600), "23 days");
}

// ---- the rule's configuration ---------------------------------------------------------------

alerts::AlertsConfig load(const std::string& extra) {
  Config c = parse_config(
      "state_dir = \"/tmp/rw-state\"\n"
      "[[locations]]\nid = \"downtown\"\n"
      "[[sources]]\nid = \"google-downtown\"\ntype = \"file\"\nlocation = \"downtown\"\n"
      "path = \"/tmp\"\n" +
          extra,
      "/etc/repwatch/repwatch.toml");
  return alerts::load_alerts_config(c, {});
}

std::string load_error(const std::string& extra) {
  try {
    load(extra);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(HealthConfig, OnByDefaultAndConfigurableLikeTheOthers) {
  auto ac = load("[alerts]\nmanagers = \"boss@clinic.example\"\n");
  const alerts::Rule* h = ac.find_rule("source_health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, alerts::RuleType::kSourceHealth);
  EXPECT_EQ(h->notify, (std::vector<std::string>{"managers", "webhook"}));
  EXPECT_TRUE(h->urgent);
  EXPECT_EQ(h->health.after_failures, 3);
  EXPECT_EQ(h->health.silent_after_seconds, 7 * kDay);

  ac = load(
      "[alerts]\nmarketing = \"m@clinic.example\"\n"
      "[[alerts.rules]]\ntype = \"new_negative\"\n"
      "[[alerts.rules]]\ntype = \"source_health\"\nafter_failures = 5\nsilent_after = \"30d\"\n"
      "urgent = false\nsources = [\"google-downtown\"]\nto = \"it@clinic.example\"\n");
  ASSERT_EQ(ac.rules.size(), 2u) << "with rules listed, exactly those apply";
  h = ac.find_rule("source_health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->health.after_failures, 5);
  EXPECT_EQ(h->health.silent_after_seconds, 30 * kDay);
  EXPECT_FALSE(h->urgent);
  EXPECT_EQ(ac.health_options("downtown", "google-downtown").after_failures, 5);
  EXPECT_EQ(ac.health_options("downtown", "other").after_failures, 3) << "defaults elsewhere";

  ac = load(
      "[alerts]\nmarketing = \"m@clinic.example\"\n"
      "[[alerts.rules]]\ntype = \"source_health\"\nsilent_after = \"off\"\n");
  EXPECT_FALSE(ac.rules[0].health.judge_quiet);
  ac = load(
      "[alerts]\nmarketing = \"m@clinic.example\"\n"
      "[[alerts.rules]]\ntype = \"source_health\"\nsilent_after = 864000\n");
  EXPECT_EQ(ac.rules[0].health.silent_after_seconds, 10 * kDay);

  EXPECT_NE(load_error("[alerts]\nmarketing = \"m@clinic.example\"\n"
                       "[[alerts.rules]]\ntype = \"source_health\"\nafter_failures = 0\n")
                .find("alerts.rules[0].after_failures: expected 1 to 1000"),
            std::string::npos);
  EXPECT_NE(load_error("[alerts]\nmarketing = \"m@clinic.example\"\n"
                       "[[alerts.rules]]\ntype = \"source_health\"\nsilent_after = \"soon\"\n")
                .find("silent_after: expected a duration"),
            std::string::npos);
  // Managers fall back to marketing: a rule with only marketing configured reaches someone.
  EXPECT_EQ(load_error("[alerts]\nmarketing = \"m@clinic.example\"\n"
                       "[[alerts.rules]]\ntype = \"source_health\"\n"),
            "");
  EXPECT_NE(load_error("[[alerts.rules]]\ntype = \"source_health\"\n").find("none of them has"),
            std::string::npos);
}

// ---- alerts through the poll hook ----------------------------------------------------------

const char* kPeople =
    "[alerts]\nmarketing = \"marketing@clinic.example\"\nmanagers = \"manager@clinic.example\"\n";

// One successful poll of `source` through store_poll() with both hooks.
pipeline::PollOutcome poll_ok(AlertsHarness& h, const std::string& source,
                              std::vector<Review> reviews, int64_t now,
                              std::vector<Problem> problems = {}) {
  pipeline::Fetched f;
  f.source_id = source;
  connectors::FetchResult result;
  for (const Review& r : reviews) f.analyses.push_back(testing::analyzer().analyze(r.text));
  result.reviews = std::move(reviews);
  result.cursor = "c" + std::to_string(now);
  result.problems = std::move(problems);
  f.result = std::move(result);
  return pipeline::store_poll(*h.store, h.source(source), std::move(f), h.service->hook(*h.db), now,
                              now + 900, h.service->poll_hook());
}

// One failed poll of `source`.
pipeline::PollOutcome poll_error(AlertsHarness& h, const std::string& source, SourceError error,
                                 int64_t now) {
  pipeline::Fetched f;
  f.source_id = source;
  f.error = std::move(error);
  return pipeline::store_poll(*h.store, h.source(source), std::move(f), h.service->hook(*h.db), now,
                              now + 3600, h.service->poll_hook());
}

SourceError expired() {
  SourceError e(SourceError::Kind::kAuth,
                "ratings page 1: HTTP 400: Graph API error 190/463 (OAuthException): Error "
                "validating access token: Session has expired");
  e.advise(
      "The Facebook Page access token has expired: create a new one and put it in "
      "/etc/repwatch/facebook-token (this source's access_token_file), then reload repwatch.");
  return e;
}

SourceError outage() { return SourceError(SourceError::Kind::kTransient, "HTTP 503: upstream"); }

struct HealthAlert {
  std::string key;
  bool urgent = false;
  alerts::AlertContent content;
};

std::vector<HealthAlert> health_alerts(const AlertsHarness& h) {
  std::vector<HealthAlert> out;
  db::Statement st = h.db->prepare(
      "SELECT dedupe_key, urgent, payload FROM alerts WHERE kind = 'source_health' ORDER BY id");
  while (st.step())
    out.push_back(
        {st.column_text(0), st.column_int(1) != 0, alerts::content_from_json(st.column_text(2))});
  return out;
}

std::set<std::string> recipients_of(const AlertsHarness& h, const std::string& key) {
  std::set<std::string> out;
  for (const auto& d : h.deliveries()) {
    auto a = h.outbox().alert(d.alert_id);
    if (a && a->dedupe_key == key) out.insert(d.recipient);
  }
  return out;
}

std::vector<Review> history(int n, int64_t newest, int64_t gap,
                            const std::string& source = "google-downtown") {
  std::vector<Review> v;
  for (int i = 0; i < n; ++i)
    v.push_back(make_review("h" + std::to_string(i), "P" + std::to_string(i), 5,
                            "Friendly staff and a short wait.", newest - i * gap, source,
                            source == "google-downtown" ? "downtown" : "north"));
  return v;
}

TEST(HealthAlerts, NeedsAttentionAtOnceOncePerEpisodeAndRecoveredOnce) {
  AlertsHarness h("health-attention", kPeople);
  ASSERT_TRUE(poll_ok(h, "google-downtown", history(3, kT0 - kDay, kDay), kT0).ok);
  EXPECT_TRUE(health_alerts(h).empty());

  auto p = poll_error(h, "google-downtown", expired(), kT0 + 3600);
  EXPECT_EQ(p.health_alerts, 1);
  auto a = health_alerts(h);
  ASSERT_EQ(a.size(), 1u);
  const std::string key =
      "source_health:google-downtown:needs_attention:" + std::to_string(kT0 + 3600);
  EXPECT_EQ(a[0].key, key);
  EXPECT_TRUE(a[0].urgent) << "needs attention ignores quiet hours and digests";
  ASSERT_TRUE(a[0].content.health);
  const alerts::HealthSnapshot& s = *a[0].content.health;
  EXPECT_EQ(s.state, "needs_attention");
  EXPECT_EQ(s.error_kind, "auth");
  EXPECT_NE(s.advice.find("/etc/repwatch/facebook-token"), std::string::npos);
  EXPECT_EQ(s.since, kT0 + 3600);
  EXPECT_EQ(s.failed_polls, 1);
  EXPECT_EQ(s.last_success_at, kT0);
  EXPECT_EQ(s.next_poll_at, kT0 + 3600 + 3600);
  EXPECT_EQ(s.location_name, "Downtown Family Practice");
  EXPECT_EQ(recipients_of(h, key), std::set<std::string>{"manager@clinic.example"});

  // Re-polls of the same episode raise nothing; the poll state counts them.
  for (int i = 2; i <= 4; ++i)
    EXPECT_EQ(poll_error(h, "google-downtown", expired(), kT0 + i * 3600).health_alerts, 0);
  EXPECT_EQ(h.store->poll_state("google-downtown").consecutive_failures, 4);
  EXPECT_EQ(h.store->poll_state("google-downtown").failing_since, kT0 + 3600);

  // It works again: one "recovered", naming what was missed.
  p = poll_ok(h, "google-downtown", {make_review("new1", "N", 4, "Good visit.", kT0 + 4 * 3600)},
              kT0 + 5 * 3600);
  EXPECT_EQ(p.health_alerts, 1);
  a = health_alerts(h);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].key, "source_health:google-downtown:recovered:" + std::to_string(kT0 + 3600));
  EXPECT_FALSE(a[1].urgent);
  EXPECT_EQ(a[1].content.health->episode, "needs_attention");
  EXPECT_EQ(a[1].content.health->failed_polls, 4);
  EXPECT_EQ(a[1].content.health->new_reviews, 1);
  EXPECT_EQ(poll_ok(h, "google-downtown", {}, kT0 + 6 * 3600).health_alerts, 0);

  // A later failure is a new episode.
  EXPECT_EQ(poll_error(h, "google-downtown", expired(), kT0 + 7 * 3600).health_alerts, 1);
  EXPECT_EQ(health_alerts(h).size(), 3u);
}

TEST(HealthAlerts, TransientFailuresAlertAfterThreeInARowAndEscalate) {
  AlertsHarness h("health-transient", kPeople);
  ASSERT_TRUE(poll_ok(h, "google-downtown", history(3, kT0 - kDay, kDay), kT0).ok);
  // One or two failed polls may pass by themselves: nothing.
  EXPECT_EQ(poll_error(h, "google-downtown", outage(), kT0 + 60).health_alerts, 0);
  EXPECT_EQ(poll_error(h, "google-downtown", outage(), kT0 + 180).health_alerts, 0);
  EXPECT_EQ(poll_error(h, "google-downtown", outage(), kT0 + 420).health_alerts, 1);
  EXPECT_EQ(poll_error(h, "google-downtown", outage(), kT0 + 900).health_alerts, 0);
  auto a = health_alerts(h);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].content.health->state, "failing");
  EXPECT_FALSE(a[0].urgent);
  EXPECT_EQ(a[0].content.health->failed_polls, 3);
  EXPECT_EQ(a[0].content.health->since, kT0 + 60);
  EXPECT_NE(a[0].content.health->advice.find("keeps retrying"), std::string::npos)
      << "the connector gave no advice: the default for its kind";

  // The same run turns into one a person must fix: said once more.
  EXPECT_EQ(poll_error(h, "google-downtown", expired(), kT0 + 1800).health_alerts, 1);
  EXPECT_EQ(poll_error(h, "google-downtown", outage(), kT0 + 3600).health_alerts, 0);
  a = health_alerts(h);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].content.health->state, "needs_attention");
  EXPECT_EQ(a[1].content.health->since, kT0 + 60) << "the same run of failures";

  // One "recovered" for the whole run.
  EXPECT_EQ(poll_ok(h, "google-downtown", {}, kT0 + 7200).health_alerts, 1);
  a = health_alerts(h);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[2].content.health->state, "recovered");
  EXPECT_EQ(a[2].content.health->episode, "needs_attention") << "the worst of the run";
  EXPECT_EQ(a[2].content.health->failed_polls, 6);

  // A run that needed a person first is not reported as merely failing later.
  poll_error(h, "google-downtown", expired(), kT0 + 7300);
  for (int i = 1; i <= 4; ++i) poll_error(h, "google-downtown", outage(), kT0 + 7300 + i * 60);
  a = health_alerts(h);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[3].content.health->state, "needs_attention");
  EXPECT_EQ(poll_ok(h, "google-downtown", {}, kT0 + 7900).health_alerts, 1);  // recovered
  ASSERT_EQ(health_alerts(h).size(), 5u);

  // Two failures then success: nothing was said, so no "recovered" either.
  poll_error(h, "google-downtown", outage(), kT0 + 8000);
  poll_error(h, "google-downtown", outage(), kT0 + 8100);
  EXPECT_EQ(poll_ok(h, "google-downtown", {}, kT0 + 8200).health_alerts, 0);
  EXPECT_EQ(health_alerts(h).size(), 5u);
}

TEST(HealthAlerts, AfterFailuresIsTheRulesOwn) {
  AlertsHarness h("health-after", std::string(kPeople) +
                                      "[[alerts.rules]]\ntype = \"source_health\"\n"
                                      "after_failures = 5\n");
  ASSERT_TRUE(poll_ok(h, "google-downtown", {}, kT0).ok);
  for (int i = 1; i <= 4; ++i)
    EXPECT_EQ(poll_error(h, "google-downtown", outage(), kT0 + i * 600).health_alerts, 0) << i;
  EXPECT_EQ(poll_error(h, "google-downtown", outage(), kT0 + 3000).health_alerts, 1);
}

// The first source_health rule that applies to a source judges it: one for some sources listed
// before a general one gives those their own options, and nothing is told twice.
TEST(HealthAlerts, TheFirstRuleThatAppliesJudges) {
  AlertsHarness h("health-first", std::string(kPeople) +
                                      "[[alerts.rules]]\nname = \"yelp_health\"\n"
                                      "type = \"source_health\"\nsources = [\"yelp-north\"]\n"
                                      "after_failures = 1\nto = \"it@clinic.example\"\n"
                                      "[[alerts.rules]]\ntype = \"source_health\"\n");
  ASSERT_TRUE(poll_ok(h, "google-downtown", {}, kT0).ok);
  ASSERT_TRUE(poll_ok(h, "yelp-north", {}, kT0).ok);
  EXPECT_EQ(poll_error(h, "yelp-north", outage(), kT0 + 60).health_alerts, 1);
  EXPECT_EQ(poll_error(h, "google-downtown", outage(), kT0 + 60).health_alerts, 0);
  auto a = health_alerts(h);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].key, "yelp_health:yelp-north:failing:" + std::to_string(kT0 + 60));
  EXPECT_EQ(recipients_of(h, a[0].key),
            (std::set<std::string>{"manager@clinic.example", "it@clinic.example"}));
}

TEST(HealthAlerts, UnavailableAlertsAtOnceButIsNotUrgent) {
  AlertsHarness h("health-unavailable", kPeople);
  ASSERT_TRUE(poll_ok(h, "yelp-north", {}, kT0).ok);
  SourceError e(SourceError::Kind::kUnavailable,
                "reviews (en_US): HTTP 400: BUSINESS_UNAVAILABLE: We may not be able to provide "
                "details for certain businesses");
  EXPECT_EQ(poll_error(h, "yelp-north", e, kT0 + 60).health_alerts, 1);
  auto a = health_alerts(h);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].content.health->state, "unavailable");
  EXPECT_FALSE(a[0].urgent);
  EXPECT_NE(a[0].content.health->advice.find("once a day"), std::string::npos);
  EXPECT_FALSE(h.store->poll_state("yelp-north").needs_attention);
}

TEST(HealthAlerts, ManagersOrElseMarketingPerLocation) {
  // No managers at all: marketing hears about broken monitoring.
  AlertsHarness h("health-routing", "[alerts]\nmarketing = \"marketing@clinic.example\"\n");
  ASSERT_TRUE(poll_ok(h, "google-downtown", {}, kT0).ok);
  poll_error(h, "google-downtown", expired(), kT0 + 60);
  EXPECT_EQ(
      recipients_of(h, "source_health:google-downtown:needs_attention:" + std::to_string(kT0 + 60)),
      std::set<std::string>{"marketing@clinic.example"});
}

TEST(HealthAlerts, ASilenceLongerThanUsualIsToldOnceAndItsEndToo) {
  AlertsHarness h("health-quiet", kPeople);
  // A review a day for 20 days, all seen at the first sync: quiet after 7 days (silent_after).
  ASSERT_TRUE(poll_ok(h, "google-downtown", history(20, kT0 - 3600, kDay), kT0).ok);
  EXPECT_EQ(poll_ok(h, "google-downtown", {}, kT0 + 6 * kDay).health_alerts, 0);
  EXPECT_EQ(poll_ok(h, "google-downtown", {}, kT0 + 7 * kDay + 60).health_alerts, 1);
  EXPECT_EQ(poll_ok(h, "google-downtown", {}, kT0 + 8 * kDay).health_alerts, 0) << "once";
  auto a = health_alerts(h);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].key, "source_health:google-downtown:quiet:" + std::to_string(kT0));
  EXPECT_FALSE(a[0].urgent);
  const alerts::HealthSnapshot& q = *a[0].content.health;
  EXPECT_EQ(q.state, "quiet");
  EXPECT_EQ(q.since, kT0);
  EXPECT_EQ(q.usual_gap_seconds, kDay);
  EXPECT_EQ(q.threshold_seconds, 7 * kDay);
  EXPECT_NE(q.advice.find("export files"), std::string::npos) << "a file source: " << q.advice;

  // A new review ends it: one "recovered".
  auto p = poll_ok(h, "google-downtown",
                   {make_review("late", "L", 5, "Lovely.", kT0 + 9 * kDay - 600)}, kT0 + 9 * kDay);
  EXPECT_EQ(p.health_alerts, 1);
  a = health_alerts(h);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].key, "source_health:google-downtown:recovered-quiet:" + std::to_string(kT0));
  EXPECT_EQ(a[1].content.health->episode, "quiet");
  EXPECT_EQ(poll_ok(h, "google-downtown", {}, kT0 + 9 * kDay + 900).health_alerts, 0);
}

TEST(HealthAlerts, NonUrgentOnesWaitForTheDigestNeedsAttentionDoesNot) {
  AlertsHarness h("health-digest", std::string(kPeople) + "[digest]\nmode = \"daily\"\n");
  ASSERT_TRUE(poll_ok(h, "google-downtown", {}, kT0).ok);
  ASSERT_TRUE(poll_ok(h, "yelp-north", {}, kT0).ok);
  for (int i = 1; i <= 3; ++i) poll_error(h, "google-downtown", outage(), kT0 + i * 60);
  poll_error(h, "yelp-north", expired(), kT0 + 600);
  std::map<std::string, bool> batch;
  for (const auto& d : h.deliveries())
    batch[std::string(db::to_string(d.kind)) + ":" + h.outbox().alert(d.alert_id)->dedupe_key] =
        d.batch;
  EXPECT_TRUE(
      batch.at("source_health:source_health:google-downtown:failing:" + std::to_string(kT0 + 60)));
  EXPECT_FALSE(batch.at("source_health:source_health:yelp-north:needs_attention:" +
                        std::to_string(kT0 + 600)));
}

TEST(HealthAlerts, QuietHoursHoldAllButNeedsAttention) {
  AlertsHarness h("health-quiet-hours",
                  std::string(kPeople) + "quiet_hours = \"22:00-07:00\"\ntimezone = \"UTC\"\n");
  ASSERT_TRUE(poll_ok(h, "google-downtown", {}, kT0 - 3 * 3600).ok);  // 21:00 UTC
  ASSERT_TRUE(poll_ok(h, "yelp-north", {}, kT0 - 3 * 3600).ok);
  const int64_t night = kT0 + 3600;  // 01:00 UTC
  for (int i = 0; i < 3; ++i) poll_error(h, "google-downtown", outage(), night + i * 60);
  poll_error(h, "yelp-north", expired(), night + 300);
  alerts::Sender sender(h.alerts, *h.db);
  alerts::SendStats s = sender.deliver_due(night + 600);
  EXPECT_EQ(s.sent, 1) << "needs attention goes out at night";
  EXPECT_EQ(s.held, 1) << "failing waits for the morning";
  std::map<std::string, db::DeliveryStatus> status;
  for (const auto& d : h.deliveries())
    status[d.source_id + ":" + (d.urgent ? "urgent" : "not urgent")] = d.status;
  EXPECT_EQ(status.at("yelp-north:urgent"), db::DeliveryStatus::kSent);
  EXPECT_EQ(status.at("google-downtown:not urgent"), db::DeliveryStatus::kPending);
  EXPECT_EQ(sender.deliver_due(kT0 + 7 * 3600).sent, 1);
  for (const auto& d : h.deliveries()) EXPECT_EQ(d.status, db::DeliveryStatus::kSent);
}

TEST(HealthAlerts, TheEmailSaysWhatBrokeWhatToDoSinceWhenAndWhatWasMissed) {
  AlertsHarness h("health-email", kPeople);
  ASSERT_TRUE(poll_ok(h, "google-downtown", history(3, kT0 - kDay, kDay), kT0).ok);
  poll_error(h, "google-downtown", expired(), kT0 + 3600);
  poll_error(h, "google-downtown", expired(), kT0 + 7200);
  auto a = health_alerts(h);
  ASSERT_EQ(a.size(), 1u);
  alerts::Rendered r = alerts::render_email(a[0].content, "[repwatch]");
  EXPECT_EQ(r.subject,
            "[repwatch] Action needed: reviews from the export files for Downtown Family Practice "
            "are not being read \xC2\xB7 google-downtown");
  for (const char* part :
       {"repwatch cannot read the reviews from the export files for Downtown Family Practice",
        "What to do: The Facebook Page access token has expired: create a new one and put it in "
        "/etc/repwatch/facebook-token",
        "Source:                google-downtown (the export files)",
        "Location:              Downtown Family Practice",
        "Since:                 2026-01-01 01:00 UTC (the first failed poll)",
        "Missed:                1 poll failed; no new data since 2026-01-01 00:00 UTC (1 hour)",
        "Next try:              2026-01-01 02:00 UTC", "Error validating access token",
        "so it cannot alert you about negative ones"})
    EXPECT_NE(r.text.find(part), std::string::npos) << part << "\n" << r.text;
  EXPECT_NE(r.html.find("<strong>What to do:</strong>"), std::string::npos);

  poll_ok(h, "google-downtown", {}, kT0 + 3 * 3600);
  a = health_alerts(h);
  ASSERT_EQ(a.size(), 2u);
  r = alerts::render_email(a[1].content, "[repwatch]");
  EXPECT_EQ(r.subject,
            "[repwatch] Resolved: reviews from the export files for Downtown Family Practice are "
            "read again \xC2\xB7 google-downtown");
  EXPECT_NE(r.text.find("after 2 failed polls in a row since 2026-01-01 01:00 UTC"),
            std::string::npos)
      << r.text;
  EXPECT_NE(r.text.find("Missed:                2 polls in a row failed; no new data since "
                        "2026-01-01 00:00 UTC (3 hours)"),
            std::string::npos)
      << r.text;
}

TEST(HealthAlerts, WebhookAndDigestCarryThem) {
  AlertsHarness h("health-render", kPeople);
  ASSERT_TRUE(poll_ok(h, "google-downtown", {}, kT0).ok);
  poll_error(h, "google-downtown", expired(), kT0 + 60);
  auto a = health_alerts(h);
  ASSERT_EQ(a.size(), 1u);
  std::string slack = alerts::render_webhook(a[0].content, "slack");
  EXPECT_NE(slack.find("Action needed"), std::string::npos) << slack;
  EXPECT_NE(slack.find("What to do"), std::string::npos) << slack;
  alerts::AlertContent digest;
  digest.kind = "digest";
  digest.period_start = kT0;
  digest.period_end = kT0 + kDay;
  alerts::DigestEntry e;
  e.alert_id = 1;
  e.headline = a[0].content.headline;
  e.created_at = kT0 + 60;
  e.health = a[0].content.health;
  digest.entries.push_back(e);
  auto back = alerts::content_from_json(alerts::to_json(digest));
  ASSERT_TRUE(back.entries.at(0).health);
  alerts::Rendered r = alerts::render_email(back, "[repwatch]");
  EXPECT_NE(r.text.find("Source needs attention"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("What to do: The Facebook Page access token has expired"),
            std::string::npos)
      << r.text;
}

// ---- what the poll state keeps -------------------------------------------------------------

TEST(HealthStore, WarningsStayUntilNewOnesAndArrivalsAreKept) {
  AlertsHarness h("health-store", kPeople);
  std::vector<Problem> problems = {
      {"page 100", "stopped after max_pages (100) pages; older ratings were not read"},
      {"reviews.csv:17", "rating: not a number \"abc\""}};
  ASSERT_TRUE(poll_ok(h, "google-downtown", history(2, kT0 - 60, 60), kT0, problems).ok);
  db::PollState st = h.store->poll_state("google-downtown");
  ASSERT_EQ(st.warnings.size(), 2u);
  EXPECT_EQ(st.warnings[0].to_string(),
            "page 100: stopped after max_pages (100) pages; older ratings were not read");
  EXPECT_EQ(st.warning_count, 2);
  EXPECT_EQ(st.warnings_at, kT0);
  EXPECT_EQ(st.last_new_at, kT0);
  EXPECT_EQ(st.arrivals, std::vector<int64_t>{kT0});

  // An incremental poll without problems does not read again what was skipped: kept.
  ASSERT_TRUE(poll_ok(h, "google-downtown", {}, kT0 + 900).ok);
  st = h.store->poll_state("google-downtown");
  EXPECT_EQ(st.warning_count, 2);
  EXPECT_EQ(st.warnings_at, kT0);
  EXPECT_EQ(st.last_new_at, kT0) << "nothing new";

  // New problems replace them; at most 20 are kept, all are counted.
  std::vector<Problem> many;
  for (int i = 0; i < 25; ++i) many.push_back({"row " + std::to_string(i), "bad"});
  ASSERT_TRUE(poll_ok(h, "google-downtown", {}, kT0 + 1800, many).ok);
  st = h.store->poll_state("google-downtown");
  EXPECT_EQ(st.warnings.size(), 20u);
  EXPECT_EQ(st.warning_count, 25);

  // Arrivals: newest first, at most 20.
  for (int i = 1; i <= 25; ++i)
    poll_ok(h, "google-downtown",
            {make_review("n" + std::to_string(i), "N", 5, "Fine.", kT0 + i * kDay - 60)},
            kT0 + i * kDay);
  st = h.store->poll_state("google-downtown");
  ASSERT_EQ(st.arrivals.size(), 20u);
  EXPECT_EQ(st.arrivals.front(), kT0 + 25 * kDay);
  EXPECT_EQ(st.arrivals.back(), kT0 + 6 * kDay);
  EXPECT_EQ(st.last_new_at, kT0 + 25 * kDay);

  // A failure: failing_since and the advice, cleared by the next success.
  poll_error(h, "google-downtown", expired(), kT0 + 30 * kDay);
  st = h.store->poll_state("google-downtown");
  EXPECT_EQ(st.failing_since, kT0 + 30 * kDay);
  EXPECT_NE(st.advice.find("access token has expired"), std::string::npos);
  EXPECT_TRUE(st.needs_attention);
  poll_ok(h, "google-downtown", {}, kT0 + 31 * kDay);
  st = h.store->poll_state("google-downtown");
  EXPECT_FALSE(st.failing_since);
  EXPECT_EQ(st.advice, "");
  // A config error needs a person as much as an auth error does.
  poll_error(h, "google-downtown", SourceError(SourceError::Kind::kConfig, "path missing"),
             kT0 + 32 * kDay);
  EXPECT_TRUE(h.store->poll_state("google-downtown").needs_attention);
}

// A failing poll hook must not stop failures from being counted: it is undone alone, and the
// next failed poll of the run raises what it could not.
TEST(HealthStore, AFailingHookDoesNotLoseTheFailedPoll) {
  AlertsHarness h("health-hook", kPeople);
  ASSERT_TRUE(poll_ok(h, "google-downtown", {}, kT0).ok);
  db::PollHook broken = [&](const db::PollEvent& e) -> int {
    h.service->poll_hook()(e);  // queues its alert, then fails: all of it is undone
    throw DbError("disk I/O error");
  };
  pipeline::Fetched f;
  f.source_id = "google-downtown";
  f.error = expired();
  pipeline::store_poll(*h.store, h.source("google-downtown"), std::move(f), nullptr, kT0 + 60,
                       kT0 + 3660, broken);
  EXPECT_EQ(h.store->poll_state("google-downtown").consecutive_failures, 1);
  EXPECT_TRUE(health_alerts(h).empty());
  EXPECT_EQ(poll_error(h, "google-downtown", expired(), kT0 + 3660).health_alerts, 1);
  auto a = health_alerts(h);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].content.health->since, kT0 + 60) << "the run began with the first failure";
}

TEST(HealthStore, TheMigrationSeedsFailingSinceAndTheRhythm) {
  auto dir = testing::make_temp_dir("health-migrate");
  auto path = dir / "old.db";
  {
    // A database as the release before this one left it.
    db::Database db = db::Database::open(path);
    auto all = db::schema_migrations();
    std::vector<db::Migration> before;
    for (const auto& m : all)
      if (std::string(m.name) != "health") before.push_back(m);
    ASSERT_EQ(before.size() + 1, all.size());
    db.migrate(before);
    db.exec(
        "INSERT INTO locations(id, name) VALUES ('d', 'D');"
        "INSERT INTO sources(id, type, location_id, added_at, first_sync_at) VALUES "
        "('ok', 'file', 'd', 1, 100), ('bad', 'yelp', 'd', 1, 100);"
        "INSERT INTO poll_state(source_id, last_success_at, consecutive_failures) VALUES "
        "('ok', 500, 0);"
        "INSERT INTO poll_state(source_id, last_success_at, last_error, last_error_kind, "
        "last_error_at, consecutive_failures) VALUES ('bad', 100, 'no such path', 'config', "
        "400, 3);");
    for (int i = 0; i < 25; ++i)
      db.exec(
          "INSERT INTO reviews(source_id, external_id, location_id, scale, created_at, "
          "updated_at, content_hash, first_seen_at, last_seen_at) VALUES ('ok', 'r" +
          std::to_string(i) + "', 'd', '1-5', " + std::to_string(i) + ", 0, 'h', " +
          std::to_string(1000 + (i / 2) * 10) + ", 0)");
  }
  db::Database db = db::open_store(path);
  db::ReviewStore store(db);
  db::PollState ok = store.poll_state("ok");
  EXPECT_EQ(ok.last_new_at, 1120);
  ASSERT_EQ(ok.arrivals.size(), 13u) << "distinct first-seen times, newest first";
  EXPECT_EQ(ok.arrivals.front(), 1120);
  EXPECT_EQ(ok.arrivals.back(), 1000);
  EXPECT_FALSE(ok.failing_since);
  db::PollState bad = store.poll_state("bad");
  EXPECT_EQ(bad.failing_since, 400) << "no later than its last error";
  EXPECT_TRUE(bad.needs_attention) << "a config error needs a person";
  EXPECT_FALSE(bad.last_new_at);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace repwatch
