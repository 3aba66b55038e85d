// Rule reply_phi: a reply the practice posts (new or edited) that discloses patient information
// is an urgent alert to the privacy touchpoint's owner and the managers (the marketing list
// when neither is set), once per reply text - re-polls, restarts and edits of the review alone
// do not repeat it - with the findings marked and what to do now. Delivered through the real
// SMTP fixture and counted by Message-ID. Also: the new-negative alert's "Before you reply".
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "alerts/content.h"
#include "alerts/sender.h"
#include "tests/fixtures/smtp/alerts_harness.h"
#include "tests/fixtures/smtp/smtp_fixture.h"

namespace repwatch {
namespace {

using testing::AlertsHarness;
using testing::kT0;
using testing::make_review;

constexpr const char* kRouting =
    "[alerts]\n"
    "marketing = \"marketing@clinic.example\"\n"
    "managers = \"manager@clinic.example\"\n"
    "[alerts.owners]\n"
    "privacy = \"privacy.officer@clinic.example\"\n"
    "billing = \"billing.lead@clinic.example\"\n";

constexpr const char* kPraise = "Lovely staff and a very clean office, thank you!";
constexpr const char* kDisclosing = "Thank you, Omar! We're so glad your root canal went well.";
constexpr const char* kAlsoDisclosing = "Thank you! We hope your diabetes is easier to manage now.";
constexpr const char* kClean = "Thank you for the kind words! We'll share them with the team.";

Review replied(Review r, const std::string& reply, int64_t reply_at) {
  r.reply_text = reply;
  r.reply_at = reply_at;
  return r;
}

// The reply_phi deliveries, oldest first.
std::vector<db::DeliveryRow> reply_alerts(const AlertsHarness& h) {
  std::vector<db::DeliveryRow> out;
  for (const auto& d : h.deliveries())
    if (d.kind == db::AlertKind::kReplyPhi) out.push_back(d);
  return out;
}

std::set<int64_t> alert_ids(const std::vector<db::DeliveryRow>& ds) {
  std::set<int64_t> ids;
  for (const auto& d : ds) ids.insert(d.alert_id);
  return ids;
}

std::set<std::string> recipients(const std::vector<db::DeliveryRow>& ds) {
  std::set<std::string> r;
  for (const auto& d : ds) r.insert(d.recipient);
  return r;
}

TEST(AlertsReplyPhi, OnByDefaultUrgentToPrivacyOwnerAndManagers) {
  AlertsHarness h("replyphi-config", kRouting);
  const alerts::Rule* rule = h.alerts.find_rule("reply_phi");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->type, alerts::RuleType::kReplyPhi);
  EXPECT_TRUE(rule->urgent);
  EXPECT_EQ(rule->notify, (std::vector<std::string>{"owners", "managers"}));
  EXPECT_EQ(rule->touchpoints, (std::vector<std::string>{"privacy"}));
  EXPECT_EQ(rule->fallback, (std::vector<std::string>{"marketing"}));
  ASSERT_NE(h.alerts.reply_checker, nullptr);
  EXPECT_NE(h.alerts.find_rule("new_negative"), nullptr);
}

TEST(AlertsReplyPhi, ExplicitRulesAndMistakes) {
  AlertsHarness h(
      "replyphi-explicit",
      std::string(kRouting) +
          "[[alerts.rules]]\ntype = \"reply_phi\"\nto = [\"counsel@clinic.example\"]\n");
  ASSERT_EQ(h.alerts.rules.size(), 1u);
  EXPECT_EQ(h.alerts.rules[0].touchpoints, (std::vector<std::string>{"privacy"}));
  EXPECT_EQ(h.alerts.rules[0].to, (std::vector<std::string>{"counsel@clinic.example"}));

  auto error = [](const std::string& extra) {
    auto dir = testing::make_temp_dir("replyphi-bad");
    std::string message;
    try {
      Config c = parse_config(testing::base_config(dir) + extra, dir / "repwatch.toml");
      alerts::load_alerts_config(c, testing::analyzer().touchpoints());
    } catch (const ConfigError& e) {
      message = e.what();
    }
    std::filesystem::remove_all(dir);
    return message;
  };
  EXPECT_NE(error("[[alerts.rules]]\ntype = \"reply_phi\"\ntouchpoints = [\"privacyy\"]\n")
                .find("no touchpoint \"privacyy\""),
            std::string::npos);
  EXPECT_NE(error("[[alerts.rules]]\ntype = \"reply_phi\"\n").find("none of them has an address"),
            std::string::npos);
  EXPECT_NE(error("[[alerts.rules]]\ntype = \"replyphi\"\n").find("reply_phi"), std::string::npos);
  EXPECT_NE(
      error(std::string(kRouting) + "[replies]\nterms = \"missing.toml\"\n").find("missing.toml"),
      std::string::npos);
  // [replies] is checked even when the rules in use do not read it.
  EXPECT_NE(error(std::string(kRouting) +
                  "[[alerts.rules]]\ntype = \"new_negative\"\n[replies]\nterm = \"x.toml\"\n")
                .find("replies.term"),
            std::string::npos);
}

TEST(AlertsReplyPhi, OncePerReplyTextAcrossRepollsRestartsAndEdits) {
  AlertsHarness h("replyphi-once", kRouting);
  // First sync: history, with a reply that discloses - no alert (no storm on day one).
  Review old = replied(make_review("old", "Ana P.", 5, kPraise, kT0 - 86400 * 200), kDisclosing,
                       kT0 - 86400 * 199);
  ASSERT_TRUE(h.poll("google-downtown", {old}, kT0).ok);
  EXPECT_TRUE(reply_alerts(h).empty());

  // A new review, answered: one alert, to the privacy owner and the manager only.
  const int64_t t1 = kT0 + 3600;
  Review fresh = replied(make_review("new", "Omar N.", 5, kPraise, kT0 + 600), kDisclosing, t1);
  auto polled = h.poll("google-downtown", {old, fresh}, t1);
  ASSERT_TRUE(polled.ok) << polled.error;
  auto first = reply_alerts(h);
  ASSERT_EQ(alert_ids(first).size(), 1u);
  EXPECT_EQ(recipients(first),
            (std::set<std::string>{"privacy.officer@clinic.example", "manager@clinic.example"}));
  for (const auto& d : first) {
    EXPECT_TRUE(d.urgent);
    EXPECT_EQ(d.rule, "reply_phi");
  }

  // Re-polls of the same text, and a reply that differs only in white space: nothing.
  h.poll("google-downtown", {old, fresh}, t1 + 900);
  Review rewrapped =
      replied(fresh, "Thank you,  Omar!\nWe're so glad your root canal went well.", t1 + 1000);
  h.poll("google-downtown", {old, rewrapped}, t1 + 1800);
  EXPECT_EQ(alert_ids(reply_alerts(h)).size(), 1u);

  // A restart: a new service over a reopened database polls the same again - nothing.
  h.service.reset();
  h.store.reset();
  h.db = std::make_unique<db::Database>(db::open_store(h.db_path));
  h.store = std::make_unique<db::ReviewStore>(*h.db);
  h.service = std::make_unique<alerts::AlertService>(h.alerts);
  h.poll("google-downtown", {old, rewrapped}, t1 + 2700);
  EXPECT_EQ(alert_ids(reply_alerts(h)).size(), 1u);

  // The review's own text edited, the reply unchanged: nothing.
  Review edited = rewrapped;
  edited.text = std::string(kPraise) + " Update: still great.";
  edited.updated_at = t1 + 3000;
  h.poll("google-downtown", {old, edited}, t1 + 3600);
  EXPECT_EQ(alert_ids(reply_alerts(h)).size(), 1u);

  // The reply edited to another disclosing text: a second alert.
  Review second = replied(edited, kAlsoDisclosing, t1 + 4000);
  h.poll("google-downtown", {old, second}, t1 + 4500);
  EXPECT_EQ(alert_ids(reply_alerts(h)).size(), 2u);
  // Edited to a clean text, then back to the first one: nothing more.
  h.poll("google-downtown", {old, replied(second, kClean, t1 + 5000)}, t1 + 5400);
  h.poll("google-downtown", {old, replied(second, kDisclosing, t1 + 6000)}, t1 + 6300);
  EXPECT_EQ(alert_ids(reply_alerts(h)).size(), 2u);

  // History answered after the first sync (an old review a sampling source shows only now).
  Review late = replied(make_review("late", "Keisha", 4, kPraise, kT0 - 86400 * 400),
                        "Hi Keisha, we're sorry about your visit.", t1 + 7000);
  h.poll("google-downtown", {old, second, late}, t1 + 7200);
  EXPECT_EQ(alert_ids(reply_alerts(h)).size(), 3u);
  // A clean reply never alerts.
  h.poll("google-downtown", {make_review("nice", "Bo", 5, kPraise, t1 + 7300)}, t1 + 7400);
  h.poll("google-downtown",
         {replied(make_review("nice", "Bo", 5, kPraise, t1 + 7300), kClean, t1 + 7500)}, t1 + 8000);
  EXPECT_EQ(alert_ids(reply_alerts(h)).size(), 3u);
}

TEST(AlertsReplyPhi, MarketingWhenNeitherPrivacyOwnerNorManagersAreSet) {
  auto tell = [](const std::string& routing) {
    AlertsHarness h("replyphi-fallback", routing);
    EXPECT_TRUE(h.poll("google-downtown", {}, kT0).ok);
    h.poll("google-downtown",
           {replied(make_review("r1", "Omar N.", 5, kPraise, kT0 + 60), kDisclosing, kT0 + 120)},
           kT0 + 600);
    return recipients(reply_alerts(h));
  };
  // Neither set: the marketing list.
  EXPECT_EQ(tell("[alerts]\nmarketing = \"marketing@clinic.example\"\n"
                 "[alerts.owners]\nbilling = \"billing.lead@clinic.example\"\n"),
            (std::set<std::string>{"marketing@clinic.example"}));
  // Managers only: the managers, not marketing.
  EXPECT_EQ(tell("[alerts]\nmarketing = \"marketing@clinic.example\"\n"
                 "managers = \"manager@clinic.example\"\n"),
            (std::set<std::string>{"manager@clinic.example"}));
  // The privacy owner only: the owner.
  EXPECT_EQ(tell("[alerts]\nmarketing = \"marketing@clinic.example\"\n"
                 "[alerts.owners]\nprivacy = \"privacy.officer@clinic.example\"\n"),
            (std::set<std::string>{"privacy.officer@clinic.example"}));
}

TEST(AlertsReplyPhi, TheAlertMarksTheFindingsAndSaysWhatToDo) {
  AlertsHarness h("replyphi-content", kRouting);
  ASSERT_TRUE(h.poll("google-downtown", {}, kT0).ok);
  Review r = replied(make_review("c1", "Darnell W.", 2, "Waited an hour on the 19th.", kT0 + 60),
                     "Hi Darnell, we're sorry about your visit on the 19th.", kT0 + 120);
  h.poll("google-downtown", {r}, kT0 + 600);
  auto ds = reply_alerts(h);
  ASSERT_FALSE(ds.empty());
  auto alert = h.outbox().alert(ds[0].alert_id);
  ASSERT_TRUE(alert);
  alerts::AlertContent c = alerts::content_from_json(alert->payload);
  ASSERT_TRUE(c.reply_check);
  ASSERT_EQ(c.reply_check->findings.size(), 3u);
  EXPECT_EQ(c.reply_check->findings[0].phrase, "Darnell");
  EXPECT_EQ(c.reply_check->findings[0].kinds, (std::vector<std::string>{"name"}));
  EXPECT_EQ(c.reply_check->findings[0].in_review, true);

  alerts::Rendered e = alerts::render_email(c, "[repwatch]");
  EXPECT_EQ(e.subject,
            "[repwatch] Posted reply discloses patient information: Downtown Family Practice "
            "\u00b7 google-downtown \u00b7 reply to Darnell W.");
  EXPECT_NE(e.text.find("What to do now:"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("edit the reply on the review site"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("Open the review: https://reviews.example/r/c1"), std::string::npos);
  EXPECT_NE(e.text.find("Hi [Darnell], we're sorry about [your visit] on [the 19th]."),
            std::string::npos)
      << e.text;
  EXPECT_NE(e.text.find("repwatch reply-check --review " + std::to_string(*ds[0].review_id)),
            std::string::npos);
  EXPECT_NE(e.text.find("privacy officer"), std::string::npos);
  EXPECT_NE(e.html.find("<mark style=\"background:#ffb3b3\">Darnell</mark>"), std::string::npos);
  EXPECT_EQ(e.html.find("<script"), std::string::npos);
  // The negative review itself also alerted, with the reminder but not the reply's findings.
  bool negative = false;
  for (const auto& d : h.deliveries())
    if (d.kind == db::AlertKind::kNewNegative) {
      negative = true;
      auto a = h.outbox().alert(d.alert_id);
      alerts::Rendered n = alerts::render_email(alerts::content_from_json(a->payload), "");
      EXPECT_NE(n.text.find("Before you reply:"), std::string::npos) << n.text;
    }
  EXPECT_TRUE(negative);
}

TEST(AlertsReplyPhi, NewNegativeAlertSaysBeforeYouReplyAndSendsNothingElsewhere) {
  AlertsHarness h("replyphi-reminder", kRouting);
  ASSERT_TRUE(h.poll("google-downtown", {}, kT0).ok);
  h.poll(
      "google-downtown",
      {make_review("neg", "Jo", 1, "Billing charged me twice and nobody called back.", kT0 + 60)},
      kT0 + 600);
  auto ds = h.deliveries();
  ASSERT_FALSE(ds.empty());
  ASSERT_EQ(ds[0].kind, db::AlertKind::kNewNegative);
  alerts::AlertContent c = alerts::content_from_json(h.outbox().alert(ds[0].alert_id)->payload);
  alerts::Rendered e = alerts::render_email(c, "[repwatch]");
  size_t at = e.text.find("Before you reply: thank them and take it offline.");
  ASSERT_NE(at, std::string::npos) << e.text;
  EXPECT_NE(e.text.find("repwatch reply-check --review " + std::to_string(*ds[0].review_id), at),
            std::string::npos);
  EXPECT_NE(e.html.find("Before you reply"), std::string::npos);
  // The only link is the review's own: the reminder points at a command, not a service.
  size_t links = 0;
  for (size_t p = e.html.find("href="); p != std::string::npos; p = e.html.find("href=", p + 1))
    ++links;
  EXPECT_EQ(links, 1u);
}

TEST(AlertsReplyPhi, NeverHeldByTheHourlyLimit) {
  AlertsHarness h("replyphi-limit",
                  "[alerts]\nmax_emails_per_hour = 1\n"
                  "managers = \"manager@clinic.example\"\n"
                  "[alerts.owners]\nprivacy = \"privacy.officer@clinic.example\"\n");
  ASSERT_TRUE(h.poll("google-downtown", {}, kT0).ok);
  const int64_t t1 = kT0 + 600;
  h.poll("google-downtown",
         {replied(make_review("a", "Omar N.", 5, kPraise, kT0 + 60), kDisclosing, kT0 + 120),
          replied(make_review("b", "Ana P.", 5, kPraise, kT0 + 70), kAlsoDisclosing, kT0 + 130)},
         t1);
  alerts::Sender sender(h.alerts, *h.db);
  sender.deliver_due(t1);
  int sent = 0;
  for (const auto& d : reply_alerts(h)) sent += d.status == db::DeliveryStatus::kSent;
  EXPECT_EQ(sent, 4);  // two alerts to two people within the hour, with a limit of one
}

class AlertsReplyPhiSmtp : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("replyphi-inbox");
    server_ = std::make_unique<testing::SmtpServer>(dir_);
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
  std::unique_ptr<testing::SmtpServer> server_;
};

TEST_F(AlertsReplyPhiSmtp, DeliveredOnceByMessageIdThroughARealServer) {
  std::string config = std::string(kRouting) + "[smtp]\nurl = \"" + server_->url() +
                       "\"\nstarttls = \"off\"\nfrom = \"repwatch <alerts@clinic.example>\"\n"
                       "timeout = \"10s\"\n";
  AlertsHarness h("replyphi-smtp", config);
  ASSERT_TRUE(h.poll("google-downtown", {}, kT0).ok);
  const int64_t t1 = kT0 + 900;
  Review r = replied(make_review("s1", "Omar N.", 5, kPraise, kT0 + 60), kDisclosing, kT0 + 300);
  h.poll("google-downtown", {r}, t1);
  {
    alerts::Sender sender(h.alerts, *h.db);
    EXPECT_EQ(sender.deliver_due(t1).sent, 2);
    EXPECT_EQ(sender.deliver_due(t1 + 60).sent, 0);
  }
  // Re-polled after a restart and delivered again: still nothing new.
  h.poll("google-downtown", {r}, t1 + 900);
  alerts::Sender again(h.alerts, *h.db);
  EXPECT_EQ(again.deliver_due(t1 + 1000).sent, 0);

  auto msgs = server_->messages();
  ASSERT_EQ(msgs.size(), 2u);
  std::map<std::string, int> by_id;
  std::set<std::string> to;
  for (const auto& m : msgs) {
    ++by_id[m.message_id];
    ASSERT_EQ(m.error, "");
    to.insert(m.rcpt_tos.at(0));
    EXPECT_NE(m.subject.find("Posted reply discloses patient information"), std::string::npos);
    const auto* text = m.part("text/plain");
    ASSERT_NE(text, nullptr);
    EXPECT_NE(text->text.find("Thank you, [Omar]! We're so glad [your root canal] went well."),
              std::string::npos)
        << text->text;
    EXPECT_NE(text->text.find("What to do now:"), std::string::npos);
    ASSERT_NE(m.part("text/html"), nullptr);
  }
  EXPECT_EQ(by_id.size(), 2u);
  for (const auto& [id, n] : by_id) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(to,
            (std::set<std::string>{"privacy.officer@clinic.example", "manager@clinic.example"}));
}

}  // namespace
}  // namespace repwatch
