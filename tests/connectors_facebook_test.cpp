// facebook against the fixture server (Graph API page ratings shapes), through the real
// pipeline into SQLite.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "tests/fixtures/http/connector_harness.h"

using namespace repwatch;
using namespace repwatch::testing;

REPWATCH_FIXTURE_SERVER_ENV();

namespace {

const char* kToken = "EAAGpageTokenSecret42";

std::string rating(const std::string& story, const std::string& type,
                   const std::optional<std::string>& text, const std::string& name,
                   const std::string& created, const std::string& reviewer_id = "") {
  std::string j = R"({"created_time": ")" + created + "\"";
  if (!type.empty()) j += R"(, "recommendation_type": ")" + type + "\"";
  j += std::string(R"(, "has_rating": true, "has_review": )") + (text ? "true" : "false");
  if (text) j += R"(, "review_text": )" + js(*text);
  j += R"(, "reviewer": {"name": )" + js(name) + R"(, "id": ")" +
       (reviewer_id.empty() ? "u" + story : reviewer_id) + "\"}";
  if (!story.empty()) j += R"(, "open_graph_story": {"id": ")" + story + "\"}";
  return j + "}";
}

std::vector<std::string> base_ratings() {
  return {
      rating("s1", "positive", "Friendly nurses 😀 <script>alert(1)</script>", "Zoë Ng",
             "2025-03-01T10:00:00+0000"),
      rating("s2", "negative", "Billing was a nightmare.", "Олег", "2025-02-20T10:00:00+0000"),
      rating("s3", "positive", std::nullopt, "No Text", "2025-02-10T10:00:00+0000"),
      rating("s4", "negative", std::string(12000, 'z'), "Long Writer", "2025-02-01T10:00:00+0000"),
      // Legacy: a 1..5 star rating, no story id (before Dec 2018).
      R"({"created_time": "2017-05-01T10:00:00+0000", "rating": 4, "has_rating": true,
          "has_review": true, "review_text": "Good dentist", "reviewer": {"name": "Old", "id": "77"}})",
  };
}

std::string array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]";
}

void seed(const std::vector<std::string>& items = base_ratings(),
          const std::string& extra = R"({"empty_page_at": 2})") {
  server().data("facebook", "PAGE9", array(items), extra);
  server().auth("facebook", kToken);
}

const std::string kSource = std::string(R"(type = "facebook"
page_id = "PAGE9"
access_token = ")") + kToken +
                            R"("
api_version = "v19.0"
base_url = "{base}"
page_size = 2
)";

class Facebook : public ::testing::Test {
 protected:
  void SetUp() override {
    server().reset();
    seed();
  }
};

}  // namespace

TEST_F(Facebook, FirstSyncFollowsNextUntilItIsAbsent) {
  SourceHarness h(kSource);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 5);

  auto s1 = h.find("s1");
  ASSERT_TRUE(s1);
  EXPECT_EQ(s1->review.scale, RatingScale::binary());
  EXPECT_DOUBLE_EQ(*s1->review.raw_rating, 1);
  EXPECT_DOUBLE_EQ(*s1->review.rating, 5);
  EXPECT_EQ(s1->review.text, "Friendly nurses 😀 <script>alert(1)</script>");
  EXPECT_EQ(s1->review.author, "Zoë Ng");
  EXPECT_EQ(s1->review.url, "https://www.facebook.com/s1");
  EXPECT_EQ(s1->review.created_at, *parse_timestamp("2025-03-01T10:00:00Z"));
  auto s2 = h.find("s2");
  EXPECT_DOUBLE_EQ(*s2->review.raw_rating, 0);
  EXPECT_DOUBLE_EQ(*s2->review.rating, 1);
  EXPECT_EQ(s2->review.author, "Олег");
  EXPECT_EQ(h.find("s3")->review.text, "");
  EXPECT_EQ(h.find("s4")->review.text.size(), 12000u);
  // The legacy item: keyed on created time + reviewer id, rated in stars.
  auto legacy = h.find("t" + std::to_string(*parse_timestamp("2017-05-01T10:00:00Z")) + "-77");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->review.scale, RatingScale::stars());
  EXPECT_DOUBLE_EQ(*legacy->review.rating, 4);

  // Pages of 2 with an empty page (that still has `next`) after the first: 4 requests.
  auto calls = requests("/ratings");
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(std::string(calls[0]["path"].GetString()), "/v19.0/PAGE9/ratings");
  std::string fields = query_of(calls[0], "fields");
  for (const char* f : {"created_time", "recommendation_type", "rating", "review_text",
                        "reviewer{id,name}", "open_graph_story{id}", "has_review"})
    EXPECT_NE(fields.find(f), std::string::npos) << f;
  EXPECT_EQ(query_of(calls[0], "limit"), "2");
  EXPECT_EQ(query_of(calls[0], "access_token"), "");  // first request: header only
  EXPECT_EQ(header_of(calls[0], "Authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(query_of(calls[1], "access_token"), kToken);  // `next` as Facebook gave it
}

// A full sweep that follows `next` to its end lists every rating of the Page: one missing was
// deleted (by its author, or hidden) and is marked removed; an incremental poll never removes.
TEST_F(Facebook, AFullSweepMarksDeletedRatingsRemoved) {
  auto without_s2 = base_ratings();
  without_s2.erase(without_s2.begin() + 1);
  {
    SourceHarness h(kSource + "full_sweep_interval = \"0s\"\n");
    ASSERT_TRUE(h.poll().ok);
    seed(without_s2);
    auto out = h.poll();
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.removed, 1);
    ASSERT_TRUE(h.find("s2"));
    EXPECT_TRUE(h.find("s2")->removed_at);
    EXPECT_FALSE(h.find("s1")->removed_at);
    EXPECT_EQ(h.store().count_reviews("src"), 4);
    seed();
    out = h.poll();
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.restored, 1);
    EXPECT_EQ(h.store().count_reviews("src"), 5);
  }
  {
    seed();
    SourceHarness h(kSource);  // a full sweep once a day: the next poll is incremental
    ASSERT_TRUE(h.poll().ok);
    seed(without_s2);
    auto out = h.poll();
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.removed, 0);
    EXPECT_FALSE(h.find("s2")->removed_at);
  }
}

TEST_F(Facebook, NextLinksWithoutFieldsStillGetTheFieldsAndTheIds) {
  // Some `next` links leave out fields= and limit=; such a page answers the default fields
  // only (no story id, no reviewer), which used to store those ratings again under ids made
  // from their text. Every page must ask for our fields, and a re-poll stores nothing twice.
  seed(base_ratings(), R"({"next_drops_fields": true})");
  SourceHarness h(kSource + "full_sweep_interval = \"0s\"\n");
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 5);
  for (const char* id : {"s1", "s2", "s3"}) EXPECT_TRUE(h.find(id)) << id;
  auto s4 = h.find("s4");  // from page 2
  ASSERT_TRUE(s4);
  EXPECT_EQ(s4->review.author, "Long Writer");
  EXPECT_TRUE(h.find("t" + std::to_string(*parse_timestamp("2017-05-01T10:00:00Z")) + "-77"));
  auto calls = requests("/ratings");
  ASSERT_EQ(calls.size(), 3u);
  for (const auto& c : calls) {
    EXPECT_EQ(query_of(c, "fields"), query_of(calls[0], "fields"));
    EXPECT_EQ(query_of(c, "limit"), "2");
  }
  EXPECT_NE(query_of(calls[1], "after"), "");  // the cursor of Facebook's link is kept

  auto again = h.poll();  // a full sweep over the same ratings
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(again.inserted, 0);
  EXPECT_EQ(again.unchanged, 5);
  EXPECT_EQ(h.count(), 5);
}

TEST_F(Facebook, RatingsWithoutTheRequestedFieldsAreNotStoredUnderOtherIds) {
  SourceHarness h(kSource + "full_sweep_interval = \"0s\"\n");
  ASSERT_TRUE(h.poll().ok);
  std::string cursor = h.state().cursor;
  // A page answered with Facebook's default fields, whatever the reason: these ratings carry
  // nothing that identifies them but their text, so storing them would duplicate s1 and s2.
  server().fault(R"({"match": "/ratings", "kind": "status", "status": 200, "skip": 1,
      "body": "{\"data\": [{\"created_time\": \"2025-02-20T10:00:00+0000\", \"recommendation_type\": \"negative\", \"review_text\": \"Billing was a nightmare.\"}], \"paging\": {}}"})");
  auto bad = h.poll();
  EXPECT_FALSE(bad.ok);
  auto st = h.state();
  EXPECT_EQ(st.last_error_kind, SourceError::Kind::kGarbage);
  EXPECT_NE(st.last_error.find("ratings page 2: data[0] lacks the fields repwatch asked for"),
            std::string::npos)
      << st.last_error;
  EXPECT_EQ(st.cursor, cursor);
  EXPECT_EQ(h.count(), 5);

  server().clear_faults();
  auto good = h.poll();
  ASSERT_TRUE(good.ok) << good.error;
  EXPECT_EQ(good.inserted, 0);
  EXPECT_EQ(h.count(), 5);
}

TEST_F(Facebook, IncrementalPollStopsAtOlderRatings) {
  SourceHarness h(kSource);
  ASSERT_TRUE(h.poll().ok);
  server().clear_log();
  auto items = base_ratings();
  items.push_back(rating("s6", "negative", "Never called back", "Kim", "2025-03-05T10:00:00+0000"));
  seed(items, "{}");
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 1);
  EXPECT_EQ(h.count(), 6);
  EXPECT_EQ(requests("/ratings").size(), 2u);  // s6+s1, then s2 is older: stop
}

TEST_F(Facebook, EditIsFoundByTheFullSweep) {
  SourceHarness h(kSource + "full_sweep_interval = \"0s\"\n");
  ASSERT_TRUE(h.poll().ok);
  auto items = base_ratings();
  items[3] = rating("s4", "positive", "Changed my mind, they fixed it.", "Long Writer",
                    "2025-02-01T10:00:00+0000");
  seed(items);
  auto out = h.poll();
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.edited, 1);
  EXPECT_EQ(out.inserted, 0);
  EXPECT_EQ(h.count(), 5);
  auto s4 = h.find("s4");
  EXPECT_EQ(s4->review.text, "Changed my mind, they fixed it.");
  EXPECT_DOUBLE_EQ(*s4->review.rating, 5);
}

TEST_F(Facebook, ThrottlingWaitsAsFacebookSays) {
  SourceHarness h(kSource);
  server().fault(R"({"match": "/ratings", "kind": "status", "status": 403,
      "headers": {"X-Business-Use-Case-Usage": "{\"PAGE9\": [{\"type\": \"pages\", \"call_count\": 100, \"total_cputime\": 20, \"total_time\": 30, \"estimated_time_to_regain_access\": 7}]}"},
      "body": "{\"error\": {\"message\": \"(#4) Application request limit reached\", \"type\": \"OAuthException\", \"is_transient\": true, \"code\": 4, \"fbtrace_id\": \"Ab\"}}"})");
  EXPECT_FALSE(h.poll().ok);
  ASSERT_TRUE(h.last_error());
  EXPECT_EQ(h.last_error()->kind(), SourceError::Kind::kTransient);
  EXPECT_EQ(h.last_error()->retry_after_seconds(), 7 * 60);
  EXPECT_FALSE(h.state().needs_attention);
  EXPECT_NE(h.state().last_error.find("Graph API error 4 (OAuthException): (#4) Application "
                                      "request limit reached"),
            std::string::npos)
      << h.state().last_error;

  server().clear_faults();
  server().fault(R"({"match": "/ratings", "kind": "status", "status": 400,
      "body": "{\"error\": {\"message\": \"There have been too many calls to this Page account.\", \"type\": \"OAuthException\", \"code\": 80001}}"})");
  EXPECT_FALSE(h.poll().ok);
  EXPECT_EQ(h.last_error()->kind(), SourceError::Kind::kTransient);
  EXPECT_EQ(h.last_error()->retry_after_seconds(), 900);  // throttle_wait default
}

// Error 12 is Facebook saying, for good, that the edge is not served: its own state, asked
// again daily, with advice that depends on the version asked with (connectors_health_test).
TEST_F(Facebook, DeprecatedVersionIsUnavailable) {
  SourceHarness h(replace_all(kSource, "v19.0", "v22.0"));
  EXPECT_FALSE(h.poll().ok);
  auto st = h.state();
  EXPECT_EQ(st.last_error_kind, SourceError::Kind::kUnavailable);
  EXPECT_NE(st.last_error.find("Graph API error 12"), std::string::npos) << st.last_error;
  EXPECT_NE(st.advice.find("api_version = \"v21.0\""), std::string::npos) << st.advice;
}

TEST_F(Facebook, NextLinkToAnotherHostIsRefused) {
  // Facebook would never do this; a tampered answer must not get our token.
  SourceHarness h(kSource);
  server().fault(R"({"match": "/ratings", "kind": "status", "status": 200,
      "body": "{\"data\": [], \"paging\": {\"next\": \"https://evil.example/x?access_token=stolen\"}}"})");
  EXPECT_FALSE(h.poll().ok);
  EXPECT_EQ(h.state().last_error_kind, SourceError::Kind::kGarbage);
  EXPECT_NE(h.state().last_error.find("another host"), std::string::npos);
  EXPECT_EQ(h.state().last_error.find("stolen"), std::string::npos);
}

TEST_F(Facebook, TheTokenNeverReachesTheLogs) {
  std::ostringstream text;
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(text));
  logger->set_level(spdlog::level::trace);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  {
    SourceHarness h(kSource);
    EXPECT_TRUE(h.poll().ok);  // `next` links carry access_token=...
    server().fault(R"({"match": "/ratings", "kind": "status", "status": 503, "times": -1,
                       "body": "upstream error"})");
    EXPECT_FALSE(h.poll().ok);
    server().clear_faults();
    server().auth("facebook", "another");
    EXPECT_FALSE(h.poll().ok);
    EXPECT_EQ(h.state().last_error.find(kToken), std::string::npos);
  }
  spdlog::set_default_logger(previous);
  std::string log = text.str();
  EXPECT_NE(log.find("/ratings"), std::string::npos) << "requests were logged";
  EXPECT_NE(log.find("access_token=REDACTED"), std::string::npos);
  EXPECT_EQ(log.find(kToken), std::string::npos) << log;
}

TEST_F(Facebook, EveryInjectedFault) {
  run_fault_suite(
      [] { return std::make_unique<SourceHarness>(kSource + "full_sweep_interval = \"0s\"\n"); },
      [] { seed(); },
      [] {
        auto items = base_ratings();
        items.push_back(
            rating("s9", "positive", "Lovely staff", "New", "2025-03-09T10:00:00+0000"));
        seed(items);
      },
      5, "/ratings",
      standard_faults(
          R"({"kind": "status", "status": 400, "times": -1, "body": "{\"error\": {\"message\": \"Error validating access token: Session has expired on Tuesday, 01-Jul-25.\", \"type\": \"OAuthException\", \"code\": 190, \"error_subcode\": 463, \"fbtrace_id\": \"A1\"}}"})",
          "Graph API error 190/463 (OAuthException): Error validating access token: Session has "
          "expired",
          R"("{\"error\": {\"message\": \"An unknown error has occurred.\", \"type\": \"OAuthException\", \"code\": 1, \"is_transient\": true}}")",
          "Graph API error 1 (OAuthException): An unknown error has occurred.", 1),
      {kToken});
}

TEST(FacebookConfig, Validation) {
  auto error = [](const std::string& toml) {
    try {
      SourceHarness h(toml);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("type = \"facebook\"\npage_id = \"1\"\n").find("access_token"),
            std::string::npos);
  EXPECT_NE(error("type = \"facebook\"\npage_id = \"1\"\naccess_token = \"t\"\napi_version = "
                  "\"19\"\n")
                .find("api_version"),
            std::string::npos);
  EXPECT_NE(error("type = \"facebook\"\npage_id = \"1\"\naccess_token = \"t\"\npage_size = 0\n")
                .find("between 1 and 100"),
            std::string::npos);
}
