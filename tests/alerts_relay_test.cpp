// A mail relay that misbehaves, against the Sender (tests/fixtures/smtp/scripted_relay.py on
// 127.0.0.1): one that never answers, refuses at the greeting, EHLO, STARTTLS, AUTH, MAIL FROM
// or DATA, refuses one recipient, answers slowly. What the specification asks:
//   - an outage (anything about the relay or the sender) loses nothing and fails nothing
//     before retry_for: the backlog waits, and goes out exactly once when the relay is back;
//   - an outage costs one attempt per backoff step, not one per queued delivery (a relay that
//     never answers: one timeout, not one per message);
//   - only a recipient's own 5xx at RCPT TO fails that delivery;
//   - retries get jitter; a round can be bounded in time and stopped mid-transfer.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "alerts/sender.h"
#include "tests/fixtures/smtp/alerts_harness.h"
#include "tests/fixtures/smtp/smtp_fixture.h"

namespace repwatch {
namespace {

using db::DeliveryStatus;
using testing::AlertsHarness;
using testing::kT0;
using testing::make_review;
using testing::run_alerts;
using testing::ScriptedRelay;
using namespace std::chrono_literals;

const char* kNegativeText = "The receptionist was rude and they lost my paperwork.";

std::string relay_config(const ScriptedRelay& relay, const std::string& timeout = "10s",
                         const std::string& smtp_extra = "starttls = \"off\"\n") {
  return "[alerts]\n"
         "marketing = [\"marketing@clinic.example\", \"director@clinic.example\"]\n"
         "max_emails_per_hour = 0\n"
         "retry_initial = \"30s\"\n"
         "retry_max = \"10m\"\n"
         "retry_for = \"1d\"\n"
         "[smtp]\n"
         "url = \"" +
         relay.url() + "\"\nfrom = \"alerts@clinic.example\"\ntimeout = \"" + timeout + "\"\n" +
         smtp_extra;
}

// After a first sync, one poll with `n` new negative reviews: 2 * n deliveries (two marketing
// addresses), queued at kT0 + 900.
constexpr int64_t kQueued = kT0 + 900;
void queue_backlog(AlertsHarness& h, int n) {
  h.poll("google-downtown", {}, kT0);
  std::vector<Review> reviews;
  for (int i = 0; i < n; ++i)
    reviews.push_back(make_review("neg-" + std::to_string(i), "Patient " + std::to_string(i), 1,
                                  kNegativeText, kT0 + 100 + i));
  auto out = h.poll("google-downtown", std::move(reviews), kQueued);
  ASSERT_TRUE(out.ok) << out.error;
  ASSERT_EQ(out.alerts_queued, n);
  ASSERT_EQ(static_cast<int>(h.deliveries().size()), 2 * n);
}

int count(const std::vector<db::DeliveryRow>& ds, DeliveryStatus s) {
  int n = 0;
  for (const auto& d : ds) n += d.status == s;
  return n;
}

// Every delivery arrived exactly once, under its own Message-ID, at its own recipient.
void expect_each_accepted_once(const AlertsHarness& h, const ScriptedRelay& relay) {
  std::map<std::string, std::string> expected;  // message id -> recipient
  for (const auto& d : h.deliveries()) expected[d.message_id] = d.recipient;
  std::map<std::string, int> seen;
  for (const auto& [id, rcpt] : relay.accepted()) {
    ++seen[id];
    ASSERT_TRUE(expected.count(id)) << "unknown message " << id;
    EXPECT_EQ(expected[id], rcpt) << id;
  }
  EXPECT_EQ(seen.size(), expected.size());
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id << " arrived " << n << " times";
}

class AlertsRelayTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::make_temp_dir("relay"); }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
};

// A refusal about the relay or the sender - at the greeting (554, 421), EHLO, STARTTLS, AUTH,
// MAIL FROM (5xx or 4xx) or DATA - is an outage: one attempt, the backlog waits (nothing
// failed, no attempt counted for the others), the relay is tried again after a backoff that
// doubles, and when it is back every delivery goes out once.
TEST_F(AlertsRelayTest, RefusalsAboutTheRelayOrSenderAreAnOutageToWaitOut) {
  struct Case {
    std::string mode, smtp_extra, expect_in_error;
    bool back_in_plain_smtp = true;  // the fixture speaks TLS to no one: STARTTLS never succeeds
  };
  const std::vector<Case> cases = {
      {"greet554", "starttls = \"off\"\n", "554 5.3.2"},
      {"greet421", "starttls = \"off\"\n", "421 4.3.2"},
      {"ehlo550", "starttls = \"off\"\n", "550 5.7.1"},
      {"starttls454", "starttls = \"required\"\n", "454 4.7.0", false},
      {"auth535", "starttls = \"off\"\nusername = \"repwatch\"\npassword = \"pw-1234567\"\n",
       "535 5.7.8"},
      {"mail550", "starttls = \"off\"\n", "550 5.7.1 Sender address rejected"},
      {"mail451", "starttls = \"off\"\n", "451 4.3.0"},
      {"data554", "starttls = \"off\"\n", "554 5.5.1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.mode);
    ScriptedRelay relay(dir_ / c.mode, c.mode);
    AlertsHarness h("relay-" + c.mode, relay_config(relay, "10s", c.smtp_extra));
    queue_backlog(h, 5);
    alerts::Sender sender(h.alerts, *h.db);

    alerts::SendStats s = sender.deliver_due(kQueued);
    EXPECT_EQ(s.sent, 0);
    EXPECT_EQ(s.failed, 0);
    EXPECT_EQ(s.retried, 1);
    EXPECT_EQ(relay.connections(), 1) << relay.commands();
    int64_t until = 0;
    for (const auto& d : h.deliveries()) {
      EXPECT_EQ(d.status, DeliveryStatus::kPending);
      EXPECT_NE(d.last_error.find(c.expect_in_error), std::string::npos) << d.last_error;
      // retry_initial plus at most 25% jitter, the same for all: the relay is tried again as
      // a whole.
      EXPECT_GE(d.next_attempt_at, kQueued + 30);
      EXPECT_LE(d.next_attempt_at, kQueued + 37);
      if (until == 0) until = d.next_attempt_at;
      EXPECT_EQ(d.next_attempt_at, until);
    }
    EXPECT_EQ(h.deliveries()[0].attempts, 1);
    EXPECT_EQ(h.deliveries()[1].attempts, 0);

    // Not before then; then one more attempt, and the backoff doubles.
    EXPECT_EQ(sender.deliver_due(until - 1).retried, 0);
    EXPECT_EQ(relay.connections(), 1);
    s = sender.deliver_due(until);
    EXPECT_EQ(s.retried, 1);
    EXPECT_EQ(s.sent + s.failed, 0);
    EXPECT_EQ(relay.connections(), 2);
    const int64_t again = h.deliveries()[0].next_attempt_at;
    EXPECT_GE(again - until, 60);
    EXPECT_LE(again - until, 75);

    // Back: the whole backlog goes out, each message once.
    if (!c.back_in_plain_smtp) continue;
    relay.set_mode("ok");
    s = sender.deliver_due(again);
    EXPECT_EQ(s.sent, 10);
    EXPECT_EQ(count(h.deliveries(), DeliveryStatus::kSent), 10);
    expect_each_accepted_once(h, relay);
    EXPECT_EQ(sender.deliver_due(again + 86400).sent, 0);
    EXPECT_EQ(relay.accepted().size(), 10u);
  }
}

// Alerts queued while the relay is known to be down wait with the backlog: no attempt (no
// timeout) each, and nothing left due before the relay's next try (the sender's caller would
// otherwise wake at once, again and again).
TEST_F(AlertsRelayTest, AlertsQueuedDuringAnOutageWaitWithTheBacklog) {
  ScriptedRelay relay(dir_ / "r", "silent");
  AlertsHarness h("relay-during", relay_config(relay, "5s"));
  queue_backlog(h, 1);
  alerts::Sender sender(h.alerts, *h.db);
  EXPECT_EQ(sender.deliver_due(kQueued).retried, 1);
  const int64_t until = h.deliveries()[0].next_attempt_at;
  auto more = h.poll("google-downtown", {make_review("late", "Late", 1, kNegativeText, kQueued)},
                     kQueued + 10);
  ASSERT_EQ(more.alerts_queued, 1);
  auto start = std::chrono::steady_clock::now();
  alerts::SendStats s = sender.deliver_due(kQueued + 10);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s) << "no timeout waited";
  EXPECT_EQ(s.retried + s.sent + s.failed, 0);
  EXPECT_EQ(s.waiting, 2);
  EXPECT_EQ(relay.connections(), 1);
  for (const auto& d : h.deliveries()) EXPECT_EQ(d.next_attempt_at, until);
  EXPECT_EQ(sender.next_due(), until);
}

// An outage that outlasts retry_for: the deliveries queued before then fail, saying why; the
// rest keep waiting.
TEST_F(AlertsRelayTest, AnOutageLongerThanRetryForFailsWhatWaitedThatLong) {
  ScriptedRelay relay(dir_ / "r", "greet554");
  AlertsHarness h("relay-long", relay_config(relay));
  queue_backlog(h, 3);
  alerts::Sender sender(h.alerts, *h.db);
  EXPECT_EQ(sender.deliver_due(kQueued).retried, 1);
  // A day later (retry_for) the relay still refuses.
  alerts::SendStats s = sender.deliver_due(kQueued + 86400);
  EXPECT_EQ(s.failed, 6);
  for (const auto& d : h.deliveries()) {
    EXPECT_EQ(d.status, DeliveryStatus::kFailed);
    EXPECT_NE(d.last_error.find("554 5.3.2"), std::string::npos) << d.last_error;
    EXPECT_NE(d.last_error.find("gave up"), std::string::npos) << d.last_error;
  }
}

// Only the recipient's own refusal at RCPT TO fails a delivery; the relay's policy refusal of
// a recipient (554 5.7.1 relay access denied) and a 4xx are retried; the other recipient's
// mail goes out.
TEST_F(AlertsRelayTest, OnlyARecipientsOwnRefusalFailsThatDelivery) {
  ScriptedRelay relay(dir_ / "r", "rcpt550 director@clinic.example");
  AlertsHarness h("relay-rcpt", relay_config(relay));
  queue_backlog(h, 2);
  alerts::Sender sender(h.alerts, *h.db);
  alerts::SendStats s = sender.deliver_due(kQueued);
  EXPECT_EQ(s.sent, 2);
  EXPECT_EQ(s.failed, 2);
  for (const auto& d : h.deliveries()) {
    if (d.recipient == "director@clinic.example") {
      EXPECT_EQ(d.status, DeliveryStatus::kFailed);
      EXPECT_NE(d.last_error.find("550 5.1.1 <director@clinic.example>"), std::string::npos)
          << d.last_error;
    } else {
      EXPECT_EQ(d.status, DeliveryStatus::kSent);
    }
  }

  ScriptedRelay policy(dir_ / "p", "rcpt554 director@clinic.example");
  AlertsHarness h2("relay-policy", relay_config(policy));
  queue_backlog(h2, 2);
  alerts::Sender sender2(h2.alerts, *h2.db);
  s = sender2.deliver_due(kQueued);
  EXPECT_EQ(s.sent, 2);
  EXPECT_EQ(s.retried, 2);  // each on its own: the relay itself works
  EXPECT_EQ(s.failed, 0);
  for (const auto& d : h2.deliveries()) {
    if (d.recipient == "director@clinic.example") {
      EXPECT_EQ(d.status, DeliveryStatus::kPending);
      EXPECT_NE(d.last_error.find("554 5.7.1"), std::string::npos) << d.last_error;
    }
  }
  policy.set_mode("ok");
  EXPECT_EQ(sender2.deliver_due(kQueued + 3600).sent, 2);
  expect_each_accepted_once(h2, policy);
}

// A relay that accepts connections and never answers, or stops answering after DATA: one
// timeout per round, not one per queued message.
TEST_F(AlertsRelayTest, AHungRelayCostsOneTimeoutNotOnePerMessage) {
  for (const std::string mode : {"silent", "hang_data"}) {
    SCOPED_TRACE(mode);
    ScriptedRelay relay(dir_ / mode, mode);
    AlertsHarness h("relay-" + mode, relay_config(relay, "2s"));
    queue_backlog(h, 5);
    alerts::Sender sender(h.alerts, *h.db);
    auto start = std::chrono::steady_clock::now();
    alerts::SendStats s = sender.deliver_due(kQueued);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, 8s) << "one 2 s timeout, not ten";
    EXPECT_EQ(s.retried, 1);
    EXPECT_EQ(s.sent + s.failed, 0);
    EXPECT_EQ(relay.connections(), 1);
    EXPECT_NE(h.deliveries()[0].last_error.find("timed out"), std::string::npos)
        << h.deliveries()[0].last_error;
    EXPECT_EQ(count(h.deliveries(), DeliveryStatus::kPending), 10);
  }
}

// Round::stop aborts the transfer in flight within about a second, whatever the relay does;
// the delivery is given back (no attempt counted, no lease left) and goes out later, once.
TEST_F(AlertsRelayTest, StopAbortsTheTransferInFlight) {
  ScriptedRelay relay(dir_ / "r", "silent");
  AlertsHarness h("relay-stop", relay_config(relay, "120s"));
  queue_backlog(h, 2);
  alerts::Sender sender(h.alerts, *h.db);
  std::stop_source stop;
  alerts::Round round;
  round.stop = stop.get_token();
  alerts::SendStats s;
  auto start = std::chrono::steady_clock::now();
  std::thread t([&] { s = sender.deliver_due(kQueued, round); });
  std::this_thread::sleep_for(500ms);
  stop.request_stop();
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_EQ(s.interrupted, 1);
  EXPECT_EQ(s.sent + s.retried + s.failed, 0);
  EXPECT_TRUE(s.more);
  for (const auto& d : h.deliveries()) {
    EXPECT_EQ(d.status, DeliveryStatus::kPending);
    EXPECT_EQ(d.attempts, 0);
    EXPECT_FALSE(d.lease_until.has_value());
  }
  relay.set_mode("ok");
  EXPECT_EQ(sender.deliver_due(kQueued).sent, 4);
  expect_each_accepted_once(h, relay);
}

// A slow relay (every reply a while late, within the timeout) is not an outage; a round with
// a deadline starts no delivery after it, and the next round sends the rest.
TEST_F(AlertsRelayTest, ASlowRelayDeliversAndARoundKeepsToItsDeadline) {
  ScriptedRelay relay(dir_ / "r", "slow 0.4");  // a first message takes 6 replies: 2.4 s
  AlertsHarness h("relay-slow", relay_config(relay, "10s"));
  queue_backlog(h, 2);
  alerts::Sender sender(h.alerts, *h.db);
  alerts::Round round;
  round.deadline = std::chrono::steady_clock::now() + 1s;
  alerts::SendStats s = sender.deliver_due(kQueued, round);
  EXPECT_EQ(s.sent, 1) << "the first delivery started before the deadline";
  EXPECT_TRUE(s.more);
  EXPECT_EQ(s.retried + s.failed, 0);
  auto ds = h.deliveries();
  EXPECT_EQ(count(ds, DeliveryStatus::kSent), 1);
  for (const auto& d : ds) {
    if (d.status == DeliveryStatus::kPending) {
      EXPECT_EQ(d.attempts, 0);
    }
  }
  s = sender.deliver_due(kQueued);
  EXPECT_EQ(s.sent, 3);
  EXPECT_FALSE(s.more);
  expect_each_accepted_once(h, relay);
}

// Deliveries that fail together do not retry in lockstep: each wait is lengthened by a random
// 0-25%.
TEST_F(AlertsRelayTest, RetriesGetJitter) {
  ScriptedRelay relay(dir_ / "r", "rcpt451");  // each recipient's own temporary refusal
  AlertsHarness h("relay-jitter", relay_config(relay));
  queue_backlog(h, 10);
  alerts::Sender sender(h.alerts, *h.db);
  EXPECT_EQ(sender.deliver_due(kQueued).retried, 20);
  std::set<int64_t> times;
  for (const auto& d : h.deliveries()) {
    EXPECT_GE(d.next_attempt_at, kQueued + 30);
    EXPECT_LE(d.next_attempt_at, kQueued + 37);
    times.insert(d.next_attempt_at);
  }
  EXPECT_GE(times.size(), 3u) << "20 retries spread over at most " << times.size() << " seconds";
}

// After an outage that failed deliveries (as releases before this one did on a 554 greeting),
// `repwatch alerts retry --all-failed` sends them all; with the relay still down they wait for
// repwatchd instead of failing again.
TEST_F(AlertsRelayTest, RetryAllFailedSendsEveryFailedDelivery) {
  ScriptedRelay relay(dir_ / "r", "greet554");
  AlertsHarness h("relay-retry-all", relay_config(relay));
  queue_backlog(h, 3);
  {
    db::Statement st = h.db->prepare(
        "UPDATE alert_deliveries SET status = 'failed', attempts = 1, last_error = '554 5.3.2 "
        "relay.test No SMTP service here'");
    st.run();
  }
  std::string out, err;
  EXPECT_EQ(run_alerts(h, {"alerts", "retry", "--all-failed"}, out, err, kQueued + 600), 1);
  EXPECT_NE(out.find("6 failed deliveries queued again"), std::string::npos) << out;
  EXPECT_NE(out.find("0 sent, 0 failed, 6 waiting"), std::string::npos) << out;
  EXPECT_EQ(relay.connections(), 1);
  EXPECT_EQ(count(h.deliveries(), DeliveryStatus::kPending), 6);

  // Failed again later (say retry_for ran out); the relay is back.
  {
    db::Statement st = h.db->prepare("UPDATE alert_deliveries SET status = 'failed'");
    st.run();
  }
  relay.set_mode("ok");
  EXPECT_EQ(run_alerts(h, {"alerts", "retry", "--all-failed"}, out, err, kQueued + 7200), 0) << out;
  EXPECT_NE(out.find("6 sent, 0 failed"), std::string::npos) << out;
  EXPECT_EQ(count(h.deliveries(), DeliveryStatus::kSent), 6);
  expect_each_accepted_once(h, relay);
  EXPECT_EQ(run_alerts(h, {"alerts", "retry", "--all-failed"}, out, err, kQueued + 7300), 0);
  EXPECT_NE(out.find("no failed deliveries"), std::string::npos) << out;
  // An id and --all-failed together, or neither: a usage error.
  EXPECT_EQ(run_alerts(h, {"alerts", "retry", "3", "--all-failed"}, out, err, kQueued + 7300), 2);
  EXPECT_EQ(run_alerts(h, {"alerts", "retry"}, out, err, kQueued + 7300), 2);
}

}  // namespace
}  // namespace repwatch
