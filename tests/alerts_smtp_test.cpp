// Alerts end to end over a real SMTP server on 127.0.0.1 (tests/fixtures/smtp/smtp_server.py,
// Debian's python3-aiosmtpd): what arrives, parsed as MIME; the server down, answering 4xx and
// 5xx; the process killed between storing and sending; hostile review content; STARTTLS and
// implicit TLS with AUTH. A relay misbehaving in other ways: alerts_relay_test.cpp.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>

#include "alerts/sender.h"
#include "tests/fixtures/smtp/alerts_harness.h"
#include "tests/fixtures/smtp/smtp_fixture.h"

namespace repwatch {
namespace {

using db::DeliveryStatus;
using testing::AlertsHarness;
using testing::kT0;
using testing::make_review;
using testing::Received;
using testing::SmtpServer;

const char* kNegativeText =
    "The receptionist was rude and billing charged me twice for one visit. Never coming back.";
const char* kPositiveText = "Dr. Smith was wonderful, the nurses were kind.";

std::string smtp_config(const SmtpServer& server, const std::string& more = "") {
  return "[alerts]\n"
         "marketing = [\"marketing@clinic.example\"]\n"
         "retry_initial = \"30s\"\n" +
         more +
         "[alerts.owners]\n"
         "billing = \"billing.lead@clinic.example\"\n"
         "front_desk = \"frontdesk.lead@clinic.example\"\n"
         "physician = \"medical.director@clinic.example\"\n"
         "[smtp]\n"
         "url = \"" +
         server.url() +
         "\"\n"
         "starttls = \"off\"\n"
         "from = \"repwatch alerts <alerts@clinic.example>\"\n"
         "timeout = \"10s\"\n";
}

std::map<std::string, int> count_by_message_id(const std::vector<Received>& msgs) {
  std::map<std::string, int> n;
  for (const auto& m : msgs) ++n[m.message_id];
  return n;
}

class AlertsSmtpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    smtp_dir_ = testing::make_temp_dir("smtp-inbox");
    server_ = std::make_unique<SmtpServer>(smtp_dir_);
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(smtp_dir_, ec);
  }
  std::filesystem::path smtp_dir_;
  std::unique_ptr<SmtpServer> server_;
};

// First sync alerts on nothing; a new negative review in the next poll is emailed to the
// marketing list and the owners of the touchpoints it complains about, once.
TEST_F(AlertsSmtpTest, NewNegativeReviewIsEmailedToMarketingAndOwnersExactlyOnce) {
  AlertsHarness h("smtp-e2e", smtp_config(*server_));
  alerts::Sender sender(h.alerts, *h.db);

  // First sync: history, one negative and one positive: no alert.
  auto first = h.poll("google-downtown",
                      {make_review("old-1", "Old Complainer", 1, kNegativeText, kT0 - 86400 * 30),
                       make_review("old-2", "Old Fan", 5, kPositiveText, kT0 - 86400 * 20)},
                      kT0);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.alerts_queued, 0);

  // Second poll: a new negative and a new positive review.
  const int64_t t1 = kT0 + 900;
  auto second = h.poll("google-downtown",
                       {make_review("new-neg", "Jane Doe", 1, kNegativeText, kT0 + 600),
                        make_review("new-pos", "Happy Patient", 5, kPositiveText, kT0 + 700)},
                       t1);
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.alerts_queued, 1);

  alerts::SendStats s = sender.deliver_due(t1);
  EXPECT_EQ(s.sent, 3);
  EXPECT_EQ(s.failed + s.retried, 0);

  auto msgs = server_->messages();
  ASSERT_EQ(msgs.size(), 3u);
  std::set<std::string> rcpts;
  for (const Received& m : msgs) {
    ASSERT_EQ(m.error, "");
    ASSERT_EQ(m.rcpt_tos.size(), 1u);
    rcpts.insert(m.rcpt_tos[0]);
    EXPECT_EQ(m.mail_from, "alerts@clinic.example");
    EXPECT_EQ(m.to, m.rcpt_tos[0]);
    EXPECT_EQ(m.from, "repwatch alerts <alerts@clinic.example>");
    EXPECT_TRUE(m.defects.empty()) << m.file;
    EXPECT_LE(m.data_lines_max, 78) << m.file;
    // Subject: stars, what, where, who.
    EXPECT_EQ(m.subject,
              "[repwatch] \u2605\u2606\u2606\u2606\u2606 New negative review: Downtown Family "
              "Practice \u00b7 google-downtown \u00b7 Jane Doe");
    EXPECT_EQ(m.header_count("Subject"), 1);
    EXPECT_EQ(m.header_count("Date"), 1);
    EXPECT_EQ(m.header_count("Message-ID"), 1);
    EXPECT_EQ(m.header_count("MIME-Version"), 1);
    EXPECT_FALSE(m.date.empty());
    // multipart/alternative: text then HTML, UTF-8, quoted-printable.
    EXPECT_TRUE(m.is_multipart);
    EXPECT_EQ(m.content_type, "multipart/alternative");
    ASSERT_EQ(m.parts.size(), 2u);
    EXPECT_EQ(m.parts[0].content_type, "text/plain");
    EXPECT_EQ(m.parts[1].content_type, "text/html");
    for (const auto& p : m.parts) {
      EXPECT_EQ(p.charset, "utf-8");
      EXPECT_EQ(p.transfer_encoding, "quoted-printable");
    }
    const std::string& text = m.parts[0].text;
    EXPECT_NE(text.find(kNegativeText), std::string::npos);
    EXPECT_NE(text.find("Front desk and check-in"), std::string::npos);
    EXPECT_NE(text.find("Billing and insurance"), std::string::npos);
    EXPECT_NE(text.find("\"receptionist\""), std::string::npos) << text;  // evidence phrases
    EXPECT_NE(text.find("\"charged\""), std::string::npos) << text;
    EXPECT_NE(text.find("https://reviews.example/r/new-neg"), std::string::npos);
    EXPECT_NE(text.find("google-downtown"), std::string::npos);
    const std::string& html = m.parts[1].text;
    EXPECT_NE(html.find("<mark style=\"background:#ffe08a\">receptionist</mark>"),
              std::string::npos)
        << html;
    EXPECT_NE(html.find("<mark style=\"background:#ffe08a\">billing</mark>"), std::string::npos);
    EXPECT_NE(html.find("href=\"https://reviews.example/r/new-neg\""), std::string::npos);
    EXPECT_NE(html.find("\u2605\u2606\u2606\u2606\u2606"), std::string::npos);
  }
  EXPECT_EQ(rcpts, (std::set<std::string>{"marketing@clinic.example", "billing.lead@clinic.example",
                                          "frontdesk.lead@clinic.example"}));
  // Each delivery its own Message-ID, each received once.
  auto ids = count_by_message_id(msgs);
  EXPECT_EQ(ids.size(), 3u);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;

  // Everything marked sent with the Message-ID that went out.
  for (const auto& d : h.deliveries()) {
    EXPECT_EQ(d.status, DeliveryStatus::kSent);
    EXPECT_EQ(ids.count(d.message_id), 1u) << d.message_id;
    EXPECT_EQ(d.sent_via, server_->url());
  }

  // Re-poll the same reviews, restart the sender: nothing new.
  auto again = h.poll("google-downtown",
                      {make_review("new-neg", "Jane Doe", 1, kNegativeText, kT0 + 600),
                       make_review("new-pos", "Happy Patient", 5, kPositiveText, kT0 + 700)},
                      t1 + 900);
  EXPECT_EQ(again.alerts_queued, 0);
  alerts::Sender fresh(h.alerts, *h.db);
  EXPECT_EQ(fresh.deliver_due(t1 + 3600).sent, 0);
  EXPECT_EQ(server_->messages().size(), 3u);
}

// The SMTP server is down when the review arrives: the alert waits in the outbox, and goes out
// exactly once when the server is back. A server that is down is tried once per backoff step,
// not once per waiting delivery.
TEST_F(AlertsSmtpTest, ServerDownThenBackDeliversExactlyOnce) {
  AlertsHarness h("smtp-down", smtp_config(*server_));
  h.poll("google-downtown", {}, kT0);  // first sync: nothing
  server_->stop();

  const int64_t t1 = kT0 + 900;
  auto p = h.poll("google-downtown", {make_review("r1", "Jane", 2, kNegativeText, t1 - 60)}, t1);
  ASSERT_EQ(p.alerts_queued, 1);

  alerts::Sender sender(h.alerts, *h.db);
  alerts::SendStats s = sender.deliver_due(t1);
  EXPECT_EQ(s.sent, 0);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(s.retried, 1);  // the first; the other two wait for the server with it
  int64_t until = h.deliveries()[0].next_attempt_at;
  EXPECT_GE(until, t1 + 30);  // retry_initial, plus up to 25% jitter
  EXPECT_LE(until, t1 + 37);
  for (const auto& d : h.deliveries()) {
    EXPECT_EQ(d.status, DeliveryStatus::kPending);
    EXPECT_EQ(d.next_attempt_at, until);
    EXPECT_NE(d.last_error.find("connect"), std::string::npos) << d.last_error;
  }
  EXPECT_EQ(h.deliveries()[0].attempts, 1);
  EXPECT_EQ(h.deliveries()[1].attempts, 0);
  // Still down at the next attempt: backoff doubles.
  s = sender.deliver_due(until);
  EXPECT_EQ(s.retried, 1);
  const int64_t again = h.deliveries()[0].next_attempt_at;
  EXPECT_GE(again, until + 60);
  EXPECT_LE(again, until + 75);
  for (const auto& d : h.deliveries()) EXPECT_EQ(d.next_attempt_at, again);
  // Not due yet: no attempt.
  EXPECT_EQ(sender.deliver_due(again - 1).retried, 0);

  server_->start();  // back, same port
  s = sender.deliver_due(again);
  EXPECT_EQ(s.sent, 3);
  // Later runs (and another sender) send nothing more.
  EXPECT_EQ(sender.deliver_due(again + 3600).sent, 0);
  alerts::Sender other(h.alerts, *h.db);
  EXPECT_EQ(other.deliver_due(again + 7200).sent, 0);

  auto msgs = server_->messages();
  ASSERT_EQ(msgs.size(), 3u);
  for (const auto& [id, n] : count_by_message_id(msgs)) EXPECT_EQ(n, 1) << id;
  for (const auto& d : h.deliveries()) {
    EXPECT_EQ(d.status, DeliveryStatus::kSent);
    EXPECT_EQ(d.last_error, "");
  }
  EXPECT_EQ(h.deliveries()[0].attempts, 3);
  EXPECT_EQ(h.deliveries()[1].attempts, 1);
}

// 4xx is temporary: retried with backoff until accepted.
TEST_F(AlertsSmtpTest, TemporaryFailureIsRetried) {
  AlertsHarness h("smtp-4xx", smtp_config(*server_));
  h.poll("google-downtown", {}, kT0);
  const int64_t t1 = kT0 + 900;
  h.poll("google-downtown", {make_review("r1", "Jane", 1, kPositiveText, t1 - 60)}, t1);
  // A 1-star review with kind words is still negative by its rating; owners of praised
  // touchpoints are not told: only marketing.
  ASSERT_EQ(h.deliveries().size(), 1u);

  server_->set_mode("tempfail");
  alerts::Sender sender(h.alerts, *h.db);
  EXPECT_EQ(sender.deliver_due(t1).retried, 1);
  auto d = h.deliveries()[0];
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  EXPECT_NE(d.last_error.find("451 4.3.0 Mailbox temporarily unavailable"), std::string::npos)
      << d.last_error;

  server_->set_mode("tempfail_data");                 // greylisting after DATA
  EXPECT_EQ(sender.deliver_due(t1 + 40).retried, 1);  // retry_initial + up to 25%
  d = h.deliveries()[0];
  EXPECT_NE(d.last_error.find("451 4.7.1 Greylisted"), std::string::npos) << d.last_error;
  EXPECT_TRUE(server_->messages().empty());

  server_->set_mode("ok");
  EXPECT_EQ(sender.deliver_due(t1 + 40 + 80).sent, 1);
  d = h.deliveries()[0];
  EXPECT_EQ(d.status, DeliveryStatus::kSent);
  EXPECT_EQ(d.attempts, 3);
  ASSERT_EQ(server_->messages().size(), 1u);
  EXPECT_EQ(server_->messages()[0].message_id, d.message_id);
}

// A recipient's own 5xx at RCPT TO is permanent: marked failed with the server's message, not
// retried; `alerts retry` (reset_for_retry + deliver_one) sends it once the problem is fixed.
// A 5xx after the message content is not about the recipient: retried until retry_for.
TEST_F(AlertsSmtpTest, PermanentFailureIsRecordedAndNotRetried) {
  AlertsHarness h("smtp-5xx", smtp_config(*server_));
  h.poll("google-downtown", {}, kT0);
  const int64_t t1 = kT0 + 900;
  h.poll("google-downtown", {make_review("r1", "Jane", 1, kPositiveText, t1 - 60)}, t1);

  server_->set_mode("permfail");
  alerts::Sender sender(h.alerts, *h.db);
  EXPECT_EQ(sender.deliver_due(t1).failed, 1);
  auto d = h.deliveries()[0];
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_NE(d.last_error.find("550 5.1.1 <marketing@clinic.example>: Recipient address rejected"),
            std::string::npos)
      << d.last_error;

  server_->set_mode("ok");
  EXPECT_EQ(sender.deliver_due(t1 + 86400).sent, 0);  // never retried on its own
  EXPECT_TRUE(server_->messages().empty());

  db::OutboxStore ob(*h.db);
  ASSERT_TRUE(ob.reset_for_retry(d.id, t1 + 86400));
  alerts::SendResult r = sender.deliver_one(d.id, t1 + 86400);
  EXPECT_EQ(r.status, alerts::SendResult::Status::kSent) << r.error;
  EXPECT_EQ(h.deliveries()[0].status, DeliveryStatus::kSent);
  EXPECT_EQ(server_->messages().size(), 1u);

  // 5xx after DATA: retried (with the server's words), not failed.
  h.poll("google-downtown", {make_review("r2", "Joe", 1, kPositiveText, t1)}, t1 + 900);
  server_->set_mode("permfail_data");
  alerts::SendStats s = sender.deliver_due(t1 + 900);
  EXPECT_EQ(s.retried, 1);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(h.deliveries().back().status, DeliveryStatus::kPending);
  EXPECT_NE(h.deliveries().back().last_error.find("554 5.6.0 Message content rejected"),
            std::string::npos)
      << h.deliveries().back().last_error;
}

// The daemon is killed after the poll committed (review + alert) and before anything was sent:
// a fresh process on the same database file delivers it, once.
TEST_F(AlertsSmtpTest, KilledBetweenStoringAndSendingDeliversAfterRestart) {
  const std::string cfg = smtp_config(*server_);
  const std::filesystem::path db_path = smtp_dir_ / "kill.db";

  fflush(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The "daemon": store a poll with its alerts, then die without sending.
    Config config = parse_config(testing::base_config(smtp_dir_) + cfg, smtp_dir_ / "x.toml");
    alerts::AlertsConfig ac = alerts::load_alerts_config(config, testing::analyzer().touchpoints());
    db::Database db = db::open_store(db_path);
    db::ReviewStore store(db);
    alerts::AlertService service(ac);
    pipeline::Fetched first;  // the first sync: nothing
    first.source_id = "google-downtown";
    first.result = connectors::FetchResult{};
    pipeline::store_poll(store, *config.find_source("google-downtown"), std::move(first),
                         service.hook(db), kT0);
    pipeline::Fetched f;
    f.source_id = "google-downtown";
    connectors::FetchResult res;
    res.reviews = {make_review("r1", "Jane", 1, kNegativeText, kT0 + 800)};
    f.analyses = {testing::analyzer().analyze(kNegativeText)};
    f.result = res;
    auto out = pipeline::store_poll(store, *config.find_source("google-downtown"), std::move(f),
                                    service.hook(db), kT0 + 900);
    if (!out.ok || out.alerts_queued != 1) _exit(3);
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_TRUE(server_->messages().empty());

  // Restart: a fresh sender on the same file.
  Config config = parse_config(testing::base_config(smtp_dir_) + cfg, smtp_dir_ / "x.toml");
  alerts::AlertsConfig ac = alerts::load_alerts_config(config, testing::analyzer().touchpoints());
  db::Database db = db::open_store(db_path);
  alerts::Sender sender(ac, db);
  EXPECT_EQ(sender.deliver_due(kT0 + 1000).sent, 3);
  EXPECT_EQ(sender.deliver_due(kT0 + 2000).sent, 0);
  auto msgs = server_->messages();
  EXPECT_EQ(msgs.size(), 3u);
  for (const auto& [id, n] : count_by_message_id(msgs)) EXPECT_EQ(n, 1) << id;

  // A sender killed mid-transfer leaves a lease: another sender skips the delivery until the
  // lease runs out, then sends it (same Message-ID).
  db::ReviewStore store(db);
  alerts::AlertService service(ac);
  pipeline::Fetched f;
  f.source_id = "google-downtown";
  connectors::FetchResult res;
  res.reviews = {make_review("r2", "Joe", 1, kPositiveText, kT0 + 2500)};
  f.analyses = {testing::analyzer().analyze(kPositiveText)};
  f.result = res;
  pipeline::store_poll(store, *config.find_source("google-downtown"), std::move(f),
                       service.hook(db), kT0 + 3000);
  db::OutboxStore ob(db);
  auto pending = ob.due(kT0 + 3000, 10);
  ASSERT_EQ(pending.size(), 1u);
  ASSERT_TRUE(ob.claim(pending[0].id, kT0 + 3000, kT0 + 3300));  // the dead sender's claim
  EXPECT_EQ(sender.deliver_due(kT0 + 3100).sent, 0);
  EXPECT_EQ(sender.deliver_due(kT0 + 3300).sent, 1);
  EXPECT_EQ(server_->messages().size(), 4u);
}

// A reviewer name with CRLF and "Bcc:", text with <script>, emoji and non-Latin names: no
// header injection, no extra recipient, HTML escaped, the subject encoded and decodable.
// A negative review that a complete listing of its source no longer has is marked removed, and
// the next daily digest says so to those told of negative reviews; a removed positive review is
// not worth a word. Nothing goes out before the digest time, and nothing twice.
TEST_F(AlertsSmtpTest, ARemovedNegativeReviewIsInTheNextDigest) {
  AlertsHarness h("smtp-removed", smtp_config(*server_, "timezone = \"UTC\"\n") +
                                      "[digest]\nmode = \"daily\"\nat = \"08:00\"\n");
  alerts::Sender sender(h.alerts, *h.db);
  auto first = h.poll("google-downtown",
                      {make_review("neg", "Jane Doe", 1, kNegativeText, kT0 - 86400 * 30),
                       make_review("pos", "Happy Patient", 5, kPositiveText, kT0 - 86400 * 20),
                       make_review("pos2", "Also Happy", 5, kPositiveText, kT0 - 86400 * 10)},
                      kT0, true);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.alerts_queued, 0);

  // Both the negative and a positive review are gone from Google's complete listing.
  const int64_t t1 = kT0 + 900;
  auto second =
      h.poll("google-downtown",
             {make_review("pos", "Happy Patient", 5, kPositiveText, kT0 - 86400 * 20)}, t1, true);
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.removed, 2);
  EXPECT_EQ(second.alerts_queued, 1);
  EXPECT_EQ(sender.deliver_due(t1).sent, 0);  // waits for the digest
  EXPECT_EQ(sender.deliver_due(kT0 + 7 * 3600).sent, 0);
  EXPECT_TRUE(server_->messages().empty());

  // A later poll that still lacks it says nothing more.
  EXPECT_EQ(h.poll("google-downtown",
                   {make_review("pos", "Happy Patient", 5, kPositiveText, kT0 - 86400 * 20)},
                   t1 + 900, true)
                .alerts_queued,
            0);

  alerts::SendStats s = sender.deliver_due(kT0 + 8 * 3600);
  EXPECT_EQ(s.digests, 3);
  EXPECT_EQ(s.sent, 3);
  auto msgs = server_->messages();
  ASSERT_EQ(msgs.size(), 3u);
  std::set<std::string> rcpts;
  for (const Received& m : msgs) {
    rcpts.insert(m.rcpt_tos.at(0));
    EXPECT_NE(m.subject.find("Digest: 1 alert"), std::string::npos) << m.subject;
    ASSERT_EQ(m.parts.size(), 2u);
    const std::string& text = m.parts[0].text;
    EXPECT_NE(text.find("Negative review removed"), std::string::npos) << text;
    EXPECT_NE(text.find("Jane Doe"), std::string::npos) << text;
    EXPECT_NE(text.find("The receptionist was rude"), std::string::npos) << text;
    EXPECT_NE(text.find("Removed at the source: google-downtown (import) no longer listed it on "
                        "2026-01-01"),
              std::string::npos)
        << text;
    EXPECT_NE(m.parts[1].text.find("Negative review removed"), std::string::npos);
  }
  EXPECT_EQ(rcpts, (std::set<std::string>{"marketing@clinic.example", "billing.lead@clinic.example",
                                          "frontdesk.lead@clinic.example"}));
  EXPECT_EQ(sender.deliver_due(kT0 + 86400 + 8 * 3600).sent, 0);
  EXPECT_EQ(server_->messages().size(), 3u);
}

// A Spanish review whose source gave an English translation: scored on the translation, so it
// alerts; the email shows the reviewer's own words, with the translation (and its evidence
// phrases marked) beside them.
TEST_F(AlertsSmtpTest, AnAlertShowsTheReviewersWordsWithTheTranslationBeside) {
  AlertsHarness h("smtp-translated", smtp_config(*server_));
  alerts::Sender sender(h.alerts, *h.db);
  h.poll("google-downtown", {}, kT0);
  Review es = make_review("es", "Ana Ruiz", std::nullopt,
                          "Esperamos 50 minutos y la recepcionista fue muy grosera.", kT0 + 600);
  es.translated_text = "We waited 50 minutes and the receptionist was very rude.";
  auto p = h.poll("google-downtown", {es}, kT0 + 900);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.alerts_queued, 1);  // negative by its (translated) text; it has no rating
  EXPECT_GE(sender.deliver_due(kT0 + 900).sent, 1);
  auto msgs = server_->messages();
  ASSERT_GE(msgs.size(), 1u);
  const Received& m = msgs[0];
  ASSERT_EQ(m.parts.size(), 2u);
  const std::string& text = m.parts[0].text;
  size_t original = text.find("Esperamos 50 minutos y la recepcionista fue muy grosera.");
  size_t translation = text.find(
      "Translation (by the source):\n  We waited 50 minutes and the receptionist was "
      "very rude.");
  ASSERT_NE(original, std::string::npos) << text;
  ASSERT_NE(translation, std::string::npos) << text;
  EXPECT_LT(original, translation);
  EXPECT_NE(text.find("\"receptionist\""), std::string::npos) << text;  // evidence, translated
  const std::string& html = m.parts[1].text;
  EXPECT_NE(html.find("Esperamos 50 minutos"), std::string::npos);
  EXPECT_NE(html.find("<mark style=\"background:#ffe08a\">receptionist</mark>"), std::string::npos)
      << html;
}

// A review first seen long after its own date (held for moderation, published backdated) says
// so in its alert; one seen within hours of being posted does not.
TEST_F(AlertsSmtpTest, AReviewFirstSeenLongAfterItsDateSaysSo) {
  AlertsHarness h("smtp-backdated", smtp_config(*server_));
  alerts::Sender sender(h.alerts, *h.db);
  h.poll("google-downtown", {}, kT0 - 86400 * 30);
  const int64_t now = kT0 + 10 * 3600;  // 2026-01-01 10:00 UTC
  auto p = h.poll("google-downtown",
                  {make_review("late", "Late Larry", 1, kNegativeText, kT0 + 8 * 3600 - 9 * 86400),
                   make_review("fresh", "Fresh Fiona", 1, kNegativeText, now - 3600)},
                  now);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.alerts_queued, 2);
  sender.deliver_due(now);
  int late = 0, fresh = 0;
  for (const Received& m : server_->messages()) {
    const std::string& text = m.parts.at(0).text;
    const std::string& html = m.parts.at(1).text;
    if (m.subject.find("Late Larry") != std::string::npos) {
      ++late;
      EXPECT_NE(text.find("Posted 9 days ago (2025-12-23), first seen today."), std::string::npos)
          << text;
      EXPECT_NE(html.find("Posted 9 days ago (2025-12-23), first seen today."), std::string::npos);
    } else {
      ++fresh;
      EXPECT_EQ(text.find("first seen"), std::string::npos) << text;
    }
  }
  EXPECT_EQ(late, 3);
  EXPECT_EQ(fresh, 3);
}

TEST_F(AlertsSmtpTest, HostileContentCannotInjectHeadersOrMarkup) {
  AlertsHarness h("smtp-hostile", smtp_config(*server_));
  h.poll("yelp-north", {}, kT0);
  const int64_t t1 = kT0 + 900;
  const std::string author =
      "Zo\u00eb \u5c71\u7530 \U0001F621\r\nBcc: attacker@evil.example\r\n\u202Efdp.exe\u2066\u2069";
  const std::string text =
      "Waited 2 hours and the front desk ignored me <script>alert('x')</script> \U0001F621\r\n"
      "Subject: fake\r\n.\r\nFrom here on: =?UTF-8?B?ZXZpbA==?=";
  auto p = h.poll("yelp-north",
                  {make_review("h1", author, 1, text, t1 - 60, "yelp-north", "north")}, t1);
  ASSERT_EQ(p.alerts_queued, 1);
  alerts::Sender sender(h.alerts, *h.db);
  alerts::SendStats s = sender.deliver_due(t1);
  EXPECT_EQ(s.failed + s.retried, 0);

  auto msgs = server_->messages();
  ASSERT_GE(msgs.size(), 1u);
  for (const Received& m : msgs) {
    ASSERT_EQ(m.error, "");
    EXPECT_TRUE(m.defects.empty()) << m.file;
    ASSERT_EQ(m.rcpt_tos.size(), 1u);
    EXPECT_NE(m.rcpt_tos[0], "attacker@evil.example");
    EXPECT_EQ(m.header_count("Bcc"), 0);
    EXPECT_EQ(m.header_count("Subject"), 1);
    EXPECT_EQ(m.header_count("From"), 1);
    EXPECT_EQ(m.raw.find("\r\nBcc:"), std::string::npos);
    // In the headers the name travels RFC 2047-encoded, never as header syntax; the body
    // (quoted-printable text) may show it as text.
    EXPECT_EQ(m.header_block().find("attacker@evil.example"), std::string::npos)
        << m.header_block();
    EXPECT_EQ(m.header_block().find("<script>"), std::string::npos);
    EXPECT_LE(m.data_lines_max, 78);
    // The subject: encoded-words in the raw header, decoded back to the sanitized name.
    for (const auto& [k, v] : m.raw_headers)
      if (k == "Subject") {
        EXPECT_EQ(v.rfind("=?UTF-8?B?", 0), 0u) << v;
      }
    EXPECT_NE(m.subject.find("Zo\u00eb \u5c71\u7530 \U0001F621 Bcc: attacker@evil.example"),
              std::string::npos)
        << m.subject;
    EXPECT_NE(m.subject.find("Cl\u00ednica Norte \u2014 \u5317"), std::string::npos) << m.subject;
    EXPECT_EQ(m.subject.find('\n'), std::string::npos);
    EXPECT_EQ(m.subject.find('\r'), std::string::npos);
    // Bidirectional controls are gone from the headers (the name cannot reorder the subject).
    EXPECT_NE(m.subject.find("attacker@evil.example fdp.exe"), std::string::npos) << m.subject;
    for (const char* bidi : {"\u202E", "\u2066", "\u2069"})
      EXPECT_EQ(m.subject.find(bidi), std::string::npos) << m.subject;
    // HTML escaped; the text part keeps the words, as text.
    const auto* html = m.part("text/html");
    const auto* plain = m.part("text/plain");
    ASSERT_TRUE(html && plain);
    EXPECT_EQ(html->text.find("<script>"), std::string::npos);
    EXPECT_NE(html->text.find("&lt;"), std::string::npos);
    EXPECT_NE(html->text.find("alert(&#39;x&#39;)"), std::string::npos) << html->text;
    EXPECT_NE(plain->text.find("<script>alert('x')</script> \U0001F621"), std::string::npos);
    // A lone "." line and "Subject:" in the body stay body text.
    EXPECT_NE(plain->text.find("\n  .\n"), std::string::npos) << plain->text;
    EXPECT_NE(plain->text.find("  Subject: fake"), std::string::npos);
    EXPECT_NE(plain->text.find("=?UTF-8?B?ZXZpbA==?="), std::string::npos);  // not decoded
  }
}

// STARTTLS with AUTH, and implicit TLS (smtps://), against a self-signed certificate trusted
// through [smtp] ca_file. A wrong password is reported without the password.
class AlertsSmtpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("smtp-tls");
    cert_ = dir_ / "cert.pem";
    key_ = dir_ / "key.pem";
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        key_.string() + " -out " + cert_.string() + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl is not available";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string config(const std::string& url, const std::string& password,
                     const std::string& starttls) {
    return "[alerts]\nmarketing = \"marketing@clinic.example\"\n"
           "[smtp]\nurl = \"" +
           url + "\"\nstarttls = \"" + starttls + "\"\nusername = \"repwatch\"\npassword = \"" +
           password + "\"\nca_file = \"" + cert_.string() +
           "\"\nfrom = \"alerts@clinic.example\"\ntimeout = \"10s\"\n";
  }
  std::filesystem::path dir_, cert_, key_;
};

TEST_F(AlertsSmtpTlsTest, StartTlsWithAuth) {
  SmtpServer server(dir_ / "inbox", {"--auth", "repwatch:s3cret-Pa55", "--starttls", cert_.string(),
                                     key_.string()});
  AlertsHarness h("smtp-starttls", config(server.url(), "s3cret-Pa55", "required"));
  h.poll("google-downtown", {}, kT0);
  h.poll("google-downtown", {make_review("t1", "Jane", 1, kNegativeText, kT0 + 100)}, kT0 + 900);
  alerts::Sender sender(h.alerts, *h.db);
  alerts::SendStats s = sender.deliver_due(kT0 + 900);
  EXPECT_EQ(s.sent, 1) << h.deliveries()[0].last_error;
  ASSERT_EQ(server.messages().size(), 1u);
  EXPECT_EQ(server.messages()[0].rcpt_tos, std::vector<std::string>{"marketing@clinic.example"});
}

TEST_F(AlertsSmtpTlsTest, WrongPasswordIsRetriedAndNeverShown) {
  SmtpServer server(dir_ / "inbox", {"--auth", "repwatch:s3cret-Pa55", "--starttls", cert_.string(),
                                     key_.string()});
  AlertsHarness h("smtp-badauth", config(server.url(), "wr0ng-Pa55word", "required"));
  h.poll("google-downtown", {}, kT0);
  h.poll("google-downtown", {make_review("t1", "Jane", 1, kNegativeText, kT0 + 100)}, kT0 + 900);
  alerts::Sender sender(h.alerts, *h.db);
  alerts::SendStats s = sender.deliver_due(kT0 + 900);
  EXPECT_EQ(s.retried, 1);
  auto d = h.deliveries()[0];
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  EXPECT_NE(d.last_error.find("535"), std::string::npos) << d.last_error;
  EXPECT_EQ(d.last_error.find("wr0ng-Pa55word"), std::string::npos);
  EXPECT_TRUE(server.messages().empty());
}

TEST_F(AlertsSmtpTlsTest, StartTlsRequiredRefusesAPlainServer) {
  SmtpServer server(dir_ / "inbox");  // no STARTTLS offered
  AlertsHarness h("smtp-notls", config(server.url(), "pw-1234", "required"));
  h.poll("google-downtown", {}, kT0);
  h.poll("google-downtown", {make_review("t1", "Jane", 1, kNegativeText, kT0 + 100)}, kT0 + 900);
  alerts::Sender sender(h.alerts, *h.db);
  EXPECT_EQ(sender.deliver_due(kT0 + 900).retried, 1);
  EXPECT_TRUE(server.messages().empty());
  EXPECT_EQ(server.commands().find("MAIL FROM"), std::string::npos)
      << "nothing, not even the sender, goes out in the clear";
}

TEST_F(AlertsSmtpTlsTest, ImplicitTls) {
  SmtpServer server(dir_ / "inbox", {"--implicit-tls", cert_.string(), key_.string()});
  std::string url = "smtps://127.0.0.1:" + std::to_string(server.port());
  std::string cfg = "[alerts]\nmarketing = \"marketing@clinic.example\"\n[smtp]\nurl = \"" + url +
                    "\"\nca_file = \"" + cert_.string() + "\"\nfrom = \"alerts@clinic.example\"\n";
  AlertsHarness h("smtp-smtps", cfg);
  h.poll("google-downtown", {}, kT0);
  h.poll("google-downtown", {make_review("t1", "Jane", 1, kNegativeText, kT0 + 100)}, kT0 + 900);
  alerts::Sender sender(h.alerts, *h.db);
  EXPECT_EQ(sender.deliver_due(kT0 + 900).sent, 1) << h.deliveries()[0].last_error;
  EXPECT_EQ(server.messages().size(), 1u);
}

}  // namespace
}  // namespace repwatch
