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
  EXPECT_EQ(h.state().last_error_kind, SourceError::Kind::kGarbage);
  EXPECT_NE(h.state().last_error.find("no array at reviews_pointer \"/data/items\""),
            std::string::npos);
  // A vendor's own "status" word (not one of Google's) does not hide the wrong pointer.
  server().fault(R"({"match": "/feed/", "kind": "status", "status": 200,
      "body": "{\"status\": \"success\", \"data\": {\"reviews\": []}}"})");
  EXPECT_FALSE(h.poll().ok);
  EXPECT_NE(h.state().last_error.find("no array at reviews_pointer \"/data/items\""),
            std::string::npos)
      << h.state().last_error;
}

TEST_F(JsonHttp, DeeplyNestedAnswerDoesNotCrash) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  server().fault(R"({"match": "/feed/", "kind": "status", "status": 200, "body": ")" + deep +
                 R"("})");
  SourceHarness h(kSource);
  EXPECT_FALSE(h.poll().ok);
  EXPECT_EQ(h.state().last_error_kind, SourceError::Kind::kGarbage);
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

// ---- legacy Place Details through json_http ------------------------------------------------
// maps.googleapis.com/maps/api/place/details/json answers HTTP 200 whatever happens and puts
// the outcome in "status"; review texts may carry HTML entities (api-notes.md §2).

namespace {

const char* kLegacyKey = "AIzaLegacyKey0123456789";

std::string legacy_review(const std::string& author, const std::string& author_url, int rating,
                          const std::string& text, int64_t time) {
  return R"({"author_name": )" + js(author) + R"(, "author_url": )" + js(author_url) +
         R"(, "language": "en", "original_language": "en", "profile_photo_url": "https://lh3.example/p.png", "rating": )" +
         std::to_string(rating) + R"(, "relative_time_description": "a month ago", "text": )" +
         js(text) + R"(, "time": )" + std::to_string(time) + R"(, "translated": false})";
}

void seed_legacy(const std::string& extra = "{}") {
  server().data(
      "places_legacy", "ChIJlegacy1",
      array(
          {legacy_review("Tom O&#39;Brien", "https://www.google.com/maps/contrib/101/reviews", 2,
                         "Billing &amp; insurance were a mess: they said &quot;we&#x27;ll call "
                         "back&quot; &mdash; never did. 5 &lt; 6 &hellip;",
                         1735725600),
           legacy_review("A Google user", "https://www.google.com/maps/contrib/102/reviews", 5,
                         "AT&T &nbsp;signal in the waiting room &copy; &bogus; & fine", 1736330400),
           legacy_review("Ana", "https://www.google.com/maps/contrib/103/reviews", 4, "",
                         1736935200)}),
      extra);
  server().auth("places_legacy", kLegacyKey);
}

std::string legacy_source(bool status_pointer) {
  return std::string(R"(type = "json_http"
url = "{base}/maps/api/place/details/json?place_id=ChIJlegacy1&fields=reviews,rating&reviews_no_translations=true"
token = ")") +
         kLegacyKey +
         R"("
token_param = "key"
reviews_pointer = "/result/reviews"
)" + (status_pointer ? "status_pointer = \"/status\"\n" : "") +
         R"(decode_html_entities = true
throttle_wait = "30m"
scale = "1-5"
[sources.fields]
external_id = "/author_url"
created_at = "/time"
rating = "/rating"
text = "/text"
author = "/author_name"
language = "/language"
url = "/author_url"
)";
}

class LegacyPlaces : public ::testing::Test {
 protected:
  void SetUp() override {
    server().reset();
    seed_legacy();
  }
};

}  // namespace

TEST_F(LegacyPlaces, ReviewsWithEntitiesDecoded) {
  SourceHarness h(legacy_source(true));
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 3);
  auto tom = h.find("https://www.google.com/maps/contrib/101/reviews");
  ASSERT_TRUE(tom);
  EXPECT_EQ(tom->review.author, "Tom O'Brien");
  EXPECT_EQ(tom->review.text,
            "Billing & insurance were a mess: they said \"we'll call back\" \xE2\x80\x94 never "
            "did. 5 < 6 \xE2\x80\xA6");
  EXPECT_DOUBLE_EQ(*tom->review.rating, 2);
  EXPECT_EQ(tom->review.created_at, 1735725600);
  // A bare '&' and an unknown name stay as written; &nbsp; and &copy; are characters.
  EXPECT_EQ(h.find("https://www.google.com/maps/contrib/102/reviews")->review.text,
            "AT&T \xC2\xA0signal in the waiting room \xC2\xA9 &bogus; & fine");
  auto calls = requests("/maps/api/place/details/json");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(query_of(calls[0], "key"), kLegacyKey);
  EXPECT_EQ(query_of(calls[0], "place_id"), "ChIJlegacy1");
}

TEST_F(LegacyPlaces, EntitiesStayAsWrittenUnlessAskedFor) {
  SourceHarness h(replace_all(legacy_source(true), "decode_html_entities = true\n", ""));
  ASSERT_TRUE(h.poll().ok);
  EXPECT_EQ(h.find("https://www.google.com/maps/contrib/101/reviews")->review.author,
            "Tom O&#39;Brien");
}

TEST_F(LegacyPlaces, AStatusWordWithHttp200IsClassified) {
  struct Case {
    std::string status, message;
    SourceError::Kind kind;
    int retry_after;
    bool needs_attention;  // auth and config errors: a person must act (alerts/health.h)
  };
  const std::vector<Case> cases = {
      {"OVER_QUERY_LIMIT", "You have exceeded your daily request quota for this API.",
       SourceError::Kind::kTransient, 1800, false},
      {"REQUEST_DENIED", "This API project is not authorized to use this API.",
       SourceError::Kind::kAuth, 0, true},
      {"INVALID_REQUEST", "", SourceError::Kind::kConfig, 0, true},
      {"NOT_FOUND", "", SourceError::Kind::kConfig, 0, true},
      {"ZERO_RESULTS", "", SourceError::Kind::kConfig, 0, true},
      {"UNKNOWN_ERROR", "", SourceError::Kind::kTransient, 0, false},
  };
  // With status_pointer, and without it (a config written before it existed): the same.
  for (bool with_pointer : {true, false}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(c.status + (with_pointer ? " with status_pointer" : " without"));
      server().reset();
      seed_legacy();
      SourceHarness h(legacy_source(with_pointer));
      ASSERT_TRUE(h.poll().ok);
      seed_legacy(R"({"status": ")" + c.status + R"(", "error_message": )" + js(c.message) + "}");
      auto out = h.poll();
      EXPECT_FALSE(out.ok);
      ASSERT_TRUE(h.last_error());
      EXPECT_EQ(h.last_error()->kind(), c.kind);
      EXPECT_EQ(h.last_error()->retry_after_seconds(), c.retry_after);
      auto st = h.state();
      EXPECT_EQ(st.needs_attention, c.needs_attention);
      EXPECT_NE(st.last_error.find("page 1: API status " + c.status + " ("), std::string::npos)
          << st.last_error;
      EXPECT_NE(st.last_error.find(c.message), std::string::npos) << st.last_error;
      EXPECT_EQ(st.last_error.find("reviews_pointer"), std::string::npos) << st.last_error;
      EXPECT_EQ(st.last_error.find(kLegacyKey), std::string::npos) << st.last_error;
      EXPECT_EQ(h.count(), 3);

      seed_legacy();  // the quota is back, the place is back
      auto again = h.poll();
      EXPECT_TRUE(again.ok) << again.error;
      EXPECT_EQ(h.state().consecutive_failures, 0);
      EXPECT_EQ(h.count(), 3);
    }
  }
}

TEST_F(LegacyPlaces, AWrongKeyNeedsAttention) {
  server().auth("places_legacy", "another-key");
  SourceHarness h(legacy_source(false));
  EXPECT_FALSE(h.poll().ok);
  auto st = h.state();
  EXPECT_EQ(st.last_error_kind, SourceError::Kind::kAuth);
  EXPECT_TRUE(st.needs_attention);
  EXPECT_NE(st.last_error.find("REQUEST_DENIED"), std::string::npos) << st.last_error;
  EXPECT_NE(st.last_error.find("The provided API key is invalid."), std::string::npos);
  EXPECT_EQ(st.last_error.find(kLegacyKey), std::string::npos) << st.last_error;
}

TEST_F(LegacyPlaces, APlaceWithoutReviewsIsNotAnError) {
  server().data("places_legacy", "ChIJlegacy1", "[]", R"({"name": "New Clinic"})");
  for (bool with_pointer : {true, false}) {
    SourceHarness h(legacy_source(with_pointer));
    auto out = h.poll();
    EXPECT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.fetched, 0);
    EXPECT_TRUE(out.problems.empty());
  }
}

TEST_F(JsonHttp, AStatusOutsideStatusOkIsNotTakenForSuccess) {
  // A vendor feed with its own status words: "success" is fine once listed in status_ok,
  // anything else fails the poll with the word and the vendor's message.
  SourceHarness h(replace_all(kSource, "scale = \"1-10\"\n",
                              "scale = \"1-10\"\nstatus_pointer = \"/status\"\n"
                              "status_ok = [\"success\"]\n"));
  server().fault(R"({"match": "/feed/", "kind": "status", "status": 200,
      "body": "{\"status\": \"maintenance\", \"message\": \"back at 10:00\", \"data\": {\"reviews\": []}}"})");
  EXPECT_FALSE(h.poll().ok);
  EXPECT_EQ(h.state().last_error_kind, SourceError::Kind::kGarbage);
  EXPECT_NE(h.state().last_error.find(
                "page 1: API status maintenance (not one of status_ok): back at 10:00"),
            std::string::npos)
      << h.state().last_error;
  server().fault(R"({"match": "/feed/", "kind": "status", "status": 200,
      "body": "{\"status\": \"Success\", \"data\": {\"reviews\": [{\"id\": 7, \"score\": 8, \"created\": 1738749600}]}}"})");
  auto out = h.poll();
  EXPECT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 1);
  // The feed itself sends no status word: with status_pointer set that is garbage.
  EXPECT_FALSE(h.poll().ok);
  EXPECT_NE(h.state().last_error.find("no status word at status_pointer \"/status\""),
            std::string::npos)
      << h.state().last_error;
}
