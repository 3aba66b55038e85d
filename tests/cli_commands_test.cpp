// The managers' commands on a fixed database: tables, JSON, CSV, empty results, bad arguments.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <map>
#include <sstream>

#include "fixtures/cli/fixture_db.h"

namespace repwatch::cli::testing {
namespace {

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        field += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        field += c;
    } else if (c == '"' && field.empty()) {
      quoted = started = true;
    } else if (c == ',') {
      rows.back().push_back(field), field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.back().push_back(field), field.clear();
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

class CliCommands : public ::testing::Test {
 protected:
  FixtureDb db_;
};

// ---- trends --------------------------------------------------------------------------------

TEST_F(CliCommands, TrendsByMonthTable) {
  Result r = repwatch(db_, {"trends", "--by", "month"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Reviews by month (all sources, all locations; UTC days)\n"
            "Month    Reviews  Rating  Sentiment  Negative\n"
            "-------  -------  ------  ---------  --------\n"
            "2025-12        2    3.50      +0.05       50%\n"
            "2026-01        3    3.20      +0.13       33%\n"
            "2026-02        5    3.20      -0.26       60%\n");
}

TEST_F(CliCommands, TrendsJsonKeepsTypesAndNulls) {
  Result r = repwatch(
      db_, {"--json", "trends", "--by", "week", "--since", "2026-01-26", "--until", "2026-02-08"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto d = parse_json(r.out);
  ASSERT_TRUE(d.IsArray());
  ASSERT_EQ(d.Size(), 2u);  // weeks of 2026-01-26 and 2026-02-02
  EXPECT_STREQ(d[0]["period"].GetString(), "2026-01-26");
  EXPECT_EQ(d[0]["reviews"].GetInt(), 2);  // s1, s3 (y2 is on Sunday the 25th)
  EXPECT_DOUBLE_EQ(d[0]["rating"].GetDouble(), 4.8);
  EXPECT_EQ(d[1]["reviews"].GetInt(), 1);  // s2
  EXPECT_DOUBLE_EQ(d[1]["share_negative"].GetDouble(), 1.0);
  // An empty bucket is there, with null averages.
  Result e = repwatch(
      db_, {"--json", "trends", "--by", "day", "--since", "2026-02-03", "--until", "2026-02-03"});
  ASSERT_EQ(e.code, 0) << e.err;
  auto ed = parse_json(e.out);
  ASSERT_EQ(ed.Size(), 1u);
  EXPECT_EQ(ed[0]["reviews"].GetInt(), 0);
  EXPECT_TRUE(ed[0]["rating"].IsNull());
}

TEST_F(CliCommands, TrendsCsvAndFilters) {
  Result r = repwatch(db_, {"--csv", "trends", "--source", "google-downtown"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows = parse_csv(r.out);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"period", "start", "reviews", "rating", "sentiment",
                                               "share_negative"}));
  EXPECT_EQ(rows[1][0], "2025-12");
  EXPECT_EQ(rows[2][2], "0");  // no google review in January: the bucket is still there
  EXPECT_EQ(rows[2][3], "");
  EXPECT_EQ(rows[3][2], "2");
  EXPECT_EQ(rows[3][3], "3.00");

  // By touchpoint: mentions, their rating, the touchpoint's own sentiment.
  Result t = repwatch(db_, {"--json", "trends", "--touchpoint", "parking_access"});
  ASSERT_EQ(t.code, 0) << t.err;
  auto d = parse_json(t.out);
  ASSERT_EQ(d.Size(), 2u);  // 2026-01 and 2026-02
  EXPECT_EQ(d[0]["mentions"].GetInt(), 1);
  EXPECT_DOUBLE_EQ(d[0]["sentiment"].GetDouble(), 0.5);
  EXPECT_DOUBLE_EQ(d[1]["share_negative"].GetDouble(), 1.0);
  EXPECT_DOUBLE_EQ(d[1]["rating"].GetDouble(), 1.8);
}

TEST_F(CliCommands, TrendsOnATerminalHasSparklines) {
  Result r = repwatch(db_, {"trends"}, /*tty=*/true);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Rating trend"));
  EXPECT_TRUE(contains(r.out, "\xe2\x96")) << r.out;  // block elements
  EXPECT_TRUE(contains(r.out, "\x1b[")) << "colors on a terminal";
  // NO_COLOR turns the colors off, not the sparklines.
  std::vector<std::string> argv = {"--db", db_.path().string(), "trends"};
  Environment env;
  env.now = at(kNow);
  env.stdout_tty = true;
  env.no_color = true;
  std::ostringstream out, err;
  ASSERT_EQ(run_cli(argv, out, err, env), 0);
  EXPECT_FALSE(contains(out.str(), "\x1b[")) << out.str();
  EXPECT_TRUE(contains(out.str(), "Rating trend"));
}

TEST_F(CliCommands, TrendsEmptyRangeSaysSo) {
  Result r = repwatch(db_, {"trends", "--since", "2024-01-01", "--until", "2024-03-31"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "No reviews between 2024-01-01 and 2024-03-31")) << r.out;
  Result j = repwatch(db_, {"--json", "trends", "--since", "2024-01-01", "--until", "2024-03-31"});
  ASSERT_EQ(j.code, 0);
  auto d = parse_json(j.out);
  ASSERT_EQ(d.Size(), 3u);
  for (auto& b : d.GetArray()) EXPECT_EQ(b["reviews"].GetInt(), 0);
}

// ---- bad arguments -------------------------------------------------------------------------

TEST_F(CliCommands, UnknownNamesSuggestTheClosest) {
  Result s = repwatch(db_, {"trends", "--source", "google-dwntown"});
  EXPECT_EQ(s.code, 2);
  EXPECT_TRUE(contains(s.err, "unknown source \"google-dwntown\"")) << s.err;
  EXPECT_TRUE(contains(s.err, "did you mean \"google-downtown\"")) << s.err;
  EXPECT_EQ(s.out, "") << "never a silent empty result";

  Result l = repwatch(db_, {"reviews", "--location", "northsid"});
  EXPECT_EQ(l.code, 2);
  EXPECT_TRUE(contains(l.err, "did you mean \"northside\"")) << l.err;

  Result t = repwatch(db_, {"touchpoints", "--touchpoint", "parkng"});
  EXPECT_EQ(t.code, 2);
  EXPECT_TRUE(contains(t.err, "did you mean \"parking_access\"")) << t.err;

  // Names work too, case-insensitively; a source type means all sources of that type.
  EXPECT_EQ(repwatch(db_, {"reviews", "--touchpoint", "wait time"}).code, 0);
  EXPECT_EQ(repwatch(db_, {"reviews", "--location", "northside pediatrics"}).code, 0);
  Result y = repwatch(db_, {"--json", "reviews", "--source", "yelp"});
  ASSERT_EQ(y.code, 0) << y.err;
  EXPECT_EQ(parse_json(y.out).Size(), 3u);
}

TEST_F(CliCommands, BadDatesOptionsAndCommandsAreUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"reviews", "--since", "last tuesday"}, "expected a date like 2026-01-31"},
      {{"reviews", "--since", "2026-02-31"}, "not a calendar date"},
      {{"reviews", "--since", "6m"}, "would be minutes"},
      {{"reviews", "--since", "2026-02-10", "--until", "2026-02-01"}, "is not before"},
      {{"reviews", "--rating", "7"}, "--rating"},
      {{"reviews", "--limit", "many"}, "--limit"},
      {{"trends", "--by", "year"}, "expected day, week or month"},
      {{"trends", "--negative"}, "--negative"},
      {{"touchpoints", "--period", "fortnight"}, "--period"},
      {{"touchpoints", "--sort", "colour"}, "--sort"},
      {{"export", "--format", "xml"}, "expected csv, json or jsonl"},
      {{"reviews", "--frobnicate"}, "--frobnicate"},
      {{"frobnicate"}, "frobnicate"},
      {{"search"}, "query"},
      {{"help", "fliters"}, "did you mean \"filters\""},
      {{"--json", "--csv", "reviews"}, "excludes"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {"--db", db_.path().string()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    Environment env;
    env.now = at(kNow);
    std::ostringstream out, err;
    int code = run_cli(argv, out, err, env);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_EQ(code, 2) << joined << "\n" << err.str();
    EXPECT_TRUE(contains(err.str(), c.message)) << joined << "\n" << err.str();
  }
}

TEST_F(CliCommands, MissingDatabaseOrConfigIsAnError) {
  Environment env;
  env.now = at(kNow);
  std::ostringstream out, err;
  EXPECT_EQ(run_cli({"--db", (db_.dir() / "nope.db").string(), "trends"}, out, err, env), 1);
  EXPECT_TRUE(contains(err.str(), "does not exist yet")) << err.str();
  std::ostringstream out2, err2;
  EXPECT_EQ(run_cli({"--config", (db_.dir() / "nope.toml").string(), "trends"}, out2, err2, env),
            2);
  EXPECT_TRUE(contains(err2.str(), "pass --config FILE")) << err2.str();
  // A database older than the CLI's schema is refused with what to do.
  std::ostringstream out3, err3;
  {
    db::Database old = db::Database::open(db_.dir() / "old.db");
    old.exec("CREATE TABLE x(a); PRAGMA user_version = 1");
  }
  EXPECT_EQ(run_cli({"--db", (db_.dir() / "old.db").string(), "trends"}, out3, err3, env), 1);
  EXPECT_TRUE(contains(err3.str(), "schema version 1")) << err3.str();
}

TEST_F(CliCommands, ConfigGivesTheDatabaseAndNames) {
  std::filesystem::path cfg = db_.dir() / "repwatch.toml";
  {
    std::ofstream f(cfg);
    f << "state_dir = \"" << db_.dir().string() << "\"\n"
      << "[[locations]]\nid = \"downtown\"\nname = \"Downtown Family Practice\"\n"
      << "[[locations]]\nid = \"northside\"\nname = \"Northside Pediatrics\"\n"
      << "[[locations]]\nid = \"eastside\"\nname = \"Eastside Clinic\"\n"
      << "[[sources]]\nid = \"google-eastside\"\ntype = \"file\"\nlocation = \"eastside\"\n"
      << "path = \"" << db_.dir().string() << "\"\n"
      << "[alerts]\nmarketing = \"marketing@clinic.example\"\n"
      << "[alerts.owners]\nparking_access = [\"facilities@clinic.example\", "
         "\"ops@clinic.example\"]\n"
      << "[alerts.standards]\nparking_access = 4.5\n";
  }
  std::filesystem::permissions(
      cfg, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  Environment env;
  env.now = at(kNow);
  std::ostringstream out, err;
  // A source only in the config (never polled) is a valid filter with an honest empty result.
  int code =
      run_cli({"--config", cfg.string(), "reviews", "--source", "google-eastside"}, out, err, env);
  ASSERT_EQ(code, 0) << err.str();
  EXPECT_TRUE(contains(out.str(), "No reviews match (source google-eastside)")) << out.str();
  std::ostringstream out2, err2;
  ASSERT_EQ(run_cli({"--config", cfg.string(), "--json", "sources"}, out2, err2, env), 0)
      << err2.str();
  auto d = parse_json(out2.str());
  ASSERT_EQ(d.Size(), 4u);
  EXPECT_STREQ(d[0]["source"].GetString(), "google-downtown");
  EXPECT_STREQ(d[1]["source"].GetString(), "google-eastside");
  EXPECT_STREQ(d[1]["status"].GetString(), "never polled");

  // The scorecard names the owners and standards the alerts use ([alerts.owners/standards]).
  std::ostringstream out3, err3;
  ASSERT_EQ(run_cli({"--config", cfg.string(), "--json", "touchpoints"}, out3, err3, env), 0)
      << err3.str();
  auto t = parse_json(out3.str());
  bool found = false;
  for (const auto& tp : t["touchpoints"].GetArray()) {
    if (std::string(tp["touchpoint"].GetString()) != "parking_access") continue;
    found = true;
    EXPECT_STREQ(tp["owner"].GetString(), "facilities@clinic.example, ops@clinic.example");
    EXPECT_DOUBLE_EQ(tp["standard"].GetDouble(), 4.5);
  }
  EXPECT_TRUE(found) << out3.str();
}

// ---- reviews -------------------------------------------------------------------------------

TEST_F(CliCommands, ReviewsTableNewestFirstWithLimit) {
  Result r = repwatch(db_, {"reviews", "--limit", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header, rule, first, second, third, more;
  std::getline(lines, header);
  std::getline(lines, rule);
  std::getline(lines, first);
  std::getline(lines, second);
  std::getline(lines, third);
  std::getline(lines, more);
  EXPECT_TRUE(contains(header, "Date")) << header;
  EXPECT_TRUE(contains(first, "2026-02-14")) << first;
  EXPECT_TRUE(contains(first, "front_desk+")) << first;
  EXPECT_TRUE(contains(second, "Rude receptionist")) << second;
  EXPECT_TRUE(contains(third, "yes")) << "g3 was replied to: " << third;
  EXPECT_TRUE(contains(more, "more match")) << more;
}

TEST_F(CliCommands, ReviewsFiltersCombine) {
  Result r = repwatch(db_, {"--json", "reviews", "--negative", "--unanswered", "--since", "30d"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto d = parse_json(r.out);
  ASSERT_EQ(d.Size(), 2u);  // y3 (no rating, negative text) and s2; g3 has a reply
  EXPECT_STREQ(d[0]["external_id"].GetString(), "y3");
  EXPECT_TRUE(d[0]["rating"].IsNull());
  EXPECT_TRUE(d[0]["negative"].GetBool());
  EXPECT_STREQ(d[1]["external_id"].GetString(), "s2");
  EXPECT_DOUBLE_EQ(d[1]["rating"].GetDouble(), 1.8);
  EXPECT_DOUBLE_EQ(d[1]["raw_rating"].GetDouble(), 2);
  EXPECT_STREQ(d[1]["scale"].GetString(), "0-10");
  const auto& tp = d[1]["touchpoints"][0];
  EXPECT_STREQ(tp["touchpoint"].GetString(), "parking_access");
  EXPECT_STREQ(tp["evidence"][0]["phrase"].GetString(), "parking lot");
  EXPECT_EQ(tp["evidence"][0]["offset"].GetInt(), 4);

  Result rating =
      repwatch(db_, {"--json", "reviews", "--rating", ">=4.5", "--location", "downtown"});
  ASSERT_EQ(rating.code, 0) << rating.err;
  auto rd = parse_json(rating.out);
  ASSERT_EQ(rd.Size(), 2u);  // g4 and g1
  Result tp2 = repwatch(db_, {"--json", "reviews", "--touchpoint", "billing,phone"});
  ASSERT_EQ(tp2.code, 0);
  EXPECT_EQ(parse_json(tp2.out).Size(), 2u);  // y1 and g3
}

TEST_F(CliCommands, ReviewsCsvQuotesAndEmpty) {
  Result r = repwatch(db_, {"--csv", "reviews", "--touchpoint", "billing"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows = parse_csv(r.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "id");
  EXPECT_EQ(rows[0].size(), rows[1].size());
  EXPECT_EQ(rows[1][15], "Billing overcharged me twice.");
  EXPECT_EQ(rows[2][15], "Surprise bill after my visit, and billing never called back.");
  EXPECT_EQ(rows[2][13], "billing:-0.80; phone:-0.50");
  EXPECT_TRUE(contains(r.out, "\"Surprise bill after my visit, and billing never called back.\""));

  Result e = repwatch(db_, {"--csv", "reviews", "--since", "2020-01-01", "--until", "2020-02-01"});
  ASSERT_EQ(e.code, 0);
  EXPECT_EQ(parse_csv(e.out).size(), 1u) << "header only";
  Result ej =
      repwatch(db_, {"--json", "reviews", "--since", "2020-01-01", "--until", "2020-02-01"});
  EXPECT_EQ(ej.out, "[]\n");
  Result et = repwatch(db_, {"reviews", "--since", "2020-01-01", "--until", "2020-02-01"});
  EXPECT_TRUE(contains(et.out, "No reviews match")) << et.out;
}

// ---- touchpoints ---------------------------------------------------------------------------

TEST_F(CliCommands, TouchpointsScorecard) {
  Result r = repwatch(db_, {"--json", "touchpoints"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto d = parse_json(r.out);
  EXPECT_STREQ(d["period"]["since"].GetString(), "2026-01-17");
  EXPECT_STREQ(d["period"]["until"].GetString(), "2026-02-15");
  EXPECT_STREQ(d["previous_period"]["since"].GetString(), "2025-12-18");
  const auto& tps = d["touchpoints"];
  // Most negative mentions first: front_desk (y3) 1 neg of 2, billing (g3), parking (s2) ...
  std::map<std::string, const rapidjson::Value*> by_id;
  for (const auto& t : tps.GetArray()) by_id[t["touchpoint"].GetString()] = &t;
  ASSERT_TRUE(by_id.count("parking_access"));
  const auto& parking = *by_id["parking_access"];
  EXPECT_EQ(parking["mentions"].GetInt(), 2);
  EXPECT_EQ(parking["mentions_change"].GetInt(), 2);
  EXPECT_DOUBLE_EQ(parking["share_negative"].GetDouble(), 0.5);
  EXPECT_DOUBLE_EQ(parking["sentiment"].GetDouble(), -0.05);
  EXPECT_DOUBLE_EQ(parking["rating"].GetDouble(), 2.9);
  EXPECT_STREQ(parking["top_phrases"][0].GetString(), "parking");
  const auto& billing = *by_id["billing"];
  EXPECT_EQ(billing["mentions"].GetInt(), 1);
  EXPECT_DOUBLE_EQ(billing["sentiment_change"].GetDouble(), 0.1);  // -0.7 vs -0.8
  EXPECT_FALSE(by_id.count("physician")) << "not mentioned this period (use --all)";
  EXPECT_STREQ(tps[0]["touchpoint"].GetString(), "front_desk");

  Result all = repwatch(db_, {"--json", "touchpoints", "--all"});
  auto ad = parse_json(all.out);
  EXPECT_EQ(ad["touchpoints"].Size(), 13u);  // the whole default taxonomy
}

TEST_F(CliCommands, TouchpointsTableAndCsv) {
  Result r = repwatch(db_, {"touchpoints", "--period", "2026-02", "--location", "downtown"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Touchpoints 2026-02-01 .. 2026-02-28 vs 2026-01-04 .. 2026-01-31"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "location downtown"));
  EXPECT_TRUE(contains(r.out, "front_desk")) << r.out;
  EXPECT_FALSE(contains(r.out, "parking_access")) << "s2 is at northside";
  Result c = repwatch(db_, {"--csv", "touchpoints", "--phrases", "2"});
  ASSERT_EQ(c.code, 0);
  auto rows = parse_csv(c.out);
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "touchpoint");
  EXPECT_EQ(rows[0].back(), "top_phrases");
  Result e = repwatch(db_, {"touchpoints", "--period", "2024-01"});
  ASSERT_EQ(e.code, 0);
  EXPECT_TRUE(contains(e.out, "No touchpoint mentions in this period.")) << e.out;
}

// ---- summary -------------------------------------------------------------------------------

TEST_F(CliCommands, SummaryJson) {
  Result r = repwatch(db_, {"--json", "summary"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto d = parse_json(r.out);
  EXPECT_EQ(d["overall"]["current"]["reviews"].GetInt(), 7);
  EXPECT_EQ(d["overall"]["previous"]["reviews"].GetInt(), 2);
  EXPECT_DOUBLE_EQ(d["overall"]["previous"]["rating"].GetDouble(), 1.5);
  EXPECT_DOUBLE_EQ(d["overall"]["current"]["share_negative"].GetDouble(), 0.429);
  ASSERT_EQ(d["by_source"].Size(), 3u);
  EXPECT_STREQ(d["by_source"][0]["source"].GetString(), "survey-northside");  // 3 this period
  ASSERT_EQ(d["by_location"].Size(), 2u);
  EXPECT_EQ(d["unanswered_negative"]["count"].GetInt(), 2);
  EXPECT_STREQ(d["unanswered_negative"]["latest"][0]["text"].GetString(),
               "Rude receptionist, never again.");
  ASSERT_EQ(d["failing_sources"].Size(), 1u);
  EXPECT_STREQ(d["failing_sources"][0]["source"].GetString(), "yelp-downtown");
  EXPECT_STREQ(d["failing_sources"][0]["status"].GetString(), "needs attention");
  EXPECT_EQ(d["failing_sources"][0]["failures"].GetInt(), 3);
  ASSERT_GE(d["worst_touchpoints"].Size(), 3u);
  for (const auto& w : d["worst_touchpoints"].GetArray())
    EXPECT_GT(w["negative_mentions"].GetInt(), 0);
}

TEST_F(CliCommands, SummaryTableHasEverySection) {
  Result r = repwatch(db_, {"summary"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"Summary 2026-01-17 .. 2026-02-15 vs 2025-12-18 .. 2026-01-16",
                        "Average rating", "By source", "By location", "Worst touchpoints",
                        "Unanswered negative reviews: 2 in this period", "Failing sources",
                        "yelp-downtown", "HTTP 401: the access token expired"})
    EXPECT_TRUE(contains(r.out, s)) << s << "\n" << r.out;
  Result c = repwatch(db_, {"--csv", "summary", "--location", "northside"});
  ASSERT_EQ(c.code, 0) << c.err;
  auto rows = parse_csv(c.out);
  EXPECT_EQ(rows[0],
            (std::vector<std::string>{"section", "name", "metric", "current", "previous"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"overall", "", "reviews", "3", "0"}));
  // An empty database: a summary that says so.
  FixtureDb empty(true, false);
  Result e = repwatch(empty, {"summary"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_TRUE(contains(e.out, "No reviews in either period.")) << e.out;
}

// ---- search --------------------------------------------------------------------------------

TEST_F(CliCommands, SearchRanksAndHighlights) {
  Result r = repwatch(db_, {"--json", "search", "parking"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto d = parse_json(r.out);
  ASSERT_EQ(d.Size(), 2u);
  // "parking" twice ranks above "parking" once.
  EXPECT_STREQ(d[0]["external_id"].GetString(), "s2");
  EXPECT_EQ(d[0]["matches"].Size(), 2u);
  EXPECT_EQ(d[0]["matches"][0]["offset"].GetInt(), 4);
  EXPECT_EQ(d[0]["matches"][0]["length"].GetInt(), 7);
  EXPECT_TRUE(contains(d[0]["snippet"].GetString(), "[parking] lot"))
      << d[0]["snippet"].GetString();

  Result t = repwatch(db_, {"search", "bill*", "--location", "downtown"});
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_TRUE(contains(t.out, "[Billing] overcharged")) << t.out;
  EXPECT_TRUE(contains(t.out, "Surprise [bill]")) << t.out;

  Result stem = repwatch(db_, {"--json", "search", "waiting"});  // stems: waited, wait
  ASSERT_EQ(stem.code, 0);
  EXPECT_EQ(parse_json(stem.out).Size(), 2u);
  Result phrase = repwatch(db_, {"--json", "search", "\"front desk\""});
  EXPECT_EQ(parse_json(phrase.out).Size(), 1u);
  Result none = repwatch(db_, {"search", "xylophone"});
  EXPECT_EQ(none.code, 0);
  EXPECT_TRUE(contains(none.out, "No reviews match \"xylophone\"")) << none.out;
  // Punctuation that is FTS5 syntax is taken literally, not an error.
  EXPECT_EQ(repwatch(db_, {"search", "check-in:"}).code, 0);
  Result bad = repwatch(db_, {"search", "parking", "AND"});
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_TRUE(contains(bad.err, "cannot understand the query")) << bad.err;
}

// ---- export --------------------------------------------------------------------------------

TEST_F(CliCommands, ExportFormats) {
  std::filesystem::path csv = db_.dir() / "all.csv";
  Result r = repwatch(db_, {"export", "--format", "csv", "--out", csv.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "exported 10 reviews"));
  std::ifstream f(csv, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  auto rows = parse_csv(ss.str());
  ASSERT_EQ(rows.size(), 11u);
  EXPECT_EQ(rows[1][3], "g1") << "oldest first";
  EXPECT_FALSE(std::filesystem::exists(csv.string() + ".part"));

  Result j = repwatch(db_, {"export", "--format", "json", "--source", "survey-northside"});
  ASSERT_EQ(j.code, 0) << j.err;
  auto d = parse_json(j.out);
  ASSERT_EQ(d.Size(), 3u);
  EXPECT_STREQ(d[1]["text"].GetString(), "");
  EXPECT_EQ(d[1]["touchpoints"].Size(), 0u);

  Result l = repwatch(db_, {"export", "--format", "jsonl", "--negative"});
  ASSERT_EQ(l.code, 0);
  std::istringstream lines(l.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto doc = parse_json(line);
    EXPECT_TRUE(doc["negative"].GetBool());
    ++n;
  }
  EXPECT_EQ(n, 5);  // g2, y1, s2, g3, y3

  Result e = repwatch(db_, {"export", "--format", "json", "--since", "2030-01-01"});
  EXPECT_EQ(e.out, "[]\n");
  Result bad = repwatch(db_, {"export", "--out", (db_.dir() / "no/such/dir/x.csv").string()});
  EXPECT_EQ(bad.code, 1);
  EXPECT_TRUE(contains(bad.err, "cannot write")) << bad.err;
}

// A Spanish review analysed on the source's English translation: `reviews --full`, export and
// the report show the reviewer's words with the translation beside them, and the evidence
// (offsets, phrases) is of the translation.
TEST_F(CliCommands, ATranslatedReviewShowsTheTranslationBesideTheOriginal) {
  {
    db::Database d = db::open_store(db_.path());
    db::ReviewStore store(d);
    ReviewSpec spec{
        "google-downtown",
        "downtown",
        "g-es",
        "2026-02-13T10:00:00Z",
        1,
        RatingScale::stars(),
        "We waited fifty minutes and the receptionist was rude.",
        -0.8,
        {{"wait_time", -0.7, {"waited fifty minutes"}}, {"front_desk", -0.8, {"receptionist"}}}};
    auto [r, a] = make_review(spec);  // evidence found in the English text...
    r.translated_text = r.text;       // ...which is the translation
    r.text = "Esperamos cincuenta minutos y la recepcionista fue grosera.";
    r.language = "es";
    a.language = "es";
    a.on_translation = true;
    db::Transaction tx(d);
    store.upsert(r, a, at(kNow));
    tx.commit();
  }
  Result full = repwatch(db_, {"reviews", "--full", "--limit", "3"});
  ASSERT_EQ(full.code, 0) << full.err;
  EXPECT_TRUE(contains(full.out,
                       "Esperamos cincuenta minutos y la recepcionista fue grosera. [translation: "
                       "We waited fifty minutes and the receptionist was rude.]"))
      << full.out;
  Result short_list = repwatch(db_, {"reviews", "--limit", "3"});
  EXPECT_FALSE(contains(short_list.out, "[translation:")) << short_list.out;

  Result j = repwatch(
      db_, {"export", "--format", "json", "--since", "2026-02-13", "--until", "2026-02-13"});
  ASSERT_EQ(j.code, 0) << j.err;
  auto d = parse_json(j.out);
  ASSERT_EQ(d.Size(), 1u);
  EXPECT_STREQ(d[0]["text"].GetString(),
               "Esperamos cincuenta minutos y la recepcionista fue grosera.");
  EXPECT_STREQ(d[0]["translated_text"].GetString(),
               "We waited fifty minutes and the receptionist was rude.");
  EXPECT_STREQ(d[0]["analyzed_text"].GetString(), "translated_text");
  EXPECT_TRUE(d[0]["removed_at"].IsNull());
  const auto& ev = d[0]["touchpoints"][1]["evidence"][0];
  EXPECT_STREQ(ev["phrase"].GetString(), "receptionist");
  EXPECT_EQ(ev["offset"].GetUint(), 32u);

  Result c = repwatch(
      db_, {"export", "--format", "csv", "--since", "2026-02-13", "--until", "2026-02-13"});
  auto rows = parse_csv(c.out);
  ASSERT_EQ(rows.size(), 2u);
  std::map<std::string, std::string> row;
  for (size_t i = 0; i < rows[0].size(); ++i) row[rows[0][i]] = rows[1].at(i);
  EXPECT_EQ(row["translated_text"], "We waited fifty minutes and the receptionist was rude.");
  EXPECT_EQ(row["analyzed_text"], "translated_text");
  EXPECT_EQ(row["evidence"], "wait_time: waited fifty minutes; front_desk: receptionist");
  EXPECT_EQ(row["removed_at"], "");

  std::filesystem::path html_file = db_.dir() / "report.html";
  Result rep = repwatch(db_, {"report", "--out", html_file.string()});
  ASSERT_EQ(rep.code, 0) << rep.err;
  std::ifstream f(html_file, std::ios::binary);
  std::stringstream html;
  html << f.rdbuf();
  EXPECT_TRUE(contains(html.str(),
                       "<div class=\"text\">Esperamos cincuenta minutos y la recepcionista fue "
                       "grosera.</div><div class=\"translation\">"))
      << html.str();
  EXPECT_TRUE(contains(html.str(), "and the <mark>receptionist</mark> was rude."));
}

// ---- sources, help -------------------------------------------------------------------------

TEST_F(CliCommands, SourcesHealth) {
  Result r = repwatch(db_, {"sources"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "needs attention")) << r.out;
  EXPECT_TRUE(contains(r.out, "2026-02-15 11:30 (30m ago)")) << r.out;
  Result j = repwatch(db_, {"--json", "sources"});
  auto d = parse_json(j.out);
  ASSERT_EQ(d.Size(), 3u);
  EXPECT_STREQ(d[2]["source"].GetString(), "yelp-downtown");
  EXPECT_EQ(d[2]["failures"].GetInt(), 3);
  EXPECT_STREQ(d[2]["last_error_kind"].GetString(), "auth");
  EXPECT_TRUE(d[2]["last_success"].IsNull()) << "never succeeded";
}

TEST_F(CliCommands, HelpEverywhereWithExamples) {
  for (const char* cmd :
       {"reviews", "trends", "touchpoints", "summary", "search", "export", "report", "sources"}) {
    Result r = repwatch(db_, {cmd, "--help"});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_TRUE(contains(r.out, "Examples:")) << cmd << "\n" << r.out;
  }
  Result top = repwatch(db_, {"--help"});
  EXPECT_TRUE(contains(top.out, "summary"));
  Result topic = repwatch(db_, {"help", "filters"});
  EXPECT_EQ(topic.code, 0);
  EXPECT_TRUE(contains(topic.out, "--touchpoint NAME"));
  // A topic that is also a command's name is the topic; a command's name alone, its help.
  Result search = repwatch(db_, {"help", "search"});
  EXPECT_EQ(search.code, 0) << search.err;
  EXPECT_TRUE(contains(search.out, "the query language")) << search.out;
  Result reviews = repwatch(db_, {"help", "reviews"});
  EXPECT_EQ(reviews.code, 0) << reviews.err;
  EXPECT_TRUE(contains(reviews.out, "Examples:")) << reviews.out;
  Result none = repwatch(db_, {});
  EXPECT_EQ(none.code, 2);
}

}  // namespace
}  // namespace repwatch::cli::testing
