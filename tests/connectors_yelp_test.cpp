// yelp against the fixture server (Yelp Fusion business reviews shapes), through the real
// pipeline into SQLite; and the Pacific-time parser against the system's tz database.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "connectors/yelp.h"
#include "tests/fixtures/http/connector_harness.h"

using namespace repwatch;
using namespace repwatch::testing;

REPWATCH_FIXTURE_SERVER_ENV();

namespace {

const char* kBiz = "clínica-dental-san-josé";

std::string review(const std::string& id, int rating, const std::string& text,
                   const std::string& name, const std::string& time,
                   const std::string& locale = "en_US") {
  return R"({"id": ")" + id +
         R"(", "url": "https://www.yelp.com/biz/clinica?adjust_creative=abc&hrid=)" + id +
         R"(&utm_campaign=yelp_api_v3&utm_medium=api_v3_business_reviews", "text": )" + js(text) +
         R"(, "rating": )" + std::to_string(rating) + R"(, "time_created": ")" + time +
         R"(", "user": {"id": "u-)" + id +
         R"(", "profile_url": "https://www.yelp.com/user_details?userid=u", "image_url": null, "name": )" +
         js(name) + R"(}, "_locale": ")" + locale + R"("})";
}

std::vector<std::string> base_reviews() {
  return {
      review("y1", 5, "Dr. Kim was wonderful 😀 <script>x</script>...", "Zoë Y.",
             "2025-07-01 12:00:00"),                        // PDT
      review("y2", 1, "", "李 W.", "2025-03-09 01:30:00"),  // PST, just before the change
      review("y3", 3, "Fine.\nParking was hard...", "Sam K.", "2025-01-15 08:00:00"),
      review("y4", 2, "Very old review", "Old T.", "2024-01-01 00:00:00"),  // 4th: not shown
      review("e1", 4, "Muy buena atención...", "José M.", "2025-05-05 10:00:00", "es_US"),
  };
}

// An item of review() that Yelp counts in `language`'s possible_languages.
std::string in_language(const std::string& item, const std::string& language) {
  return replace_all(item, R"("_locale")", R"("_lang": ")" + language + R"(", "_locale")");
}

std::string array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]";
}

void seed(const std::vector<std::string>& items = base_reviews()) {
  server().data("yelp", kBiz, array(items));
  server().auth("yelp", "yelp-key-secret-1");
}

const std::string kSource = std::string(R"(type = "yelp"
business_id = ")") + kBiz + R"("
api_key = "yelp-key-secret-1"
locales = ["en_US", "es_US"]
base_url = "{base}"
)";

// The source with `locales_line` ("" for the default en_US).
std::string source_with(const std::string& locales_line) {
  return std::string(R"(type = "yelp"
business_id = ")") +
         kBiz + R"("
api_key = "yelp-key-secret-1"
base_url = "{base}"
)" + locales_line;
}

class Yelp : public ::testing::Test {
 protected:
  void SetUp() override {
    server().reset();
    seed();
  }
};

}  // namespace

TEST_F(Yelp, FirstSyncReadsThreeExcerptsPerLocale) {
  SourceHarness h(kSource);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 4);  // 3 newest en_US + 1 es_US
  EXPECT_FALSE(h.find("y4"));
  auto y1 = h.find("y1");
  ASSERT_TRUE(y1);
  EXPECT_EQ(y1->review.text, "Dr. Kim was wonderful 😀 <script>x</script>...");
  EXPECT_EQ(y1->review.author, "Zoë Y.");
  EXPECT_EQ(y1->review.language, "en");
  EXPECT_EQ(y1->review.created_at, *parse_timestamp("2025-07-01T19:00:00Z"));  // PDT = UTC-7
  EXPECT_EQ(y1->review.url, "https://www.yelp.com/biz/clinica?hrid=y1");
  auto y2 = h.find("y2");
  EXPECT_EQ(y2->review.text, "");
  EXPECT_EQ(y2->review.author, "李 W.");
  EXPECT_EQ(y2->review.created_at, *parse_timestamp("2025-03-09T09:30:00Z"));  // PST = UTC-8
  EXPECT_EQ(h.find("e1")->review.language, "es");

  auto calls = requests("/v3/businesses/");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(std::string(calls[0]["path"].GetString()),
            "/v3/businesses/cl%C3%ADnica-dental-san-jos%C3%A9/reviews");
  EXPECT_EQ(header_of(calls[0], "Authorization"), "Bearer yelp-key-secret-1");
  EXPECT_EQ(query_of(calls[0], "locale"), "en_US");
  EXPECT_EQ(query_of(calls[1], "locale"), "es_US");
  EXPECT_EQ(query_of(calls[0], "sort_by"), "newest");
}

TEST_F(Yelp, IncrementalPollAndEdit) {
  SourceHarness h(kSource);
  ASSERT_TRUE(h.poll().ok);
  EXPECT_EQ(h.fetch().reviews.size(), 0u);

  auto items = base_reviews();
  items.push_back(review("y5", 1, "Billing overcharged me...", "Pat Q.", "2025-08-01 09:00:00"));
  items[0] = review("y1", 4, "Dr. Kim was good, edited...", "Zoë Y.", "2025-07-01 12:00:00");
  seed(items);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.fetched, 2);
  EXPECT_EQ(out.inserted, 1);
  EXPECT_EQ(out.edited, 1);
  EXPECT_EQ(h.count(), 5);                 // y3 fell out of the top 3 and is kept
  EXPECT_FALSE(h.find("y3")->removed_at);  // a sample never removes
  EXPECT_EQ(h.store().count_reviews("src"), 5);
  EXPECT_EQ(h.find("y1")->review.text, "Dr. Kim was good, edited...");
}

TEST_F(Yelp, EveryInjectedFault) {
  run_fault_suite(
      [] { return std::make_unique<SourceHarness>(kSource); }, [] { seed(); },
      [] {
        auto items = base_reviews();
        items.push_back(review("y9", 5, "Great", "New P.", "2025-09-01 09:00:00"));
        seed(items);
      },
      4, "/v3/",
      standard_faults(
          R"({"kind": "status", "status": 401, "times": -1, "body": "{\"error\": {\"code\": \"UNAUTHORIZED_ACCESS_TOKEN\", \"description\": \"The access token provided is not valid.\"}}"})",
          "HTTP 401: UNAUTHORIZED_ACCESS_TOKEN: The access token provided is not valid.",
          R"("{\"error\": {\"code\": \"INTERNAL_ERROR\", \"description\": \"Something went wrong internally, please try your request again.\"}}")",
          "HTTP 500: INTERNAL_ERROR: Something went wrong internally", 1),
      {"yelp-key-secret-1"});
}

TEST_F(Yelp, DailyLimitWaitsUntilTheReset) {
  SourceHarness h(kSource);
  int64_t reset = now_seconds() + 3 * 3600;
  server().fault(
      R"({"match": "/v3/", "kind": "status", "status": 429, "times": -1, "headers": {"RateLimit-ResetTime": ")" +
      format_timestamp(reset) +
      R"("}, "body": "{\"error\": {\"code\": \"ACCESS_LIMIT_REACHED\", \"description\": \"You've reached the access limit for this client.\"}}"})");
  EXPECT_FALSE(h.poll().ok);
  ASSERT_TRUE(h.last_error());
  EXPECT_EQ(h.last_error()->kind(), SourceError::Kind::kTransient);
  EXPECT_NEAR(h.last_error()->retry_after_seconds(), 3 * 3600, 60);
}

// Yelp saying it does not serve this business is its own state, asked again daily
// (connectors_health_test has its advice).
TEST_F(Yelp, UnavailableBusinessIsUnavailable) {
  server().fault(
      R"({"match": "/v3/", "kind": "status", "status": 403, "body": "{\"error\": {\"code\": \"BUSINESS_UNAVAILABLE\", \"description\": \"We may not be able to provide details for certain businesses, for example if they do not have any reviews yet.\"}}"})");
  SourceHarness h(kSource);
  EXPECT_FALSE(h.poll().ok);
  EXPECT_EQ(h.state().last_error_kind, SourceError::Kind::kUnavailable);
  EXPECT_FALSE(h.state().needs_attention);
  EXPECT_NE(h.state().last_error.find("BUSINESS_UNAVAILABLE"), std::string::npos);
}

// A business reviewed only in Spanish and French: Yelp answers en_US with no reviews, a total
// over every language and the languages it has (Yelp/yelp-fusion#267). The poll reads those
// languages too, in Yelp's locale for each, and stores their reviews with their language.
TEST_F(Yelp, OtherLanguagesAreReadWhenTheLocaleHasNone) {
  server().data(
      "yelp", kBiz,
      array(
          {in_language(review("s1", 1, "Esperamos 50 minutos y nadie nos atendió...", "Ana R.",
                              "2025-06-01 10:00:00", "es"),
                       "es"),
           in_language(
               review("s2", 5, "Muy amables todos.", "Luis P.", "2025-06-02 10:00:00", "es"), "es"),
           in_language(
               review("f1", 2, "Accueil désagréable...", "Marie C.", "2025-06-03 10:00:00", "fr"),
               "fr")}),
      R"({"total_all_languages": true})");
  SourceHarness h(source_with("locales = [\"en_CA\"]\n"));
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_TRUE(out.problems.empty());
  EXPECT_EQ(out.inserted, 3);
  ASSERT_TRUE(h.find("s1"));
  EXPECT_EQ(h.find("s1")->review.language, "es");
  EXPECT_EQ(h.find("f1")->review.language, "fr");
  auto calls = requests("/v3/businesses/");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(query_of(calls[0], "locale"), "en_CA");
  EXPECT_EQ(query_of(calls[1], "locale"), "es_ES");  // Yelp has no es_CA: Spanish's main one
  EXPECT_EQ(query_of(calls[2], "locale"), "fr_CA");  // the configured country's

  // The next poll reads them again (nothing new: nothing stored twice).
  server().clear_log();
  auto again = h.poll();
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(again.inserted, 0);
  EXPECT_EQ(h.count(), 3);
  EXPECT_EQ(requests("/v3/businesses/").size(), 3u);
}

// A configured locale that has reviews reads nothing more; nor does one whose empty answer
// has no total (a business with no reviews at all).
TEST_F(Yelp, NoExtraLanguagesWhenTheLocaleHasReviewsOrTheBusinessNone) {
  server().data(
      "yelp", kBiz,
      array({review("y1", 5, "Great...", "Zoë Y.", "2025-07-01 12:00:00"),
             in_language(review("s1", 1, "Mal servicio...", "Ana R.", "2025-06-01 10:00:00", "es"),
                         "es")}),
      R"({"total_all_languages": true})");
  SourceHarness h(source_with(""));  // en_US
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 1);
  EXPECT_EQ(requests("/v3/businesses/").size(), 1u);

  server().reset();
  server().auth("yelp", "yelp-key-secret-1");
  server().data("yelp", kBiz, "[]");
  server().clear_log();
  EXPECT_TRUE(h.poll().ok);
  EXPECT_EQ(requests("/v3/businesses/").size(), 1u);
}

// An extra language whose read fails costs only its reviews this poll: a problem, and the
// configured locale's reviews are stored.
TEST_F(Yelp, AFailedExtraLanguageIsAProblemNotAFailedPoll) {
  server().data(
      "yelp", kBiz,
      array({in_language(review("s1", 1, "Mal servicio...", "Ana R.", "2025-06-01 10:00:00", "es"),
                         "es")}),
      R"({"total_all_languages": true})");
  server().fault(
      R"({"match": "/v3/", "kind": "status", "status": 500, "times": -1, "skip": 1, "body": "{\"error\": {\"code\": \"INTERNAL_ERROR\", \"description\": \"Something went wrong internally.\"}}"})");
  SourceHarness h(source_with(""));  // en_US
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_EQ(out.problems[0].where, "reviews (es_ES)");
  EXPECT_NE(out.problems[0].message.find("INTERNAL_ERROR"), std::string::npos);
  server().clear_faults();
  auto next = h.poll();
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.inserted, 1);
}

TEST(PacificTime, KnownInstants) {
  using connectors::parse_pacific_time;
  auto utc = [](const char* s) { return *parse_timestamp(s); };
  EXPECT_EQ(*parse_pacific_time("2025-01-15 08:00:00"), utc("2025-01-15T16:00:00Z"));
  EXPECT_EQ(*parse_pacific_time("2025-07-01 12:00:00"), utc("2025-07-01T19:00:00Z"));
  // 2025-03-09: 02:00 PST jumps to 03:00 PDT.
  EXPECT_EQ(*parse_pacific_time("2025-03-09 01:59:59"), utc("2025-03-09T09:59:59Z"));
  EXPECT_EQ(*parse_pacific_time("2025-03-09 03:00:00"), utc("2025-03-09T10:00:00Z"));
  // 2025-11-02: 02:00 PDT falls back to 01:00 PST; 01:30 is read as the first (PDT) one.
  EXPECT_EQ(*parse_pacific_time("2025-11-02 01:30:00"), utc("2025-11-02T08:30:00Z"));
  EXPECT_EQ(*parse_pacific_time("2025-11-02 02:00:00"), utc("2025-11-02T10:00:00Z"));
  // Old rules: 2006 DST began on the first Sunday of April.
  EXPECT_EQ(*parse_pacific_time("2006-03-20 12:00:00"), utc("2006-03-20T20:00:00Z"));
  EXPECT_EQ(*parse_pacific_time("2006-04-10 12:00:00"), utc("2006-04-10T19:00:00Z"));
  EXPECT_FALSE(parse_pacific_time("2025-01-15T08:00:00Z"));
  EXPECT_FALSE(parse_pacific_time("2025-01-15T08:00:00-08:00"));
  EXPECT_FALSE(parse_pacific_time("yesterday"));
}

// Every hour of 1990..2035 agrees with the system's America/Los_Angeles zone (when the tz
// database is installed).
TEST(PacificTime, MatchesTheTzDatabase) {
  if (access("/usr/share/zoneinfo/America/Los_Angeles", R_OK) != 0)
    GTEST_SKIP() << "no tz database";
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "America/Los_Angeles", 1);
  tzset();
  int checked = 0;
  for (int64_t t = *parse_timestamp("1990-01-01T00:00:00Z");
       t < *parse_timestamp("2035-01-01T00:00:00Z"); t += 3600 + 17 * 60) {
    time_t tt = static_cast<time_t>(t);
    std::tm local{};
    localtime_r(&tt, &local);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
    auto parsed = connectors::parse_pacific_time(buf);
    ASSERT_TRUE(parsed) << buf;
    // In the repeated autumn hour both readings are right; we pick the daylight one.
    if (*parsed != t) {
      EXPECT_EQ(*parsed + 3600, t) << buf;
    }
    ++checked;
  }
  if (old)
    setenv("TZ", saved.c_str(), 1);
  else
    unsetenv("TZ");
  tzset();
  EXPECT_GT(checked, 300000);
}
