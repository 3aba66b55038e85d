// Secrets never leak: repwatchd runs (--once, debug logging) with known fake secrets for every
// secret-bearing source type and for SMTP AUTH - inline in a 0600 config, in *_file files and
// in *_env variables - against servers on 127.0.0.1 that echo the secrets back in error
// messages and paging links, and against an unreachable port. Then every place a secret could
// end up is searched, in raw, URL-encoded and base64 form:
//   - repwatchd's stderr (all runs, debug level; also --check-config);
//   - every table and column of the database, and the raw bytes of the database and WAL files;
//   - the emails the SMTP server received and the .eml spool;
//   - the output of every `repwatch` command (table, --json, --csv, the HTML report file).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "db/sqlite.h"
#include "fuzz/http_server.h"
#include "net/http.h"
#include "tests/fixtures/reliability/process.h"
#include "tests/fixtures/smtp/smtp_fixture.h"

namespace fs = std::filesystem;
using repwatch::net::url_encode;
using repwatch::testing::run_process;
using repwatch::testing::TempDir;

namespace {

// Distinctive fake secrets; some need URL-encoding ('/', '+', '=').
const std::map<std::string, std::string> kSecrets = {
    {"places api key", "FAKEplacesKEY/8c2+Q7=="},
    {"yelp api key", "FAKEyelpKEY-4a0c9e7b31d2"},
    {"facebook token", "FAKEfbTOKEN+EAAGm0PX4ZCps/x="},
    {"json token", "FAKEjsonTOKEN/q1w2e3+r4t5"},
    {"google client secret", "FAKEgoogleCLIENTsecret-9f8e"},
    {"google refresh token", "FAKE1//0refreshTOKEN-abc+def"},
    {"google access token", "ya29.FAKEaccessTOKEN-0123456789"},
    {"smtp password", "FAKEsmtpP4ss/w0rd+!"},
    {"unreachable token", "FAKEunreachableTOKEN-77"},
    {"webhook url token", "FAKEwebhookT0KEN-B00000000-XXXXXXXX"},
};

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += t[(v >> k) & 63];
  }
  return out;  // the full groups only: enough to recognise an encoded secret
}

// Fails for every secret found in `text`, naming where.
void expect_no_secret(const std::string& text, const std::string& where) {
  for (const auto& [name, secret] : kSecrets) {
    for (const std::string& form : {secret, url_encode(secret), base64(secret)}) {
      size_t p = text.find(form);
      if (p != std::string::npos) {
        size_t from = p > 240 ? p - 240 : 0;
        ADD_FAILURE() << "the " << name << " appears in " << where << ": ..."
                      << text.substr(from, 360) << "...";
        break;
      }
    }
  }
}

std::string all_database_text(const fs::path& db_file) {
  auto db = repwatch::db::Database::open(db_file, repwatch::db::Database::Mode::kReadOnly);
  std::vector<std::string> tables;
  auto st = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'");
  while (st.step()) tables.push_back(st.column_text(0));
  std::string out;
  for (const auto& t : tables) {
    auto rows = db.prepare("SELECT * FROM \"" + t + "\"");
    while (rows.step())
      for (int c = 0; c < rows.column_count(); ++c)
        if (!rows.is_null(c))
          out += t + "." + rows.column_name(c) + "=" + rows.column_text(c) + "\n";
  }
  return out;
}

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(repwatch::testing::daemon_binary()) ||
        !fs::exists(repwatch::testing::cli_binary()))
      GTEST_SKIP() << "repwatchd / repwatch are not built";
  }
};

TEST_F(SecretsTest, NoSecretInLogsDatabaseEmailsOrCliOutput) {
  TempDir dir;
  const fs::path d = dir.path();
  const auto S = [](const char* name) { return kSecrets.at(name); };

  // One scripted API server per source, each echoing its secret back.
  repwatch::fuzz::ScriptedHttpServer places, yelp, facebook, json, google, hook;
  // Every run starts the scripts afresh (a process can only scrub a token it has seen: the
  // access token echoed in run 2 must be one run 2 obtained).
  auto script_all = [&] {
    hook.script("!404 text/plain\nno_team: invalid_token " + S("webhook url token") + "\x1e", "");
    places.script(
        "!400 application/json\n{\"error\": {\"code\": 400, \"message\": \"API key not "
        "valid. Please pass a valid API key: " +
            S("places api key") +
            "\", \"status\": \"INVALID_ARGUMENT\", \"details\": [{\"reason\": "
            "\"API_KEY_INVALID\"}]}}",
        "");
    yelp.script(
        "!401 application/json\n{\"error\": {\"code\": \"UNAUTHORIZED_ACCESS_TOKEN\", "
        "\"description\": \"The access token " +
            S("yelp api key") + " is not valid.\"}}",
        "");
    const std::string next = "http://127.0.0.1:" + std::to_string(facebook.port()) +
                             "/v21.0/123/ratings?access_token=" + url_encode(S("facebook token")) +
                             "&after=QVFI";
    facebook.script(
        "{\"data\": [{\"created_time\": \"2026-01-02T10:00:00+0000\", \"recommendation_type\": "
        "\"negative\", \"review_text\": \"Terrible wait\", \"open_graph_story\": {\"id\": "
        "\"1_2\"}}],"
        " \"paging\": {\"next\": \"" +
            next +
            "\"}}\x1e"
            "!400 application/json\n{\"error\": {\"message\": \"Error validating access token " +
            S("facebook token") + " for " + next +
            "\", \"type\": \"OAuthException\", \"code\": 190, \"error_subcode\": 463}}",
        "");
    json.script("!500 text/html\n<html><title>Internal error for /v2/reviews?key=" +
                    url_encode(S("json token")) + " (token " + S("json token") + ")</title></html>",
                "");
    google.script("{\"access_token\": \"" + S("google access token") +
                      "\", \"expires_in\": 3599, \"token_type\": \"Bearer\"}\x1e"
                      "!401 application/json\n{\"error\": {\"code\": 401, \"message\": \"Request "
                      "had invalid credentials: Bearer " +
                      S("google access token") + " refresh " + S("google refresh token") +
                      "\", \"status\": \"UNAUTHENTICATED\", \"details\": [{\"reason\": "
                      "\"ACCESS_TOKEN_EXPIRED\"}]}}",
                  "");
  };
  script_all();

  // SMTP with AUTH (plain, on 127.0.0.1).
  repwatch::testing::FixtureProcess smtp(
      "smtp_server.py",
      {"--dir", (d / "smtp").string(), "--auth", "alerts@clinic.example:" + S("smtp password")});
  smtp.start();

  // Secrets in all three forms: inline (the config is 0600), *_file, *_env.
  fs::create_directories(d / "import");
  fs::create_directories(d / "secrets");
  auto secret_file = [&](const std::string& name, const std::string& value) {
    std::ofstream(d / "secrets" / name) << value << "\n";
    ::chmod((d / "secrets" / name).c_str(), 0600);  // the daemon's user's alone
    return (d / "secrets" / name).string();
  };
  {
    std::ofstream(d / "import" / "reviews.csv")
        << "external_id,rating,text,created_at\nf1,1,\"Rude front desk, billing wrong\","
           "2026-01-02\nf2,5,Lovely nurses,2026-01-03\n";
  }
  const fs::path config = d / "repwatch.toml";
  {
    std::ofstream out(config);
    out << "state_dir = \"" << (d / "state").string() << "\"\n"
        << "[http]\nretries = 0\ntimeout = \"5s\"\nconnect_timeout = \"2s\"\n"
        << "[[locations]]\nid = \"downtown\"\n"
        << "[[sources]]\nid = \"places\"\ntype = \"google_places\"\nlocation = \"downtown\"\n"
        << "place_id = \"ChIJ\"\napi_key = \"" << S("places api key") << "\"\nbase_url = \""
        << places.base_url() << "\"\n"
        << "[[sources]]\nid = \"yelp\"\ntype = \"yelp\"\nlocation = \"downtown\"\n"
        << "business_id = \"clinic\"\napi_key_file = \"" << secret_file("yelp", S("yelp api key"))
        << "\"\nbase_url = \"" << yelp.base_url() << "\"\n"
        << "[[sources]]\nid = \"facebook\"\ntype = \"facebook\"\nlocation = \"downtown\"\n"
        << "page_id = \"123\"\naccess_token_env = \"RW_TEST_FB_TOKEN\"\nbase_url = \""
        << facebook.base_url() << "\"\n"
        << "[[sources]]\nid = \"feed\"\ntype = \"json_http\"\nlocation = \"downtown\"\n"
        << "url = \"" << json.base_url() << "/v2/reviews\"\ntoken = \"" << S("json token")
        << "\"\ntoken_param = \"key\"\nreviews_pointer = \"/items\"\n"
        << "[sources.fields]\nexternal_id = \"/id\"\ncreated_at = \"/t\"\n"
        << "[[sources]]\nid = \"gone\"\ntype = \"json_http\"\nlocation = \"downtown\"\n"
        << "url = \"http://127.0.0.1:1/v2/reviews?key=" << url_encode(S("unreachable token"))
        << "\"\ntoken = \"" << S("unreachable token") << "\"\nreviews_pointer = \"/items\"\n"
        << "[sources.fields]\nexternal_id = \"/id\"\ncreated_at = \"/t\"\n"
        << "[[sources]]\nid = \"gbp\"\ntype = \"google_business\"\nlocation = \"downtown\"\n"
        << "account_id = \"1\"\nbusiness_location_id = \"2\"\nclient_id = \"cid\"\n"
        << "client_secret_file = \"" << secret_file("gcs", S("google client secret")) << "\"\n"
        << "refresh_token = \"" << S("google refresh token") << "\"\n"
        << "token_endpoint = \"" << google.base_url() << "/token\"\nbase_url = \""
        << google.base_url() << "\"\n"
        << "[[sources]]\nid = \"export\"\ntype = \"file\"\nlocation = \"downtown\"\npath = \""
        << (d / "import").string() << "\"\n"
        << "[alerts]\nmarketing = [\"marketing@clinic.example\"]\nalert_on_first_sync = true\n"
        << "[webhook]\nurl_file = \""
        << secret_file("hook", hook.base_url() + "/services/T0/" + S("webhook url token")) << "\"\n"
        << "[smtp]\nurl = \"smtp://127.0.0.1:" << smtp.port() << "\"\nstarttls = \"off\"\n"
        << "username = \"alerts@clinic.example\"\npassword = \"" << S("smtp password") << "\"\n";
  }
  ::chmod(config.c_str(), 0600);
  const std::vector<std::string> env = {"RW_TEST_FB_TOKEN=" + S("facebook token")};
  const std::string daemon = repwatch::testing::daemon_binary().string();

  std::string logs;
  auto check = run_process({daemon, "--config", config.string(), "--check-config"}, {}, env);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  logs += check.output;

  // Run 1: SMTP accepts our password; every API source fails in its own way.
  auto run1 =
      run_process({daemon, "--config", config.string(), "--once", "--log-level", "trace"}, {}, env);
  EXPECT_EQ(run1.exit_code, 3) << run1.output;  // the API sources failed, the file source did not
  logs += run1.output;
  EXPECT_GE(google.requests(), 2) << "the OAuth flow did not run";
  EXPECT_GE(facebook.requests(), 2) << "the paging link was not followed";
  EXPECT_GE(hook.requests(), 1) << "no webhook was sent";
  ASSERT_FALSE(repwatch::testing::received_messages(d / "smtp").empty())
      << "no alert reached the SMTP server:\n"
      << run1.output;

  // Run 2: the SMTP server no longer accepts that password (AUTH fails: the error is stored
  // with the delivery); a new negative review makes a new alert.
  smtp.stop();
  repwatch::testing::FixtureProcess smtp2(
      "smtp_server.py", {"--dir", (d / "smtp").string(), "--auth", "alerts@clinic.example:other"});
  smtp2.start(smtp.port());
  {
    std::ofstream(d / "import" / "more.csv")
        << "external_id,rating,text,created_at\nf3,1,Nobody called back,2026-01-04\n";
  }
  script_all();
  auto run2 =
      run_process({daemon, "--config", config.string(), "--once", "--log-level", "trace"}, {}, env);
  logs += run2.output;

  // The runs did what they should, or the search below would prove little.
  EXPECT_NE(logs.find("places"), std::string::npos);
  EXPECT_NE(logs.find("401"), std::string::npos) << logs.substr(0, 3000);
  // The servers echoed the secrets: the client scrubbed them ("***") and redacted URLs.
  EXPECT_NE(logs.find("***"), std::string::npos);
  EXPECT_NE(logs.find("access_token=REDACTED"), std::string::npos);

  expect_no_secret(logs, "repwatchd's log");
  const fs::path db_file = d / "state" / "repwatch.db";
  const std::string db_text = all_database_text(db_file);
  EXPECT_NE(db_text.find("poll_state.last_error="), std::string::npos);
  expect_no_secret(db_text, "the database");
  for (const auto& e : fs::directory_iterator(d / "state"))
    if (e.is_regular_file())
      expect_no_secret(repwatch::testing::slurp(e.path()), e.path().filename().string());
  int mails = 0;
  for (const auto& e : fs::directory_iterator(d / "smtp")) {
    if (e.path().extension() == ".eml" || e.path().extension() == ".json") {
      expect_no_secret(repwatch::testing::slurp(e.path()), "received mail " + e.path().string());
      ++mails;
    }
  }
  EXPECT_GT(mails, 0);
  bool auth_failure_recorded = db_text.find("alert_deliveries.last_error=") != std::string::npos;
  EXPECT_TRUE(auth_failure_recorded) << "the failed SMTP AUTH left no error to search";

  // Every CLI command, in every output format.
  const std::string cli = repwatch::testing::cli_binary().string();
  const fs::path report = d / "report.html";
  const std::vector<std::vector<std::string>> commands = {{"reviews"},
                                                          {"reviews", "--json"},
                                                          {"reviews", "--csv"},
                                                          {"trends"},
                                                          {"touchpoints"},
                                                          {"summary"},
                                                          {"summary", "--json"},
                                                          {"search", "rude"},
                                                          {"export", "--json"},
                                                          {"export", "--csv"},
                                                          {"sources"},
                                                          {"sources", "--json"},
                                                          {"alerts"},
                                                          {"alerts", "--json"},
                                                          {"report", "--out", report.string()}};
  for (const auto& args : commands) {
    std::vector<std::string> argv = {cli, "--config", config.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, {}, env);
    std::string what = "repwatch";
    for (const auto& a : args) what += " " + a;
    EXPECT_EQ(r.exit_code, 0) << what << ":\n" << r.output.substr(0, 2000);
    expect_no_secret(r.output, "the output of `" + what + "`");
  }
  ASSERT_TRUE(fs::exists(report));
  expect_no_secret(repwatch::testing::slurp(report), "the HTML report");
}

}  // namespace

namespace {

// Fails when `text` holds `secret` as written or URL-encoded, naming where.
void expect_absent(const std::string& text, const std::string& secret, const std::string& where) {
  for (const std::string& form : {secret, url_encode(secret)}) {
    size_t p = text.find(form);
    if (p != std::string::npos) {
      ADD_FAILURE() << "a secret appears in " << where << ": ..."
                    << text.substr(p > 200 ? p - 200 : 0, 320) << "...";
      return;
    }
  }
}

// A key written into a json_http URL (?api_key=...) and one in a credential header, with an
// API that echoes the request back in its error message (the path and query, the header):
// neither reaches repwatchd's log, the database (poll_state.last_error) or `repwatch sources`.
TEST_F(SecretsTest, KeyInAJsonHttpUrlOrHeaderEchoedByTheApiStaysOut) {
  TempDir dir;
  const fs::path d = dir.path();
  const std::string url_key = "FAKEurlKEY-5b7c1d9e2f/Q+", header_key = "FAKEheaderKEY-0a1b2c3d";
  const std::string query = "?api_key=" + url_encode(url_key) + "&per_page=100";
  repwatch::fuzz::ScriptedHttpServer api;
  api.script("!404 application/json\n{\"error\": {\"message\": \"No route for GET /v2/reviews" +
                 query + " (X-Api-Key: " + header_key + "; key " + url_key + ")\"}}",
             "");
  const fs::path config = d / "repwatch.toml";
  {
    std::ofstream out(config);
    out << "state_dir = \"" << (d / "state").string() << "\"\n"
        << "[http]\nretries = 0\ntimeout = \"5s\"\n"
        << "[[locations]]\nid = \"downtown\"\n"
        << "[[sources]]\nid = \"vendor\"\ntype = \"json_http\"\nlocation = \"downtown\"\n"
        << "url = \"" << api.base_url() << "/v2/reviews" << query << "\"\n"
        << "headers = { Accept = \"application/json\", \"X-Api-Key\" = \"" << header_key
        << "\" }\nreviews_pointer = \"/items\"\n"
        << "[sources.fields]\nexternal_id = \"/id\"\ncreated_at = \"/t\"\n";
  }
  ::chmod(config.c_str(), 0600);
  const std::string daemon = repwatch::testing::daemon_binary().string();
  auto run = run_process({daemon, "--config", config.string(), "--once", "--log-level", "trace"});
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_GE(api.requests(), 1);
  // The API's message got through, minus the secrets.
  EXPECT_NE(run.output.find("No route for GET /v2/reviews?api_key="), std::string::npos)
      << run.output;
  const std::string db_text = all_database_text(d / "state" / "repwatch.db");
  EXPECT_NE(db_text.find("No route for GET"), std::string::npos) << db_text;

  std::string cli_out;
  for (const char* format : {"", "--json"}) {
    std::vector<std::string> argv = {repwatch::testing::cli_binary().string(), "--config",
                                     config.string(), "sources"};
    if (*format) argv.push_back(format);
    auto r = run_process(argv);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    cli_out += r.output;
  }
  EXPECT_NE(cli_out.find("No route for GET"), std::string::npos) << cli_out;
  for (const auto& secret : {url_key, header_key}) {
    expect_absent(run.output, secret, "repwatchd's log");
    expect_absent(db_text, secret, "the database");
    expect_absent(cli_out, secret, "`repwatch sources`");
  }
}

// user:password in the SMTP URL: the login works with them (they become username and
// password), a config others can read is refused naming smtp.url, and when the relay refuses
// the login the password reaches neither the log, the stored delivery error nor `repwatch`.
TEST_F(SecretsTest, SmtpPasswordInTheUrlStaysOut) {
  TempDir dir;
  const fs::path d = dir.path();
  const std::string password = "FAKEurlSMTPpass/7+x";
  repwatch::testing::FixtureProcess smtp(
      "smtp_server.py",
      {"--dir", (d / "smtp").string(), "--auth", "alerts@clinic.example:" + password});
  smtp.start();
  fs::create_directories(d / "import");
  auto add_review = [&](const std::string& id) {
    std::ofstream(d / "import" / (id + ".csv")) << "external_id,rating,text,created_at\n"
                                                << id << ",1,Rude and slow,2026-01-02\n";
  };
  add_review("r1");
  const fs::path config = d / "repwatch.toml";
  {
    std::ofstream out(config);
    out << "state_dir = \"" << (d / "state").string() << "\"\n"
        << "[[locations]]\nid = \"downtown\"\n"
        << "[[sources]]\nid = \"export\"\ntype = \"file\"\nlocation = \"downtown\"\npath = \""
        << (d / "import").string() << "\"\n"
        << "[alerts]\nmarketing = [\"marketing@clinic.example\"]\nalert_on_first_sync = true\n"
        << "[smtp]\nurl = \"smtp://alerts%40clinic.example:" << url_encode(password)
        << "@127.0.0.1:" << smtp.port() << "\"\nstarttls = \"off\"\n";
  }
  const std::string daemon = repwatch::testing::daemon_binary().string();
  ::chmod(config.c_str(), 0640);
  auto refused = run_process({daemon, "--config", config.string(), "--check-config"});
  EXPECT_EQ(refused.exit_code, 78) << refused.output;
  EXPECT_NE(refused.output.find("smtp.url: a URL carrying a credential"), std::string::npos)
      << refused.output;
  expect_absent(refused.output, password, "--check-config's output");

  ::chmod(config.c_str(), 0600);
  std::string logs;
  auto run1 = run_process({daemon, "--config", config.string(), "--once", "--log-level", "trace"});
  EXPECT_EQ(run1.exit_code, 0) << run1.output;
  logs += run1.output;
  EXPECT_EQ(repwatch::testing::received_messages(d / "smtp").size(), 1u)
      << "the login with the URL's credentials failed:\n"
      << run1.output;

  // The relay now wants another password: the login fails, the error is stored.
  smtp.stop();
  repwatch::testing::FixtureProcess smtp2(
      "smtp_server.py", {"--dir", (d / "smtp").string(), "--auth", "alerts@clinic.example:other"});
  smtp2.start(smtp.port());
  add_review("r2");
  auto run2 = run_process({daemon, "--config", config.string(), "--once", "--log-level", "trace"});
  logs += run2.output;
  const std::string db_text = all_database_text(d / "state" / "repwatch.db");
  EXPECT_NE(db_text.find("alert_deliveries.last_error="), std::string::npos) << db_text;
  std::string cli_out;
  for (const char* cmd : {"alerts", "sources"}) {
    auto r = run_process(
        {repwatch::testing::cli_binary().string(), "--config", config.string(), cmd, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    cli_out += r.output;
  }
  expect_absent(logs, password, "repwatchd's log");
  expect_absent(db_text, password, "the database");
  expect_absent(cli_out, password, "`repwatch alerts` / `sources`");
}

}  // namespace
