// Limits on everything outside input can grow (see SECURITY.md): review fields cleaned and
// capped with a marker on a UTF-8 boundary, evidence phrases per touchpoint, response size,
// pages per poll, and a garbage source quarantined with a clear health message while the
// others go on.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/output.h"
#include "config/config.h"
#include "connectors/connector.h"
#include "core/error.h"
#include "db/store.h"
#include "fuzz/http_server.h"
#include "normalize/limits.h"
#include "pipeline/pipeline.h"
#include "sentiment/analyzer.h"
#include "tests/fixtures/reliability/process.h"

namespace fs = std::filesystem;
using repwatch::testing::TempDir;

namespace {

bool valid_utf8_without_controls(std::string_view s, bool multiline) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if (c == 0x7f || (c < 0x20 && !(multiline && (c == '\n' || c == '\t')))) return false;
      ++i;
      continue;
    }
    size_t len = (c >= 0xC2 && c <= 0xDF)   ? 2
                 : (c >= 0xE0 && c <= 0xEF) ? 3
                 : (c >= 0xF0 && c <= 0xF4) ? 4
                                            : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) return false;  // C1 control
    i += len;
  }
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

TEST(Limits, CleanFieldRemovesControlsAndRepairsUtf8) {
  using repwatch::clean_field;
  // ESC sequences (colour, OSC 52 clipboard), C1 CSI, NUL, DEL, a bare CR that would overwrite
  // the line on a terminal, invalid bytes.
  using namespace std::string_literals;
  const std::string hostile =
      "Great\x1b[2J\x1b]52;c;ZXZpbA==\x07 clinic\xC2\x9B"
      "31m\x00!\x7f\r\nSecond\rThird\tTab \xff\xfe end"s;
  std::string multi = clean_field(hostile, true);
  EXPECT_TRUE(valid_utf8_without_controls(multi, true)) << multi;
  EXPECT_EQ(multi.find('\x1b'), std::string::npos);
  EXPECT_NE(multi.find("Great"), std::string::npos);
  EXPECT_NE(multi.find("\nSecond\nThird\tTab"), std::string::npos) << multi;
  EXPECT_NE(multi.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD for the bad bytes
  std::string single = clean_field(hostile, false);
  EXPECT_TRUE(valid_utf8_without_controls(single, false)) << single;
  EXPECT_EQ(single.find('\n'), std::string::npos);
  // Ordinary text, accents, emoji and RTL scripts pass unchanged.
  std::string fine = "Très bien 👍🏽 — שלום مرحبا\nline two\twith tab";
  EXPECT_EQ(clean_field(fine, true), fine);
}

// limit_review() skips the copy when a field is already clean: it must give exactly what
// clean_field() + truncate_utf8() give, for clean and dirty fields alike.
TEST(Limits, LimitReviewEqualsCleanAndTruncate) {
  using namespace std::string_literals;
  const std::vector<std::string> samples = {"",
                                            "plain ascii",
                                            "Très bien 👍🏽\nline two\twith tab",
                                            "bare\rCR",
                                            "crlf\r\nend",
                                            "nul\0in"s,
                                            "del\x7f",
                                            "c1\xC2\x9B",
                                            "bad\xff\xfe",
                                            "cut\xE2\x82",
                                            "esc\x1b[2J",
                                            "surrogate\xED\xA0\x80",
                                            std::string(5000, 'x') + "é",
                                            "tab\tonly"};
  for (const std::string& s : samples) {
    repwatch::Review r;
    r.external_id = "e";
    r.text = r.author = r.url = r.reply_text = s;
    std::string why;
    ASSERT_TRUE(repwatch::limit_review(r, why));
    repwatch::ReviewLimits lim;
    EXPECT_EQ(r.text, repwatch::truncate_utf8(repwatch::clean_field(s, true), lim.text_bytes));
    EXPECT_EQ(r.reply_text,
              repwatch::truncate_utf8(repwatch::clean_field(s, true), lim.text_bytes));
    EXPECT_EQ(r.author, repwatch::truncate_utf8(repwatch::clean_field(s, false), lim.author_bytes));
    EXPECT_EQ(r.url, repwatch::truncate_utf8(repwatch::clean_field(s, false), lim.url_bytes));
  }
}

TEST(Limits, TruncationKeepsWholeCharactersAndAddsTheMarker) {
  using repwatch::kTruncationMarker;
  using repwatch::truncate_utf8;
  for (std::string unit : {"é", "€", "😀", "a", "añ😀€"}) {
    std::string text;
    while (text.size() < 70'000) text += unit;
    for (size_t cap : {size_t{64 * 1024}, size_t{1000}, size_t{17}, size_t{16}, size_t{3}}) {
      std::string t = truncate_utf8(text, cap);
      EXPECT_LE(t.size(), cap) << unit << " cap " << cap;
      EXPECT_TRUE(valid_utf8_without_controls(t, true)) << unit << " cap " << cap;
      if (cap >= kTruncationMarker.size()) {
        EXPECT_TRUE(ends_with(t, kTruncationMarker));
      }
    }
  }
  EXPECT_EQ(truncate_utf8("short", 64), "short");
  std::string exact(100, 'x');
  EXPECT_EQ(truncate_utf8(exact, 100), exact);
}

TEST(Limits, LimitReviewRefusesHugeIdsAndCapsFields) {
  repwatch::Review r;
  r.external_id = std::string(600, 'i');
  std::string why;
  EXPECT_FALSE(repwatch::limit_review(r, why));
  EXPECT_NE(why.find("600 bytes"), std::string::npos) << why;

  r.external_id = "ok";
  r.text = std::string(200'000, 'x');
  r.author = std::string(5000, 'A') + "\x1b[31m";
  r.url = "https://x.example/" + std::string(5000, 'u');
  r.language = std::string(100, 'e');
  ASSERT_TRUE(repwatch::limit_review(r, why)) << why;
  repwatch::ReviewLimits lim;
  EXPECT_LE(r.text.size(), lim.text_bytes);
  EXPECT_TRUE(ends_with(r.text, repwatch::kTruncationMarker));
  EXPECT_LE(r.author.size(), lim.author_bytes);
  EXPECT_EQ(r.author.find('\x1b'), std::string::npos);
  EXPECT_LE(r.url.size(), lim.url_bytes);
  EXPECT_LE(r.language.size(), lim.language_bytes);
}

// The whole path a review takes (connector -> pipeline -> store), with hostile export rows.
TEST(Limits, PipelineStoresCleanCappedReviewsAndCapsEvidence) {
  spdlog::set_level(spdlog::level::off);
  TempDir dir;
  fs::create_directories(dir.path() / "import");
  std::string huge;
  while (huge.size() < 300'000) huge += "The billing was wrong 😡 ";
  std::string evidence;
  for (int i = 0; i < 500; ++i) evidence += "billing was wrong. ";
  {
    std::ofstream out(dir.path() / "import" / "reviews.jsonl", std::ios::binary);
    out << "{\"external_id\":\"huge\",\"rating\":1,\"created_at\":\"2026-01-02\",\"text\":\""
        << huge << "\"}\n";
    out << "{\"external_id\":\"" << std::string(600, 'x')
        << "\",\"rating\":1,\"created_at\":\"2026-01-02\",\"text\":\"long id\"}\n";
    out << "{\"external_id\":\"esc\",\"rating\":2,\"created_at\":\"2026-01-02\","
           "\"author\":\"Mallory\\u001b[2J\\u001b]0;owned\\u0007\",\"text\":"
           "\"Rude\\r\\nstaff\\u0000"
           "\\u009b31m\"}\n";
    out << "{\"external_id\":\"many\",\"rating\":1,\"created_at\":\"2026-01-02\",\"text\":\""
        << evidence << "\"}\n";
  }
  std::string toml = "state_dir = \"" + dir.path().string() +
                     "\"\n[[locations]]\nid = \"downtown\"\n[[sources]]\nid = \"export\"\n"
                     "type = \"file\"\nlocation = \"downtown\"\npath = \"" +
                     (dir.path() / "import").string() + "\"\n";
  repwatch::Config config = repwatch::parse_config(toml, dir.path() / "repwatch.toml");
  auto connector = repwatch::connectors::make_connector(config.sources[0], config);
  auto analyzer = repwatch::sentiment::Analyzer::builtin();
  repwatch::pipeline::Fetched fetched =
      repwatch::pipeline::fetch_and_score(*connector, config.sources[0], "", analyzer);
  ASSERT_TRUE(fetched.result) << (fetched.error ? fetched.error->what() : "");

  auto db = repwatch::db::open_store(dir.path() / "repwatch.db");
  repwatch::db::ReviewStore store(db);
  auto outcome = repwatch::pipeline::store_poll(
      store, config.sources[0], std::move(fetched), [](const auto&) { return 0; }, 1767225600);
  ASSERT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(outcome.inserted, 3);
  bool reported = false;
  for (const auto& p : outcome.problems)
    reported |= p.message.find("external id of 600 bytes") != std::string::npos;
  EXPECT_TRUE(reported) << "the 600-byte id is not reported";

  auto big = store.find("export", "huge");
  ASSERT_TRUE(big);
  EXPECT_LE(big->review.text.size(), repwatch::ReviewLimits{}.text_bytes);
  EXPECT_GT(big->review.text.size(),
            repwatch::ReviewLimits{}.text_bytes - 8);  // in full up to the cap
  EXPECT_TRUE(ends_with(big->review.text, repwatch::kTruncationMarker));
  EXPECT_TRUE(valid_utf8_without_controls(big->review.text, true));
  EXPECT_EQ(huge.compare(0, 1000, big->review.text, 0, 1000), 0);

  auto esc = store.find("export", "esc");
  ASSERT_TRUE(esc);
  EXPECT_TRUE(valid_utf8_without_controls(esc->review.author, false)) << esc->review.author;
  EXPECT_TRUE(valid_utf8_without_controls(esc->review.text, true)) << esc->review.text;
  EXPECT_EQ(esc->review.text.substr(0, 10), "Rude\nstaff");

  auto many = store.find("export", "many");
  ASSERT_TRUE(many);
  ASSERT_FALSE(many->analysis.touchpoints.empty());
  for (const auto& tp : many->analysis.touchpoints) {
    EXPECT_LE(tp.evidence.size(), repwatch::sentiment::Analyzer::kMaxEvidence) << tp.touchpoint;
    for (const auto& e : tp.evidence)
      EXPECT_EQ(many->review.text.substr(e.offset, e.length), e.phrase);
  }
  EXPECT_LE(many->analysis.terms.size(), repwatch::sentiment::Analyzer::kMaxTerms);
}

// A json_http source against the scripted server (fuzz/http_server.h).
std::unique_ptr<repwatch::connectors::Connector> json_source(const TempDir& dir,
                                                             repwatch::fuzz::ScriptedHttpServer& s,
                                                             const std::string& extra,
                                                             repwatch::Config& config) {
  std::string toml = "state_dir = \"" + dir.path().string() +
                     "\"\n[http]\nretries = 0\nmax_response_bytes = 1048576\n"
                     "[[locations]]\nid = \"downtown\"\n[[sources]]\nid = \"feed\"\n"
                     "type = \"json_http\"\nlocation = \"downtown\"\nurl = \"" +
                     s.base_url() + "/reviews\"\nreviews_pointer = \"/items\"\n" + extra +
                     "[sources.fields]\nexternal_id = \"/id\"\ncreated_at = \"/t\"\n";
  config = repwatch::parse_config(toml, dir.path() / "repwatch.toml");
  return repwatch::connectors::make_connector(config.sources[0], config);
}

TEST(Limits, ResponseOverTheSizeCapIsRefused) {
  spdlog::set_level(spdlog::level::off);
  TempDir dir;
  repwatch::fuzz::ScriptedHttpServer server;
  repwatch::Config config;
  auto c = json_source(dir, server, "", config);
  std::string body = "{\"items\": [" + std::string(3 << 20, ' ') + "]}";
  server.script(body, "");
  try {
    c->fetch("");
    FAIL() << "a 3 MiB answer was accepted with max_response_bytes = 1 MiB";
  } catch (const repwatch::SourceError& e) {
    EXPECT_EQ(e.kind(), repwatch::SourceError::Kind::kGarbage) << e.what();
    EXPECT_NE(std::string(e.what()).find("max_response_bytes"), std::string::npos) << e.what();
  }
}

TEST(Limits, PagesPerPollAreCapped) {
  spdlog::set_level(spdlog::level::off);
  TempDir dir;
  repwatch::fuzz::ScriptedHttpServer server;
  repwatch::Config config;
  auto c = json_source(dir, server,
                       "next_pointer = \"/next\"\nnext_param = \"page\"\nmax_pages = 3\n", config);
  // Ten pages, each with a new next token: a source that would page forever.
  std::string script;
  for (int i = 0; i < 10; ++i) {
    if (i) script += '\x1e';
    script += "{\"items\": [{\"id\": \"r" + std::to_string(i) +
              "\", \"t\": \"2026-01-02T00:00:00Z\"}], \"next\": \"p" + std::to_string(i + 1) +
              "\"}";
  }
  server.script(script, "");
  auto result = c->fetch("");
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(result.reviews.size(), 3u);
  bool reported = false;
  for (const auto& p : result.problems)
    reported |= p.message.find("max_pages") != std::string::npos;
  EXPECT_TRUE(reported) << "stopping at max_pages is not reported";
}

// The real daemon with two sources: one answers garbage, the other is fine.
TEST(Limits, GarbageSourceIsQuarantinedWhileTheOthersGoOn) {
  if (!fs::exists(repwatch::testing::daemon_binary()) ||
      !fs::exists(repwatch::testing::cli_binary()))
    GTEST_SKIP() << "repwatchd / repwatch are not built";
  TempDir dir;
  repwatch::fuzz::ScriptedHttpServer server;
  server.script(
      "!200 text/html; charset=utf-8\n<html><head><title>Site maintenance</title>"
      "</head><body>We'll be back</body></html>",
      "");
  fs::create_directories(dir.path() / "import");
  {
    std::ofstream(dir.path() / "import" / "a.csv")
        << "external_id,rating,text,created_at\ng1,5,Lovely staff,2026-01-02\n"
           "g2,1,Rude front desk,2026-01-03\n";
  }
  const fs::path config = dir.path() / "repwatch.toml";
  {
    std::ofstream(config)
        << "state_dir = \"" << (dir.path() / "state").string()
        << "\"\n[http]\nretries = 0\n[[locations]]\nid = \"downtown\"\n"
           "[[sources]]\nid = \"broken-feed\"\ntype = \"json_http\"\n"
           "location = \"downtown\"\nurl = \""
        << server.base_url()
        << "/reviews\"\nreviews_pointer = \"/items\"\n[sources.fields]\nexternal_id = \"/id\"\n"
           "created_at = \"/t\"\n"
           "[[sources]]\nid = \"export\"\ntype = \"file\"\n"
           "location = \"downtown\"\npath = \""
        << (dir.path() / "import").string() << "\"\n";
  }
  auto run = repwatch::testing::run_process(
      {repwatch::testing::daemon_binary().string(), "--config", config.string(), "--once"});
  EXPECT_EQ(run.exit_code, 3) << run.output;  // some source failed, the others were stored

  auto db = repwatch::db::Database::open(dir.path() / "state" / "repwatch.db",
                                         repwatch::db::Database::Mode::kReadOnly);
  repwatch::db::ReviewStore store(db);
  EXPECT_EQ(store.count_reviews(), 2);
  auto bad = store.poll_state("broken-feed");
  EXPECT_EQ(bad.last_error_kind, repwatch::SourceError::Kind::kGarbage);
  EXPECT_NE(bad.last_error.find("expected JSON, got text/html"), std::string::npos)
      << bad.last_error;
  EXPECT_NE(bad.last_error.find("Site maintenance"), std::string::npos)
      << "the health message should quote what came back: " << bad.last_error;
  EXPECT_EQ(bad.consecutive_failures, 1);
  ASSERT_TRUE(bad.next_poll_at);
  EXPECT_GT(*bad.next_poll_at, *bad.last_attempt_at);  // backs off
  EXPECT_EQ(store.poll_state("export").last_error, "");

  auto cli = repwatch::testing::run_process(
      {repwatch::testing::cli_binary().string(), "--config", config.string(), "--json", "sources"});
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("broken-feed"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("Site maintenance"), std::string::npos) << cli.output;
}

}  // namespace

namespace {

// Hostile review text exported with `repwatch export --csv` must not run as a spreadsheet
// formula (CSV injection, CWE-1236).
TEST(Limits, CsvExportDefusesFormulas) {
  using repwatch::cli::csv_field;
  EXPECT_EQ(csv_field("=HYPERLINK(\"http://evil.example\",\"Click\")"),
            "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\"");
  EXPECT_EQ(csv_field("@SUM(A1:A9)"), "'@SUM(A1:A9)");
  EXPECT_EQ(csv_field("+1+cmd|' /C calc'!A0"), "'+1+cmd|' /C calc'!A0");
  EXPECT_EQ(csv_field("\t=1+1"), "'\t=1+1");
  // Numbers and ordinary text stay as they are.
  EXPECT_EQ(csv_field("-0.42"), "-0.42");
  EXPECT_EQ(csv_field("+3"), "+3");
  EXPECT_EQ(csv_field("Great care"), "Great care");
  EXPECT_EQ(csv_field(""), "");
}

}  // namespace
