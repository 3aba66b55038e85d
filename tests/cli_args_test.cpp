// The command line's small parts: dates, periods, suggestions, CSV fields, tables (the FTS
// query: tests/db_reads_test.cpp).
#include <gtest/gtest.h>

#include <sstream>

#include "cli/args.h"
#include "cli/output.h"
#include "cli/queries.h"
#include "core/time.h"

namespace repwatch::cli {
namespace {

const int64_t kNow = *parse_timestamp("2026-02-15T12:34:56Z");

TEST(CliArgs, Dates) {
  EXPECT_EQ(parse_when("2026-01-31", kNow, false, "--since"), *parse_timestamp("2026-01-31"));
  EXPECT_EQ(parse_when("2026-01-31", kNow, true, "--until"), *parse_timestamp("2026-02-01"));
  EXPECT_EQ(parse_when("30d", kNow, false, "--since"), kNow - 30 * kDay);
  EXPECT_EQ(parse_when("1w2d", kNow, false, "--since"), kNow - 9 * kDay);
  EXPECT_EQ(parse_when("3mo", kNow, false, "--since"), kNow - 90 * kDay);
  EXPECT_EQ(parse_when("1y", kNow, false, "--since"), kNow - 365 * kDay);
  EXPECT_EQ(parse_when("today", kNow, false, "--since"), *parse_timestamp("2026-02-15"));
  EXPECT_EQ(parse_when("yesterday", kNow, true, "--until"), *parse_timestamp("2026-02-15"));
  EXPECT_EQ(parse_when("2026-01-31T10:00:00+02:00", kNow, true, "--until"),
            *parse_timestamp("2026-01-31T08:00:00Z"));
  for (const char* bad : {"", "soon", "2026-13-01", "2026-02-30", "0d", "-3d", "6m"}) {
    try {
      parse_when(bad, kNow, false, "--since");
      ADD_FAILURE() << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--since"), std::string::npos) << e.what();
    }
  }
}

TEST(CliArgs, Periods) {
  Range r = parse_period("30d", *parse_timestamp("2026-02-16"));
  EXPECT_EQ(describe(r), "2026-01-17 .. 2026-02-15");
  EXPECT_EQ(describe(r.previous()), "2025-12-18 .. 2026-01-16");
  EXPECT_EQ(describe(parse_period("2026-02", 0)), "2026-02-01 .. 2026-02-28");
  EXPECT_EQ(describe(parse_period("2025-12", 0)), "2025-12-01 .. 2025-12-31");
  EXPECT_THROW(parse_period("2026-13", 0), UsageError);
  EXPECT_THROW(parse_period("monthly", 0), UsageError);
}

TEST(CliArgs, ClosestNames) {
  std::vector<std::string> names = {"google-downtown", "yelp-downtown", "survey-northside"};
  EXPECT_EQ(closest("google-dwntown", names).front(), "google-downtown");
  EXPECT_EQ(closest("survey", names).front(), "survey-northside");
  EXPECT_TRUE(closest("zzzzzz", names).empty());
  EXPECT_EQ(closest("parkng", {"phone", "parking_access", "privacy"}).front(), "parking_access");
  std::string msg = unknown_name_message("source", "gogle-downtown", names);
  EXPECT_EQ(msg,
            "unknown source \"gogle-downtown\" (did you mean \"google-downtown\" or "
            "\"yelp-downtown\"?); known: google-downtown, yelp-downtown, survey-northside");
  EXPECT_NE(unknown_name_message("source", "x", {}).find("none yet"), std::string::npos);
}

TEST(CliArgs, RatingFilter) {
  Filter f;
  parse_rating_filter("1-2", f);
  EXPECT_EQ(*f.min_rating, 1);
  EXPECT_EQ(*f.max_rating, 2);
  Filter g;
  parse_rating_filter("<=2", g);
  EXPECT_FALSE(g.min_rating);
  EXPECT_EQ(*g.max_rating, 2);
  Filter h;
  EXPECT_THROW(parse_rating_filter("4-2", h), UsageError);
  EXPECT_THROW(parse_rating_filter("six", h), UsageError);
  EXPECT_THROW(parse_rating_filter("0", h), UsageError);
}

TEST(CliOutput, TablesCsvJson) {
  Table t({{"name", "Name"},
           {"n", "N", Align::kRight},
           {"share", "Share", Align::kRight},
           {"tags", "Tags"}});
  t.add({Value::text("a, \"quoted\"\nline"), Value::integer(12), Value::number(0.12345, 3),
         Value::list({"x", "y"})});
  t.add({Value::text("plain"), Value::integer(3), Value::null(), Value::list({})});
  std::ostringstream text, csv;
  t.write(text, Format::kTable, Style{});
  EXPECT_EQ(text.str(),
            "Name               N  Share  Tags\n"
            "----------------  --  -----  ----\n"
            "a, \"quoted\" line  12  0.123  x, y\n"
            "plain              3      -\n");
  t.write(csv, Format::kCsv, Style{});
  EXPECT_EQ(csv.str(),
            "name,n,share,tags\r\n\"a, \"\"quoted\"\"\nline\",12,0.123,x; y\r\nplain,3,,\r\n");
  EXPECT_EQ(t.to_json(),
            "[\n  {\n    \"name\": \"a, \\\"quoted\\\"\\nline\",\n    \"n\": 12,\n"
            "    \"share\": 0.123,\n    \"tags\": [\n      \"x\",\n      \"y\"\n    ]\n  },\n"
            "  {\n    \"name\": \"plain\",\n    \"n\": 3,\n    \"share\": null,\n"
            "    \"tags\": []\n  }\n]");
  // Colors only when asked; truncation counts characters, not bytes.
  Style color;
  color.color = true;
  EXPECT_EQ(paint(color, Tone::kBad, "x"), "\x1b[31mx\x1b[0m");
  EXPECT_EQ(paint(Style{}, Tone::kBad, "x"), "x");
  EXPECT_EQ(truncate("Zürich clinic", 6), "Züric…");
  EXPECT_EQ(display_width("\x1b[1mé\x1b[0m"), 1u);
  EXPECT_EQ(sparkline({1.0, 3.0, 5.0, std::nullopt}, 1, 5), "▁▅█ ");
  EXPECT_EQ(signed_fixed(0.001, 2), "0.00");
  EXPECT_EQ(signed_fixed(-0.004, 2), "0.00");
  EXPECT_EQ(signed_fixed(0.126, 2), "+0.13");
}

}  // namespace
}  // namespace repwatch::cli
