// json_http (the generic JSON connector) against the fixture server's vendor feed, through the
// real pipeline into SQLite.
#include <gtest/gtest.h>

#include "tests/fixtures/http/connector_harness.h"

using namespace repwatch;
using namespace repwatch::testing;

REPWATCH_FIXTURE_SERVER_ENV();

namespace {

std::string item(const std::string& id, const std::string& score, const std::string& body,
                 const std::string& author, const std::string& created, const std::string& updated,
                 const std::string& reply = "") {
  std::string j = R"({"id": )" + id + R"(, "score": )" + score + R"(, "body": )" + js(body) +
                  R"(, "author": {"name": )" + js(author) + R"(}, "created": )" + created +
                  R"(, "updated": ")" + updated + "\"";
  if (!reply.empty()) j += R"(, "reply": {"text": )" + js(reply) + "}";
  std::string bare = id[0] == '"' ? id.substr(1, id.size() - 2) : id;
  return j + R"(, "link": "https://vendor.example/r/)" + bare + "\"}";
}

std::vector<std::string> base_items() {
  return {
      item("101", "9", "Superb care 😀 <script>alert(1)</script>", "Zoë 山田", "1735725600",
           "2025-01-01T10:00:00Z", "Thank you!"),
      item("102", "\"3\"", "", "Иван", "1736330400", "2025-01-08T10:00:00Z"),  // rating as text
      item("\"r-103\"", "1", std::string(15000, 'w'), "Long", "\"2025-01-15T10:00:00Z\"",
           "2025-01-15T10:00:00Z"),
      item("104", "null", "No score given", "NoScore", "1737540000", "2025-01-22T10:00:00Z"),
      item("105", "10", "Perfect", "Max", "1738144800", "2025-01-29T10:00:00Z"),
  };
}

std::string array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]";
}

void seed(const std::vector<std::string>& items = base_items(),
          const std::string& extra = R"({"per_page": 2, "paging": "next_url"})") {
  server().data("json", "vendor", array(items), extra);
  server().auth("json", "vendor-token-77");
}

const char* kSource = R"(type = "json_http"
url = "{base}/feed/vendor?lang=en"
headers = { Accept = "application/json", X-Client = "repwatch-test" }
token = "vendor-token-77"
token_header = "X-Api-Key"
reviews_pointer = "/data/reviews"
next_pointer = "/meta/next"
since_param = "since"
scale = "1-10"
[sources.fields]
external_id = "/id"
rating = "/score"
text = "/body"
author = "/author/name"
created_at = "/created"
updated_at = "/updated"
reply_text = "/reply/text"
url = "/link"
)";

class JsonHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    server().reset();
    seed();
  }
};

}  // namespace

TEST_F(JsonHttp, FirstSyncFollowsRelativeNextLinks) {
  SourceHarness h(kSource);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 5);
  auto r = h.find("101");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->review.text, "Superb care 😀 <script>alert(1)</script>");
  EXPECT_EQ(r->review.author, "Zoë 山田");
  EXPECT_EQ(r->review.scale, RatingScale::linear(1, 10));
  EXPECT_DOUBLE_EQ(*r->review.raw_rating, 9);
  EXPECT_NEAR(*r->review.rating, 1 + 4 * 8 / 9.0, 1e-9);
  EXPECT_EQ(r->review.created_at, 1735725600);
  EXPECT_EQ(r->review.updated_at, *parse_timestamp("2025-01-01T10:00:00Z"));
  EXPECT_EQ(r->review.reply_text, "Thank you!");
  EXPECT_EQ(r->review.url, "https://vendor.example/r/101");
  EXPECT_DOUBLE_EQ(*h.find("102")->review.raw_rating, 3);  // "3"
  EXPECT_EQ(h.find("102")->review.text, "");
  EXPECT_EQ(h.find("r-103")->review.text.size(), 15000u);
  EXPECT_FALSE(h.find("104")->review.raw_rating.has_value());

  auto calls = requests("/feed/vendor");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(header_of(calls[0], "X-Api-Key"), "vendor-token-77");
  EXPECT_EQ(header_of(calls[0], "Accept"), "application/json");
  EXPECT_EQ(header_of(calls[0], "X-Client"), "repwatch-test");
  EXPECT_EQ(header_of(calls[0], "Authorization"), "");
  EXPECT_EQ(query_of(calls[0], "lang"), "en");
  EXPECT_EQ(query_of(calls[0], "since"), "");  // first sync: everything
  EXPECT_NE(query_of(calls[1], "cursor"), "");
}

TEST_F(JsonHttp, IncrementalPollSendsSinceAndUsesTheEtag) {
  SourceHarness h(kSource);
  ASSERT_TRUE(h.poll().ok);
  server().clear_log();

  // Nothing new: the same first-page URL is asked with If-None-Match and answered 304.
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  auto calls = requests("/feed/vendor");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(query_of(calls[0], "since"), "2025-01-29T09:00:00Z");  // newest minus 1h margin
  std::string cursor = h.state().cursor;
  server().clear_log();
  out = h.poll();
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.fetched, 0);
  calls = requests("/feed/vendor");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_NE(header_of(calls[0], "If-None-Match"), "");
  EXPECT_EQ(h.state().cursor, cursor);

  // A new review and an edit (updated moves forward).
  auto items = base_items();
  items.push_back(
      item("106", "2", "Rude at the front desk", "Ann", "1738749600", "2025-02-05T10:00:00Z"));
  items[1] =
      item("102", "1", "Edited: billing errors", "Иван", "1736330400", "2025-02-06T10:00:00Z");
  seed(items);
  out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 1);
  EXPECT_EQ(out.edited, 1);
  EXPECT_EQ(out.unchanged, 1);  // 105 is inside the safety margin
  EXPECT_EQ(h.count(), 6);
  EXPECT_EQ(h.find("102")->review.text, "Edited: billing errors");
}

TEST_F(JsonHttp, TokenPagingWithNextParam) {
  seed(base_items(), R"({"per_page": 2, "paging": "token"})");
  SourceHarness h(
      replace_all(kSource, "[sources.fields]", "next_param = \"cursor\"\n[sources.fields]"));
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 5);
}

TEST_F(JsonHttp, PageNumbersUntilAnEmptyPage) {
  seed(base_items(), R"({"per_page": 2, "paging": "page"})");
  std::string source = replace_all(kSource, "/feed/vendor?lang=en", "/feed/vendor?page={page}");
  source = replace_all(source, "next_pointer = \"/meta/next\"\n", "");
  SourceHarness h(source);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 5);
  EXPECT_EQ(requests("/feed/vendor").size(), 4u);  // pages 1, 2, 3 and the empty 4
}

TEST_F(JsonHttp, BadItemsAreProblems) {
  auto items = base_items();
  items.push_back(R"({"score": 5, "body": "no id", "created": 1})");
  items.push_back(item("107", "\"five\"", "bad score", "x", "1738749600", "2025-02-05T10:00:00Z"));
  items.push_back(item("108", "5", "bad date", "x", "\"last week\"", "2025-02-05T10:00:00Z"));
  items.push_back(R"("not an object")");
  seed(items);
  SourceHarness h(kSource);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 5);
  ASSERT_EQ(out.problems.size(), 4u);
  std::string all;
  for (const auto& p : out.problems) all += p.to_string() + "\n";
  EXPECT_NE(all.find("no external_id"), std::string::npos) << all;
  EXPECT_NE(all.find("rating: not a number: \"five\""), std::string::npos) << all;
  EXPECT_NE(all.find("created_at: not a date-time"), std::string::npos) << all;
  EXPECT_NE(all.find("not a JSON object"), std::string::npos) << all;
}

TEST_F(JsonHttp, NoArrayAtThePointerIsGarbage) {
  SourceHarness h(replace_all(kSource, "/data/reviews", "/data/items"));
  EXPECT_FALSE(h.poll().ok);
  EXPECT_EQ(h.state().last_error_kind, "garbage");
  EXPECT_NE(h.state().last_error.find("no array at reviews_pointer \"/data/items\""),
            std::string::npos);
}

TEST_F(JsonHttp, DeeplyNestedAnswerDoesNotCrash) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  server().fault(R"({"match": "/feed/", "kind": "status", "status": 200, "body": ")" + deep +
                 R"("})");
  SourceHarness h(kSource);
  EXPECT_FALSE(h.poll().ok);
  EXPECT_EQ(h.state().last_error_kind, "garbage");
  EXPECT_NE(h.state().last_error.find("no array at reviews_pointer"), std::string::npos)
      << h.state().last_error;  // it was parsed, without recursion
}

TEST_F(JsonHttp, EveryInjectedFault) {
  std::string source = replace_all(kSource, "since_param = \"since\"\n", "");
  run_fault_suite(
      [&] { return std::make_unique<SourceHarness>(source); }, [] { seed(); },
      [] {
        auto items = base_items();
        items.push_back(item("109", "8", "New", "N", "1738749600", "2025-02-05T10:00:00Z"));
        seed(items);
      },
      5, "/feed/",
      standard_faults(
          R"({"kind": "status", "status": 401, "times": -1, "body": "{\"message\": \"token expired\"}"})",
          "HTTP 401: token expired", R"("{\"error\": {\"message\": \"database unavailable\"}}")",
          "HTTP 500: database unavailable", 1),
      {"vendor-token-77"});
}

TEST(JsonHttpConfig, Validation) {
  auto error = [](const std::string& toml) {
    try {
      SourceHarness h(toml);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string base = kSource;
  EXPECT_NE(error(replace_all(base, "\"/data/reviews\"", "\"data/reviews\"")).find("JSON Pointer"),
            std::string::npos);
  EXPECT_NE(error(replace_all(base, "external_id = \"/id\"\n", "")).find("external_id"),
            std::string::npos);
  EXPECT_NE(error(replace_all(base, "reply_text =", "reply_txt =")).find("reply_txt"),
            std::string::npos);
  EXPECT_NE(error(replace_all(base, "scale = \"1-10\"", "scale = \"ten\"")).find("scale"),
            std::string::npos);
  EXPECT_NE(
      error(replace_all(base, "reviews_pointer = \"/data/reviews\"\n", "")).find("reviews_pointer"),
      std::string::npos);
  EXPECT_NE(error(replace_all(base, "{base}/feed", "ftp://x/feed")).find("url"), std::string::npos);
  EXPECT_EQ(error(base), "no error");
}
