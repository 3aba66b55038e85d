// Source health end to end: the real repwatchd binary polls a Facebook Page on the fixture HTTP
// server and mails the real SMTP server on loopback (python3-aiosmtpd). A token that expires is
// one email, its renewal a second, and restarts and re-polls in between - repwatchd --once runs
// and the long-running daemon - none; messages are counted by Message-ID as the server received
// them. Transient failures count across --once runs (the count is in the database). `repwatch
// sources` shows page caps and skipped rows as warnings, and an unavailable source as such.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <sstream>

#include "cli/app.h"
#include "core/time.h"
#include "tests/fixtures/daemon/daemon_harness.h"
#include "tests/fixtures/http/fixture_server.h"
#include "tests/fixtures/smtp/smtp_fixture.h"

namespace repwatch::testing {
namespace {

std::string ratings(int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i)
    out += std::string(i ? "," : "") + R"({"created_time": "2025-03-0)" + std::to_string(i + 1) +
           R"(T10:00:00+0000", "recommendation_type": "positive", "has_rating": true,
              "has_review": true, "review_text": "Kind nurses and a short wait.",
              "reviewer": {"name": "Patient )" +
           std::to_string(i) + R"(", "id": "u)" + std::to_string(i) +
           R"("}, "open_graph_story": {"id": "story)" + std::to_string(i) + R"("}})";
  return out + "]";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class DaemonHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(repwatchd_binary())) << repwatchd_binary();
    smtp = std::make_unique<SmtpServer>(dir.path / "inbox");
    token = dir.path / "facebook-page-token";
    write_file(token, "EAAGfirstToken\n", 0600);
    server.data("facebook", "PAGE1", ratings(3));
    server.auth("facebook", "EAAGfirstToken");
    config = dir.path / "repwatch.toml";
    write_config();
  }

  // One Facebook source (plus `more` [[sources]]), managers and marketing, the SMTP fixture.
  void write_config(const std::string& source_extra = "", const std::string& more = "") {
    write_file(config,
               "state_dir = \"" + (dir.path / "state").string() +
                   "\"\n"
                   "[[locations]]\nid = \"downtown\"\nname = \"Downtown Family Practice\"\n"
                   "[[sources]]\nid = \"fb-downtown\"\ntype = \"facebook\"\n"
                   "location = \"downtown\"\ninterval = \"15m\"\npage_id = \"PAGE1\"\n"
                   "access_token_file = \"facebook-page-token\"\napi_version = \"v19.0\"\n"
                   "page_size = 2\nbase_url = \"" +
                   server.base_url() + "\"\n" + source_extra + more +
                   "[http]\nretries = 0\ntimeout = \"10s\"\nproxy = \"\"\n"
                   "[alerts]\nmanagers = \"manager@clinic.example\"\n"
                   "marketing = \"marketing@clinic.example\"\n"
                   "[smtp]\nurl = \"" +
                   smtp->url() +
                   "\"\nstarttls = \"off\"\n"
                   "from = \"repwatch <repwatch@clinic.example>\"\ntimeout = \"10s\"\n",
               0640);
  }

  int once(const std::string& tag) {
    auto [rc, out] =
        run_repwatchd({"--config", config.string(), "--once"}, dir.path / (tag + ".log"));
    last_log = out;
    return rc;
  }

  long long state(const std::string& column) {
    return DbProbe(dir.path / "state" / "repwatch.db")
        .integer("SELECT " + column + " FROM poll_state WHERE source_id = 'fb-downtown'");
  }

  std::map<std::string, int> by_message_id() {
    std::map<std::string, int> n;
    for (const auto& m : smtp->messages()) ++n[m.message_id];
    return n;
  }

  TempDir dir;
  FixtureServer server;
  std::unique_ptr<SmtpServer> smtp;
  fs::path token, config;
  std::string last_log;
};

TEST_F(DaemonHealthTest, AnExpiredTokenIsOneEmailItsRenewalASecondAndRestartsNone) {
  ASSERT_EQ(once("1"), 0) << last_log;
  EXPECT_EQ(smtp->messages().size(), 0u) << "a first sync alerts on nothing";

  // The Page token expires: Facebook answers error 190/463 from now on.
  server.auth("facebook", "EAAGsecondToken");
  EXPECT_EQ(once("2"), 3) << last_log;
  auto msgs = smtp->messages();
  ASSERT_EQ(msgs.size(), 1u) << last_log;
  const Received& m = msgs[0];
  EXPECT_EQ(m.rcpt_tos, std::vector<std::string>{"manager@clinic.example"});
  EXPECT_TRUE(has(m.subject,
                  "Action needed: reviews from Facebook for Downtown Family Practice "
                  "are not being read"))
      << m.subject;
  const Received::Part* text = m.part("text/plain");
  ASSERT_TRUE(text);
  for (const std::string& part :
       {std::string("The Facebook Page access token has expired: create a new long-lived Page "
                    "access token"),
        "put it in " + token.string() + " (this source's access_token_file), then reload repwatch",
        std::string("Source:                fb-downtown (Facebook)"),
        std::string("Location:              Downtown Family Practice"),
        std::string("Missed:                1 poll failed; no new data since"),
        std::string("Graph API error 190/463")})
    EXPECT_TRUE(has(text->text, part)) << part << "\n" << text->text;
  EXPECT_FALSE(has(m.raw, "EAAG")) << "never the token";

  // Re-polls and restarts of the same episode: nothing more.
  EXPECT_EQ(once("3"), 3);
  EXPECT_EQ(once("4"), 3);
  EXPECT_EQ(state("consecutive_failures"), 3);
  {
    // The long-running daemon too: it retries a source waiting for a person at once on start.
    DaemonProcess d({"--config", config.string()}, {}, dir.path / "daemon.log");
    EXPECT_TRUE(eventually([&] { return state("consecutive_failures") == 4; }, 30s)) << d.log();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(30s), 0) << d.log();
  }
  EXPECT_EQ(smtp->messages().size(), 1u);

  // The new token goes where the email said; the next poll works: one "resolved".
  write_file(token, "EAAGsecondToken\n", 0600);
  EXPECT_EQ(once("5"), 0) << last_log;
  msgs = smtp->messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_TRUE(has(msgs[1].subject,
                  "Resolved: reviews from Facebook for Downtown Family Practice are read again"))
      << msgs[1].subject;
  EXPECT_TRUE(has(msgs[1].part("text/plain")->text, "after 4 failed polls in a row since"))
      << msgs[1].part("text/plain")->text;

  EXPECT_EQ(once("6"), 0);
  EXPECT_EQ(once("7"), 0);
  auto ids = by_message_id();
  EXPECT_EQ(ids.size(), 2u);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(smtp->messages().size(), 2u);
}

TEST_F(DaemonHealthTest, FailedPollsCountAcrossOnceRuns) {
  ASSERT_EQ(once("1"), 0) << last_log;
  server.fault(R"({"match": "/ratings", "kind": "status", "status": 503, "times": -1,
                   "body": "upstream unavailable", "content_type": "text/plain"})");
  EXPECT_EQ(once("2"), 3);
  EXPECT_EQ(once("3"), 3);
  EXPECT_EQ(smtp->messages().size(), 0u) << "two failed polls may pass by themselves";
  EXPECT_EQ(state("consecutive_failures"), 2);
  EXPECT_EQ(once("4"), 3);
  auto msgs = smtp->messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(has(msgs[0].subject,
                  "Reviews from Facebook for Downtown Family Practice: 3 polls "
                  "in a row failed"))
      << msgs[0].subject;
  EXPECT_TRUE(has(msgs[0].part("text/plain")->text, "keeps retrying"));
  EXPECT_EQ(once("5"), 3);
  EXPECT_EQ(smtp->messages().size(), 1u);
  server.clear_faults();
  EXPECT_EQ(once("6"), 0);
  EXPECT_EQ(smtp->messages().size(), 2u);
  EXPECT_EQ(by_message_id().size(), 2u);
}

TEST_F(DaemonHealthTest, SourcesShowsWarningsAndUnavailable) {
  // fb-downtown: 5 ratings, pages of 2, max_pages = 1: the page cap is hit.
  server.data("facebook", "PAGE1", ratings(5));
  // fb-old: asks with v22.0, where Facebook answers error 12 for good.
  // import: a CSV with a row whose rating is not a number.
  fs::create_directories(dir.path / "import");
  write_file(dir.path / "import" / "reviews.csv",
             "external_id,author,rating,text,created_at\n"
             "c1,Ann,5,Lovely staff.,2025-03-01T10:00:00Z\n"
             "c2,Bob,abc,Hmm.,2025-03-02T10:00:00Z\n");
  write_config("max_pages = 1\n",
               "[[sources]]\nid = \"fb-old\"\ntype = \"facebook\"\nlocation = \"downtown\"\n"
               "page_id = \"PAGE1\"\naccess_token_file = \"facebook-page-token\"\n"
               "api_version = \"v22.0\"\nbase_url = \"" +
                   server.base_url() +
                   "\"\n"
                   "[[sources]]\nid = \"import\"\ntype = \"file\"\nlocation = \"downtown\"\n"
                   "path = \"" +
                   (dir.path / "import").string() + "\"\n");
  EXPECT_EQ(once("1"), 3) << last_log;

  // Asked again in a day, not an hour.
  DbProbe db(dir.path / "state" / "repwatch.db");
  EXPECT_GE(db.integer("SELECT next_poll_at - last_attempt_at FROM poll_state "
                       "WHERE source_id = 'fb-old'"),
            86400 * 9 / 10);
  // Told once, to the managers.
  auto msgs = smtp->messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(has(msgs[0].subject,
                  "Facebook no longer gives repwatch the reviews for Downtown "
                  "Family Practice"))
      << msgs[0].subject;

  cli::Environment env;
  env.now = now_seconds();
  std::ostringstream out, err;
  ASSERT_EQ(cli::run_cli({"--config", config.string(), "sources"}, out, err, env), 0) << err.str();
  const std::string table = out.str();
  for (const char* part : {"warnings", "stopped after max_pages (1) pages", "unavailable",
                           "api_version = \"v21.0\"", "rating: not a number"})
    EXPECT_TRUE(has(table, part)) << part << "\n" << table;

  std::ostringstream jout, jerr;
  ASSERT_EQ(cli::run_cli({"--config", config.string(), "--json", "sources"}, jout, jerr, env), 0);
  rapidjson::Document d;
  d.Parse(jout.str().c_str());
  ASSERT_TRUE(d.IsArray()) << jout.str();
  std::map<std::string, const rapidjson::Value*> by_id;
  for (const auto& s : d.GetArray()) by_id[s["source"].GetString()] = &s;
  ASSERT_EQ(by_id.size(), 3u);
  const auto& capped = *by_id.at("fb-downtown");
  EXPECT_STREQ(capped["status"].GetString(), "warnings");
  EXPECT_EQ(capped["warning_count"].GetInt(), 1);
  ASSERT_TRUE(capped["warnings"].IsArray());
  EXPECT_TRUE(has(capped["warnings"][0].GetString(), "stopped after max_pages (1) pages"));
  const auto& old = *by_id.at("fb-old");
  EXPECT_STREQ(old["status"].GetString(), "unavailable");
  EXPECT_STREQ(old["last_error_kind"].GetString(), "unavailable");
  EXPECT_TRUE(has(old["advice"].GetString(), "set api_version = \"v21.0\""));
  EXPECT_FALSE(old["since"].IsNull());
  const auto& import = *by_id.at("import");
  EXPECT_STREQ(import["status"].GetString(), "warnings");
  EXPECT_TRUE(has(import["warnings"][0].GetString(), "reviews.csv:3: rating: not a number"))
      << import["warnings"][0].GetString();
}

}  // namespace
}  // namespace repwatch::testing
