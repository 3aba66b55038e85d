// alerts/ engine and outbox against a real SQLite store, through pipeline::store_poll(): which
// reviews alert (first sync, history, edits), dedupe, routing, the periodic rules, and the
// sender's .eml default, quiet hours, hourly limit and digests; the webhook channel against a
// real HTTP receiver; `repwatch alerts` on the command line.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "alerts/content.h"
#include "alerts/engine.h"
#include "alerts/sender.h"
#include "cli/alerts_cmd.h"
#include "normalize/limits.h"
#include "tests/fixtures/smtp/alerts_harness.h"
#include "tests/fixtures/smtp/smtp_fixture.h"

namespace repwatch {
namespace {

using db::DeliveryStatus;
using testing::AlertsHarness;
using testing::kT0;
using testing::make_review;
using testing::run_alerts;

const char* kNegative =
    "The receptionist was rude and billing charged me twice for one visit. Never coming back.";
const char* kPositive = "Dr. Smith was wonderful, the nurses were kind.";
const char* kMarketing =
    "[alerts]\nmarketing = [\"marketing@clinic.example\", \"MARKETING@clinic.example\"]\n"
    "managers = \"manager@clinic.example\"\n"
    "owners = { billing = \"billing.lead@clinic.example\", front_desk = "
    "\"frontdesk.lead@clinic.example\", physician = \"md@clinic.example\" }\n";

std::set<std::string> recipients(const std::vector<db::DeliveryRow>& ds) {
  std::set<std::string> out;
  for (const auto& d : ds) out.insert(std::string(db::to_string(d.channel)) + ":" + d.recipient);
  return out;
}

int count_alerts(const db::Database& db, const std::string& where = "1 = 1") {
  db::Statement st = db.prepare("SELECT COUNT(*) FROM alerts WHERE " + where);
  st.step();
  return static_cast<int>(st.column_int(0));
}

TEST(AlertsEngineTest, FirstSyncAlertsOnNothingOlderThanThePoll) {
  AlertsHarness h("engine-first", kMarketing);
  auto p = h.poll("google-downtown",
                  {make_review("a", "A", 1, kNegative, kT0 - 86400 * 400),
                   make_review("b", "B", 1, kNegative, kT0 - 60),
                   // Dated at or after the poll's start: not history (in practice: clock skew).
                   make_review("c", "C", 1, kNegative, kT0)},
                  kT0);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.alerts_queued, 1);
  EXPECT_EQ(count_alerts(*h.db), 1);

  // Later syncs: a review that shows up now but is older than the first sync minus the grace
  // (1 day) is history the first sync missed; one dated within the grace (date-only sources)
  // alerts.
  p = h.poll("google-downtown",
             {make_review("d", "D", 1, kNegative, kT0 - 3 * 86400),
              make_review("e", "E", 1, kNegative, kT0 - 3600),  // date-only, earlier that day
              make_review("f", "F", 5, kPositive, kT0 + 100)},
             kT0 + 900);
  EXPECT_EQ(p.alerts_queued, 1);
  db::OutboxStore ob(*h.db);
  EXPECT_TRUE(ob.has_alert(
      "new_negative:" + std::to_string(h.store->find("google-downtown", "e")->id) + ":1"));
}

// A review longer than an alert keeps (20,000 bytes) is cut on a character boundary and marked,
// and only evidence within the part shown is kept.
TEST(AlertsEngineTest, ALongReviewIsCutOnACharacterBoundaryAndMarked) {
  AlertsHarness h("engine-long", std::string(kMarketing) + "alert_on_first_sync = true\n");
  std::string text = std::string(kNegative) + " ";
  // The cut (20,000 bytes less the marker's 15) falls inside a two-byte character.
  if (text.size() % 2 == 1) text += "x";
  while (text.size() < 30000) text += "\xC3\xA9";  // é
  text += " The billing department was rude.";
  auto p = h.poll("google-downtown", {make_review("long", "Pat", 1, text, kT0 - 60)}, kT0);
  ASSERT_TRUE(p.ok) << p.error;
  ASSERT_EQ(p.alerts_queued, 1);
  db::OutboxStore ob(*h.db);
  auto alert = ob.alert(1);
  ASSERT_TRUE(alert);
  alerts::AlertContent c = alerts::content_from_json(alert->payload);
  const std::string& shown = c.review->text;
  EXPECT_LE(shown.size(), 20000u);
  EXPECT_EQ(shown.substr(shown.size() - kTruncationMarker.size()), kTruncationMarker);
  const std::string body = shown.substr(0, shown.size() - kTruncationMarker.size());
  EXPECT_EQ(body, text.substr(0, body.size()));
  EXPECT_EQ(clean_field(body, true), body);  // valid UTF-8: no character cut in half
  ASSERT_FALSE(c.review->touchpoints.empty());
  for (const auto& t : c.review->touchpoints)
    for (const auto& e : t.evidence) EXPECT_LE(e.offset + e.length, body.size()) << t.id;
}

TEST(AlertsEngineTest, AlertOnFirstSyncForDemos) {
  AlertsHarness h("engine-demo", std::string(kMarketing) + "alert_on_first_sync = true\n");
  auto p = h.poll("google-downtown",
                  {make_review("a", "A", 1, kNegative, kT0 - 86400 * 400),
                   make_review("b", "B", 5, kPositive, kT0 - 60)},
                  kT0);
  EXPECT_EQ(p.alerts_queued, 1);
  // Running it again (the demo run twice) queues nothing.
  p = h.poll("google-downtown",
             {make_review("a", "A", 1, kNegative, kT0 - 86400 * 400),
              make_review("b", "B", 5, kPositive, kT0 - 60)},
             kT0 + 60);
  EXPECT_EQ(p.alerts_queued, 0);
  EXPECT_EQ(count_alerts(*h.db), 1);
}

TEST(AlertsEngineTest, FirstSyncAlertsOnNoEditOfItsHistoryEither) {
  // A first sync that sees a review twice (two monthly exports in the import directory, the
  // later one with the review edited to 1 star) stores an edit: of history, so no alert.
  AlertsHarness h("engine-first-edit", kMarketing);
  Review before = make_review("r", "Pat", 5, kPositive, kT0 - 86400 * 30);
  Review after = before;
  after.rating = after.raw_rating = 1;
  after.text = kNegative;
  after.updated_at = kT0 - 86400 * 2;
  auto p = h.poll("google-downtown", {before, after}, kT0);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.inserted, 1);
  EXPECT_EQ(p.edited, 1);
  EXPECT_EQ(p.alerts_queued, 0);
  EXPECT_EQ(count_alerts(*h.db), 0);

  // After the first sync the same kind of edit alerts: a patient changed their review.
  Review later = after;
  later.rating = later.raw_rating = 4;
  later.text = kPositive;
  later.updated_at = kT0 + 100;
  EXPECT_EQ(h.poll("google-downtown", {later}, kT0 + 900).alerts_queued, 0);
  later.rating = later.raw_rating = 1;
  later.text = kNegative;
  later.updated_at = kT0 + 1000;
  EXPECT_EQ(h.poll("google-downtown", {later}, kT0 + 1800).alerts_queued, 1);
}

// Edits `r` to `stars` and `text` and polls it (a quarter of an hour after the edit); returns
// the alerts queued.
int edit(AlertsHarness& h, Review& r, double stars, const char* text) {
  r.rating = r.raw_rating = stars;
  r.text = text;
  r.updated_at += 1000;
  return h.poll("google-downtown", {r}, r.updated_at + 900).alerts_queued;
}

// One alert per review per rule, ever: an edit that turns a review negative alerts once; the
// review turning positive and negative again (and again) alerts no more.
TEST(AlertsEngineTest, EditsThatTurnAReviewNegativeAlertOncePerReviewEver) {
  AlertsHarness h("engine-edit", kMarketing);
  h.poll("google-downtown", {}, kT0);
  Review r = make_review("r", "Pat", 5, kPositive, kT0 + 100);
  EXPECT_EQ(h.poll("google-downtown", {r}, kT0 + 900).alerts_queued, 0);

  // Edited to 1 star: edit_negative, revision 2.
  r.rating = r.raw_rating = 1;
  r.text = kNegative;
  r.updated_at = kT0 + 1000;
  EXPECT_EQ(h.poll("google-downtown", {r}, kT0 + 1800).alerts_queued, 1);
  const int64_t id = h.store->find("google-downtown", "r")->id;
  db::OutboxStore ob(*h.db);
  EXPECT_TRUE(ob.has_alert("edit_negative:" + std::to_string(id) + ":2"));
  // Re-polled unchanged, and an edit that stays negative: nothing.
  EXPECT_EQ(h.poll("google-downtown", {r}, kT0 + 2700).alerts_queued, 0);
  r.text += " Still angry.";
  r.updated_at = kT0 + 2800;
  EXPECT_EQ(h.poll("google-downtown", {r}, kT0 + 3600).alerts_queued, 0);
  // Back to positive, then negative again, twice: no second alert.
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(edit(h, r, 5, kPositive), 0);
    EXPECT_EQ(edit(h, r, 2, kNegative), 0);
  }
  EXPECT_EQ(h.store->find("google-downtown", "r")->revision, 7);
  EXPECT_EQ(count_alerts(*h.db), 1);

  // A review that was new and negative got its new_negative alert; edited positive and
  // negative again, it gets one edit_negative alert (another rule), once.
  Review n = make_review("n", "Sam", 1, kNegative, kT0 + 9000);
  EXPECT_EQ(h.poll("google-downtown", {n}, kT0 + 9900).alerts_queued, 1);
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(edit(h, n, 5, kPositive), 0);
    EXPECT_EQ(edit(h, n, 1, kNegative), round == 0 ? 1 : 0);
  }
  const int64_t nid = h.store->find("google-downtown", "n")->id;
  EXPECT_EQ(
      count_alerts(*h.db, "review_id = " + std::to_string(nid) + " AND rule = 'new_negative'"), 1);
  EXPECT_EQ(
      count_alerts(*h.db, "review_id = " + std::to_string(nid) + " AND rule = 'edit_negative'"), 1);
}

TEST(AlertsEngineTest, SameEventTwiceQueuesOnce) {
  AlertsHarness h("engine-dedupe", kMarketing);
  h.poll("google-downtown", {}, kT0);
  Review r = make_review("r", "Pat", 1, kNegative, kT0 + 100);
  Analysis a = testing::analyzer().analyze(r.text);
  db::UpsertResult u;
  {
    db::Transaction tx(*h.db);
    u = h.store->upsert(r, a, kT0 + 900);
    tx.commit();
  }
  db::PollState state = h.store->poll_state("google-downtown");
  alerts::AlertEngine engine(h.alerts, *h.db);
  // An overlapping run that saw the same insert: the UNIQUE key stops the second.
  for (int i = 0; i < 3; ++i) {
    db::Transaction tx(*h.db);
    int n = engine.on_review(h.source("google-downtown"), r, a, u, state, kT0 + 900);
    EXPECT_EQ(n, i == 0 ? 1 : 0);
    tx.commit();
  }
  EXPECT_EQ(count_alerts(*h.db), 1);
  EXPECT_EQ(h.deliveries().size(), 3u);  // marketing (deduplicated ignoring case) + 2 owners
}

TEST(AlertsEngineTest, RoutingOwnersOverridesAndFilters) {
  AlertsHarness h("engine-route", std::string(kMarketing) +
                                      "[[alerts.rules]]\ntype = \"new_negative\"\n"
                                      "[[alerts.rules]]\nname = \"north-only\"\ntype = "
                                      "\"new_negative\"\nlocations = \"north\"\n"
                                      "notify = []\nto = \"north.director@clinic.example\"\n");
  h.poll("google-downtown", {}, kT0);
  h.poll("yelp-north", {}, kT0);
  // "doctor great but billing a nightmare": billing owner yes, physician (praised) no.
  h.poll("google-downtown",
         {make_review("m", "Mixed", 2, "The doctor was great but the billing was a nightmare.",
                      kT0 + 10)},
         kT0 + 900);
  auto ds = h.deliveries();
  EXPECT_EQ(recipients(ds), (std::set<std::string>{"email:marketing@clinic.example",
                                                   "email:billing.lead@clinic.example"}));
  // North: the second rule only applies there.
  h.poll("yelp-north", {make_review("n", "N", 1, kNegative, kT0 + 10, "yelp-north", "north")},
         kT0 + 900);
  std::set<std::string> north_rcpts;
  for (const auto& d : h.deliveries())
    if (d.location_id == "north") north_rcpts.insert(d.rule + " " + d.recipient);
  EXPECT_EQ(north_rcpts, (std::set<std::string>{"new_negative marketing@clinic.example",
                                                "new_negative billing.lead@clinic.example",
                                                "new_negative frontdesk.lead@clinic.example",
                                                "north-only north.director@clinic.example"}));
}

TEST(AlertsEngineTest, LocationOverridesReplaceMarketingAndOwners) {
  AlertsHarness h("engine-loc", kMarketing);
  // The harness's base config has no overrides; build one that has.
  Config c2 = parse_config(
      std::string("state_dir = \"") + (h.dir / "state").string() +
          "\"\n[[locations]]\nid = \"downtown\"\n[[locations]]\nid = \"north\"\n"
          "alerts = { marketing = [\"north.mkt@clinic.example\"], owners = { billing = "
          "\"north.billing@clinic.example\" } }\n"
          "[[sources]]\nid = \"yelp-north\"\ntype = \"file\"\nlocation = \"north\"\npath = "
          "\"/tmp\"\n" +
          kMarketing,
      h.dir / "repwatch2.toml");
  alerts::AlertsConfig ac = alerts::load_alerts_config(c2, testing::analyzer().touchpoints());
  alerts::AlertService service(ac);
  pipeline::Fetched f0;
  f0.source_id = "yelp-north";
  f0.result = connectors::FetchResult{};
  pipeline::store_poll(*h.store, *c2.find_source("yelp-north"), std::move(f0), service.hook(*h.db),
                       kT0);
  pipeline::Fetched f;
  f.source_id = "yelp-north";
  connectors::FetchResult res;
  res.reviews = {make_review("n", "N", 1, kNegative, kT0 + 10, "yelp-north", "north")};
  f.analyses = {testing::analyzer().analyze(kNegative)};
  f.result = res;
  pipeline::store_poll(*h.store, *c2.find_source("yelp-north"), std::move(f), service.hook(*h.db),
                       kT0 + 900);
  EXPECT_EQ(
      recipients(h.deliveries()),
      (std::set<std::string>{"email:north.mkt@clinic.example", "email:north.billing@clinic.example",
                             "email:frontdesk.lead@clinic.example"}));
}

TEST(AlertsEngineTest, NoReplyEscalatesOnceToManagers) {
  AlertsHarness h("engine-noreply", std::string(kMarketing) +
                                        "[[alerts.rules]]\ntype = \"new_negative\"\n"
                                        "[[alerts.rules]]\ntype = \"no_reply\"\nafter = \"48h\"\n");
  h.poll("google-downtown", {}, kT0);
  const int64_t t1 = kT0 + 900;
  h.poll(
      "google-downtown",
      {make_review("x", "X", 1, kNegative, t1 - 100), make_review("y", "Y", 1, kNegative, t1 - 50)},
      t1);
  alerts::AlertEngine engine(h.alerts, *h.db);
  EXPECT_EQ(engine.evaluate_periodic(t1 + 47 * 3600), 0);
  // The practice replies to y.
  Review y = make_review("y", "Y", 1, kNegative, t1 - 50);
  y.reply_text = "We are sorry, please call us.";
  y.reply_at = t1 + 3600;
  h.poll("google-downtown", {y}, t1 + 3600);
  EXPECT_EQ(engine.evaluate_periodic(t1 + 49 * 3600), 1);
  EXPECT_EQ(engine.evaluate_periodic(t1 + 50 * 3600), 0);
  std::vector<db::DeliveryRow> esc;
  for (const auto& d : h.deliveries())
    if (d.rule == "no_reply") esc.push_back(d);
  ASSERT_EQ(esc.size(), 1u);
  EXPECT_EQ(esc[0].recipient, "manager@clinic.example");
  EXPECT_FALSE(esc[0].urgent);
  EXPECT_EQ(*esc[0].review_id, h.store->find("google-downtown", "x")->id);
}

TEST(AlertsEngineTest, TouchpointAverageBelowStandard) {
  AlertsHarness h("engine-avg",
                  std::string(kMarketing) +
                      "[alerts.standards]\nbilling = 3.0\nphysician = 2.0\n"
                      "[[alerts.rules]]\ntype = \"touchpoint_average\"\nwindow = \"30d\"\n"
                      "min_reviews = 2\nrepeat = \"7d\"\n");
  std::vector<Review> rs;
  for (int i = 0; i < 3; ++i)
    rs.push_back(make_review("b" + std::to_string(i), "B", 2,
                             "The billing was a nightmare, charged twice.", kT0 - 86400 * (i + 1)));
  rs.push_back(make_review("p", "P", 5, "The doctor was great.", kT0 - 86400));
  h.poll("google-downtown", rs, kT0);
  alerts::AlertEngine engine(h.alerts, *h.db);
  EXPECT_EQ(engine.evaluate_periodic(kT0 + 60), 1);    // billing only; physician is fine
  EXPECT_EQ(engine.evaluate_periodic(kT0 + 3600), 0);  // same repeat period
  auto ds = h.deliveries();
  EXPECT_EQ(recipients(ds), (std::set<std::string>{"email:billing.lead@clinic.example",
                                                   "email:manager@clinic.example"}));
  auto a = db::OutboxStore(*h.db).alert(ds[0].alert_id);
  auto content = alerts::content_from_json(a->payload);
  ASSERT_TRUE(content.average);
  EXPECT_EQ(content.average->touchpoint, "billing");
  EXPECT_EQ(content.average->reviews, 3);
  EXPECT_LT(content.average->average, 3.0);
  auto rendered = alerts::render_email(content, "[repwatch]");
  EXPECT_NE(
      rendered.subject.find("Billing and insurance below standard at Downtown Family Practice"),
      std::string::npos)
      << rendered.subject;
}

// removed_negative (a default rule): a negative review marked removed is told once per
// removal, not urgently (without a digest: alone, outside quiet hours); a positive one, or one
// outside the rule's filters, is not. Restored and removed again: told again.
TEST(AlertsEngineTest, ARemovedNegativeReviewIsToldOncePerRemoval) {
  AlertsHarness h("engine-removed",
                  std::string(kMarketing) + "quiet_hours = \"22:00-07:00\"\ntimezone = \"UTC\"\n");
  const Review neg = make_review("neg", "N", 1, kNegative, kT0 - 86400);
  const Review pos = make_review("pos", "P", 5, kPositive, kT0 - 86400);
  ASSERT_TRUE(h.poll("google-downtown", {neg, pos}, kT0, true).ok);
  auto p = h.poll("google-downtown", {}, kT0 + 900, true);  // empty: taken for a fault
  EXPECT_EQ(p.removed, 0);
  const Review other = make_review("other", "O", 5, kPositive, kT0 - 3600);
  p = h.poll("google-downtown", {other}, kT0 + 1800, true);
  EXPECT_EQ(p.removed, 2);
  EXPECT_EQ(p.alerts_queued, 1);
  const int64_t id = h.store->find("google-downtown", "neg")->id;
  db::OutboxStore ob(*h.db);
  EXPECT_TRUE(ob.has_alert("removed_negative:" + std::to_string(id) +
                           ":removed:" + std::to_string(kT0 + 1800)));
  for (const auto& d : h.deliveries()) {
    if (d.kind != db::AlertKind::kRemovedNegative) continue;
    EXPECT_FALSE(d.urgent);
    EXPECT_FALSE(d.batch);  // no digest configured
  }
  auto a = ob.alert(h.deliveries().back().alert_id);
  ASSERT_TRUE(a);
  auto content = alerts::content_from_json(a->payload);
  ASSERT_TRUE(content.review);
  EXPECT_EQ(content.headline, "Negative review removed");
  EXPECT_EQ(content.review->removed_at, kT0 + 1800);
  auto rendered = alerts::render_email(content, "[repwatch]", kT0 + 1800);
  EXPECT_NE(rendered.subject.find("Negative review removed"), std::string::npos);
  EXPECT_NE(rendered.text.find("Removed at the source"), std::string::npos) << rendered.text;

  // At night it waits for the end of the quiet hours.
  alerts::Sender sender(h.alerts, *h.db);
  const int64_t night = kT0 + 23 * 3600;
  alerts::SendStats s = sender.deliver_due(night);
  EXPECT_EQ(s.sent, 0);
  EXPECT_GT(s.held, 0);
  EXPECT_GT(sender.deliver_due(kT0 + 86400 + 7 * 3600).sent, 0);

  // Listed again, then removed again: a second notice.
  EXPECT_EQ(h.poll("google-downtown", {neg, other}, kT0 + 90000, true).restored, 1);
  p = h.poll("google-downtown", {other}, kT0 + 90900, true);
  EXPECT_EQ(p.removed, 1);
  EXPECT_EQ(p.alerts_queued, 1);
  EXPECT_EQ(count_alerts(*h.db, "kind = 'removed_negative'"), 2);
}

// The rule's filters apply to removals too.
TEST(AlertsEngineTest, RemovedNegativeRuleFilters) {
  AlertsHarness h("engine-removed-filter",
                  std::string(kMarketing) +
                      "[[alerts.rules]]\ntype = \"removed_negative\"\nlocations = [\"north\"]\n");
  ASSERT_EQ(h.alerts.rules.size(), 1u);
  EXPECT_FALSE(h.alerts.rules[0].urgent);
  EXPECT_EQ(h.alerts.rules[0].notify, (std::vector<std::string>{"marketing", "owners", "webhook"}));
  const Review neg = make_review("neg", "N", 1, kNegative, kT0 - 86400);
  const Review keep = make_review("keep", "K", 5, kPositive, kT0 - 86400);
  ASSERT_TRUE(h.poll("google-downtown", {neg, keep}, kT0, true).ok);
  auto p = h.poll("google-downtown", {keep}, kT0 + 900, true);
  EXPECT_EQ(p.removed, 1);
  EXPECT_EQ(p.alerts_queued, 0);  // downtown: not this rule's location
  const Review neg_north = make_review("nn", "N", 1, kNegative, kT0 - 86400, "yelp-north", "north");
  const Review keep_north =
      make_review("kn", "K", 5, kPositive, kT0 - 86400, "yelp-north", "north");
  ASSERT_TRUE(h.poll("yelp-north", {neg_north, keep_north}, kT0, true).ok);
  p = h.poll("yelp-north", {keep_north}, kT0 + 900, true);
  EXPECT_EQ(p.removed, 1);
  EXPECT_EQ(p.alerts_queued, 1);
}

TEST(AlertsSenderTest, EmlFilesByDefaultExactlyOnce) {
  AlertsHarness h("sender-eml", kMarketing);
  h.poll("google-downtown", {}, kT0);
  h.poll("google-downtown", {make_review("r", "Jane Doe", 1, kNegative, kT0 + 10)}, kT0 + 900);
  alerts::Sender sender(h.alerts, *h.db);
  EXPECT_EQ(sender.deliver_due(kT0 + 900).sent, 3);
  EXPECT_EQ(sender.deliver_due(kT0 + 9000).sent, 0);
  const auto dir = h.dir / "state" / "outbox-eml";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path().string());
  EXPECT_EQ(files.size(), 3u);
  for (const auto& d : h.deliveries()) {
    EXPECT_EQ(d.status, DeliveryStatus::kSent);
    ASSERT_EQ(d.sent_via.rfind("eml:", 0), 0u);
    std::string eml = testing::read_file(d.sent_via.substr(4));
    EXPECT_NE(eml.find("\r\nTo: " + d.recipient + "\r\n"), std::string::npos);
    EXPECT_NE(eml.find("\r\nMessage-ID: " + d.message_id + "\r\n"), std::string::npos);
    EXPECT_NE(eml.find("From: repwatch <repwatch@localhost>"), std::string::npos);
    EXPECT_NE(eml.find("Content-Type: multipart/alternative"), std::string::npos);
  }
  // `repwatch alerts test --to` through the same channel.
  alerts::AlertEngine engine(h.alerts, *h.db);
  int64_t id = engine.queue_test("me@clinic.example", kT0 + 10000);
  EXPECT_EQ(sender.deliver_one(id, kT0 + 10000).status, alerts::SendResult::Status::kSent);
}

TEST(AlertsSenderTest, QuietHoursHoldNonUrgentOnly) {
  AlertsHarness h("sender-quiet", std::string(kMarketing) +
                                      "quiet_hours = \"22:00-07:00\"\ntimezone = \"UTC\"\n" +
                                      "[[alerts.rules]]\ntype = \"new_negative\"\n"
                                      "[[alerts.rules]]\ntype = \"no_reply\"\nafter = \"1h\"\n");
  h.poll("google-downtown", {}, kT0);
  const int64_t night = kT0 + 23 * 3600;  // 23:00 UTC
  h.poll("google-downtown", {make_review("r", "R", 1, kNegative, night - 10)}, night - 7200);
  alerts::AlertEngine engine(h.alerts, *h.db);
  ASSERT_EQ(engine.evaluate_periodic(night), 1);  // escalation, non-urgent
  alerts::Sender sender(h.alerts, *h.db);
  alerts::SendStats s = sender.deliver_due(night);
  EXPECT_EQ(s.sent, 3);  // the urgent new_negative ones
  EXPECT_EQ(s.held, 1);
  for (const auto& d : h.deliveries())
    if (d.rule == "no_reply") {
      EXPECT_EQ(d.status, DeliveryStatus::kPending);
      EXPECT_EQ(d.attempts, 0);
      EXPECT_EQ(d.next_attempt_at, kT0 + 86400 + 7 * 3600);
    }
  EXPECT_EQ(sender.deliver_due(kT0 + 86400 + 7 * 3600).sent, 1);
}

TEST(AlertsSenderTest, HourlyLimitMovesExcessIntoADigestNeverDropped) {
  AlertsHarness h("sender-limit", std::string(kMarketing) + "max_emails_per_hour = 2\n");
  h.poll("google-downtown", {}, kT0);
  std::vector<Review> rs;
  for (int i = 0; i < 5; ++i)
    rs.push_back(
        make_review("r" + std::to_string(i), "R" + std::to_string(i), 1, kNegative, kT0 + 10 + i));
  const int64_t t1 = kT0 + 900;
  h.poll("google-downtown", rs, t1);
  alerts::Sender sender(h.alerts, *h.db);
  alerts::SendStats s = sender.deliver_due(t1);
  EXPECT_EQ(s.sent, 6);      // 2 per recipient
  EXPECT_EQ(s.deferred, 9);  // 3 per recipient wait for the digest
  EXPECT_EQ(sender.deliver_due(t1 + 1800).sent, 0);
  // When the hour frees up: one digest per recipient with the 3 deferred alerts.
  s = sender.deliver_due(t1 + 3600);
  EXPECT_EQ(s.digests, 3);
  EXPECT_EQ(s.sent, 3);
  int sent = 0, batched = 0;
  for (const auto& d : h.deliveries()) {
    if (d.status == DeliveryStatus::kSent) ++sent;
    if (d.status == DeliveryStatus::kBatched) {
      ++batched;
      ASSERT_TRUE(d.digest_delivery_id);
      EXPECT_EQ(db::OutboxStore(*h.db).delivery(*d.digest_delivery_id)->status,
                DeliveryStatus::kSent);
    }
  }
  EXPECT_EQ(sent, 6 + 3);
  EXPECT_EQ(batched, 9);
  // The digest lists the three and counts per touchpoint.
  for (const auto& d : h.deliveries())
    if (d.kind == db::AlertKind::kDigest && d.recipient == "marketing@clinic.example") {
      auto c = alerts::content_from_json(db::OutboxStore(*h.db).alert(d.alert_id)->payload);
      EXPECT_EQ(c.entries.size(), 3u);
      EXPECT_EQ(c.touchpoint_counts.at("Billing and insurance"), 3);
      std::string eml = testing::read_file(d.sent_via.substr(4));
      EXPECT_NE(eml.find("Digest: 3 alerts since 2026-01-01"), std::string::npos) << eml;
    }
  EXPECT_EQ(sender.deliver_due(t1 + 7200).sent, 0);
}

TEST(AlertsSenderTest, DailyDigestBatchesNonUrgentAlerts) {
  AlertsHarness h("sender-digest", std::string(kMarketing) + "timezone = \"UTC\"\n" +
                                       "[[alerts.rules]]\ntype = \"new_negative\"\nurgent = false\n"
                                       "[digest]\nmode = \"daily\"\nat = \"08:00\"\n");
  h.poll("google-downtown", {}, kT0);
  h.poll("google-downtown",
         {make_review("a", "A", 1, kNegative, kT0 + 10),
          make_review("b", "B", 2, kNegative, kT0 + 20)},
         kT0 + 900);
  alerts::Sender sender(h.alerts, *h.db);
  EXPECT_EQ(sender.deliver_due(kT0 + 3600).sent, 0);
  EXPECT_EQ(sender.next_due(), kT0 + 8 * 3600);
  alerts::SendStats s = sender.deliver_due(kT0 + 8 * 3600);
  EXPECT_EQ(s.digests, 3);
  EXPECT_EQ(s.sent, 3);
}

// The webhook channel: Slack-style JSON through net/'s client; 5xx retried, 404 permanent.
TEST(AlertsWebhookTest, PostsJsonAndRetries) {
  auto inbox = testing::make_temp_dir("webhook-inbox");
  testing::FixtureProcess server("webhook_server.py", {"--dir", inbox.string()});
  server.start();
  AlertsHarness h("webhook", std::string(kMarketing) +
                                 "[webhook]\nname = \"slack\"\nurl = \"http://127.0.0.1:" +
                                 std::to_string(server.port()) +
                                 "/services/T0/B0/secret-token\"\n");
  h.poll("google-downtown", {}, kT0);
  std::ofstream(inbox / "status") << "500";
  h.poll("google-downtown", {make_review("w", "W <b>", 1, kNegative, kT0 + 10)}, kT0 + 900);
  alerts::Sender sender(h.alerts, *h.db);
  alerts::SendStats s = sender.deliver_due(kT0 + 900);
  EXPECT_EQ(s.sent, 3);  // the emails (.eml)
  EXPECT_EQ(s.retried, 1);
  db::DeliveryRow hook;
  for (const auto& d : h.deliveries())
    if (d.channel == db::DeliveryChannel::kWebhook) hook = d;
  EXPECT_EQ(hook.recipient, "slack");
  EXPECT_NE(hook.last_error.find("HTTP 500"), std::string::npos) << hook.last_error;
  EXPECT_EQ(hook.last_error.find("secret-token"), std::string::npos) << hook.last_error;

  std::ofstream(inbox / "status") << "200";
  EXPECT_EQ(sender.deliver_due(kT0 + 1000).sent, 1);
  std::string body = testing::read_file(inbox / "0001.body");
  EXPECT_NE(body.find("\"text\":"), std::string::npos);
  EXPECT_NE(body.find("\"blocks\":[{\"type\":\"section\""), std::string::npos) << body;
  EXPECT_NE(body.find("W &lt;b&gt;"), std::string::npos) << body;
  EXPECT_NE(body.find("<https://reviews.example/r/w|Open the review>"), std::string::npos);
  EXPECT_NE(testing::read_file(inbox / "0001.meta").find("application/json"), std::string::npos);

  // A revoked hook (404) is permanent.
  std::ofstream(inbox / "status") << "404";
  h.poll("google-downtown", {make_review("w2", "W2", 1, kNegative, kT0 + 1100)}, kT0 + 1800);
  s = sender.deliver_due(kT0 + 1800);
  EXPECT_EQ(s.failed, 1);
  server.stop();
  std::filesystem::remove_all(inbox);
}

TEST(AlertsCliTest, ListRetryAndTest) {
  auto inbox = testing::make_temp_dir("cli-smtp");
  testing::SmtpServer smtp(inbox);
  AlertsHarness h("cli", std::string(kMarketing) + "[smtp]\nurl = \"" + smtp.url() +
                             "\"\nstarttls = \"off\"\nfrom = \"alerts@clinic.example\"\n");
  h.poll("google-downtown", {}, kT0);
  h.poll("google-downtown", {make_review("r", "R", 1, kNegative, kT0 + 10)}, kT0 + 900);
  smtp.set_mode("permfail");
  alerts::Sender(h.alerts, *h.db).deliver_due(kT0 + 900);

  std::string out, err;
  ASSERT_EQ(run_alerts(h, {"alerts"}, out, err, kT0 + 1000), 0) << err;
  EXPECT_NE(out.find("failed"), std::string::npos) << out;
  EXPECT_NE(out.find("550 5.1.1"), std::string::npos) << out;
  EXPECT_NE(out.find("0 pending, 0 sent, 3 failed"), std::string::npos) << out;
  ASSERT_EQ(
      run_alerts(h, {"alerts", "--status", "failed"}, out, err, kT0 + 1000, cli::Format::kJson), 0);
  EXPECT_NE(out.find("\"message_id\": \"<rw."), std::string::npos) << out;
  EXPECT_NE(out.find("\"status\": \"failed\""), std::string::npos);
  ASSERT_EQ(run_alerts(h, {"alerts"}, out, err, kT0 + 1000, cli::Format::kCsv), 0);
  EXPECT_EQ(out.rfind("id,alert_id,status,", 0), 0u) << out;
  EXPECT_EQ(run_alerts(h, {"alerts", "--status", "lost"}, out, err, kT0 + 1000), 2);
  EXPECT_NE(err.find("--status"), std::string::npos);

  int64_t id = h.deliveries()[0].id;
  smtp.set_mode("ok");
  ASSERT_EQ(run_alerts(h, {"alerts", "retry", std::to_string(id)}, out, err, kT0 + 2000), 0) << err;
  EXPECT_NE(out.find("sent via " + smtp.url()), std::string::npos) << out;
  EXPECT_EQ(run_alerts(h, {"alerts", "retry", std::to_string(id)}, out, err, kT0 + 2000), 1);
  EXPECT_NE(err.find("was sent already"), std::string::npos) << err;
  EXPECT_EQ(run_alerts(h, {"alerts", "retry", "999"}, out, err, kT0 + 2000), 1);

  ASSERT_EQ(run_alerts(h, {"alerts", "test", "--to", "it@clinic.example"}, out, err, kT0 + 3000), 0)
      << err;
  EXPECT_EQ(run_alerts(h, {"alerts", "test", "--to", "not-an-address"}, out, err, kT0 + 3000), 2);
  auto msgs = smtp.messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1].subject, "[repwatch] Test message");
  EXPECT_EQ(msgs[1].rcpt_tos, std::vector<std::string>{"it@clinic.example"});
  std::filesystem::remove_all(inbox);
}

}  // namespace
}  // namespace repwatch
