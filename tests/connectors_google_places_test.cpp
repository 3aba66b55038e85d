// google_places against the fixture server (Places API (New) place details shapes), through
// the real pipeline into SQLite.
#include <gtest/gtest.h>

#include "tests/fixtures/http/connector_harness.h"

using namespace repwatch;
using namespace repwatch::testing;

REPWATCH_FIXTURE_SERVER_ENV();

namespace {

std::string review(const std::string& id, const std::string& author, double rating,
                   const std::string& original, const std::string& lang,
                   const std::string& translated, const std::string& published) {
  std::string j = R"({"name": "places/PLACE1/reviews/)" + id +
                  R"(", "relativePublishTimeDescription": "a week ago", "rating": )" +
                  std::to_string(rating);
  if (!translated.empty())
    j += R"(, "text": {"text": )" + js(translated) + R"(, "languageCode": "en"})";
  if (!original.empty())
    j += R"(, "originalText": {"text": )" + js(original) + R"(, "languageCode": ")" + lang + "\"}";
  j += R"(, "authorAttribution": {"displayName": )" + js(author) +
       R"(, "uri": "https://www.google.com/maps/contrib/1", "photoUri": "https://lh3/x"})";
  j += R"(, "publishTime": ")" + published +
       R"(", "googleMapsUri": "https://www.google.com/maps/reviews/)" + id + "\"}";
  return j;
}

std::vector<std::string> base_reviews() {
  return {
      review("a1", "Zoë 山田", 5, "Excellent 😀 <script>alert(1)</script>", "en", "",
             "2025-03-01T10:00:00.123Z"),
      review("a2", "Müller", 2, "Lange Wartezeit.", "de", "Long wait.", "2025-02-01T10:00:00Z"),
      review("a3", "Anon", 4, "", "", "", "2025-01-15T10:00:00Z"),  // rating only
      review("a4", "Ana", 1, std::string(8000, 'x') + " fin", "es", "", "2025-01-10T10:00:00Z"),
      review("a5", "Bob", 3, "ok", "en", "ok", "2025-01-05T10:00:00Z"),
      review("a6", "Hidden", 5, "sixth: never shown", "en", "", "2025-01-01T10:00:00Z"),
  };
}

std::string array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]";
}

void seed(const std::vector<std::string>& items = base_reviews(), int count = 40) {
  server().data("places", "PLACE1", array(items),
                R"({"name": "Downtown Clinic", "rating": 4.2, "userRatingCount": )" +
                    std::to_string(count) + "}");
  server().auth("places", "AIzaTestKey123");
}

const char* kSource = R"(type = "google_places"
place_id = "PLACE1"
api_key = "AIzaTestKey123"
language_code = "en"
base_url = "{base}"
)";

class GooglePlaces : public ::testing::Test {
 protected:
  void SetUp() override {
    server().reset();
    seed();
  }
};

}  // namespace

TEST_F(GooglePlaces, FirstSyncMapsTheFiveReviews) {
  SourceHarness h(kSource);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 5);  // the API shows at most 5
  auto a1 = h.find("places/PLACE1/reviews/a1");
  ASSERT_TRUE(a1);
  EXPECT_EQ(a1->review.text, "Excellent 😀 <script>alert(1)</script>");
  EXPECT_EQ(a1->review.author, "Zoë 山田");
  EXPECT_EQ(a1->review.language, "en");
  EXPECT_EQ(a1->review.url, "https://www.google.com/maps/reviews/a1");
  EXPECT_EQ(a1->review.created_at, *parse_timestamp("2025-03-01T10:00:00Z"));
  auto a2 = h.find("places/PLACE1/reviews/a2");  // originalText preferred
  EXPECT_EQ(a2->review.text, "Lange Wartezeit.");
  EXPECT_EQ(a2->review.language, "de");
  EXPECT_EQ(a2->review.translated_text, "Long wait.");
  EXPECT_DOUBLE_EQ(*a2->review.raw_rating, 2);
  auto a3 = h.find("places/PLACE1/reviews/a3");
  EXPECT_EQ(a3->review.text, "");
  EXPECT_DOUBLE_EQ(*a3->review.rating, 4);
  EXPECT_EQ(h.find("places/PLACE1/reviews/a4")->review.text.size(), 8004u);
  EXPECT_FALSE(h.find("places/PLACE1/reviews/a6"));

  auto calls = requests("/v1/places/PLACE1");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(header_of(calls[0], "X-Goog-Api-Key"), "AIzaTestKey123");
  EXPECT_EQ(header_of(calls[0], "X-Goog-FieldMask"),
            "id,displayName,rating,userRatingCount,reviews");
  EXPECT_EQ(query_of(calls[0], "languageCode"), "en");
  EXPECT_EQ(query_of(calls[0], "key"), "");  // the key is never in the URL
}

// originalText in Spanish, `text` Google's English translation (languageCode "en" asked for):
// the review is scored on the translation, its text stays the reviewer's own words. A review
// already in English is scored as it is.
TEST_F(GooglePlaces, AReviewInAnotherLanguageIsScoredOnTheTranslation) {
  seed({review("es1", "Ana", 2, "Esperamos una hora y la recepcionista fue muy grosera.", "es",
               "We waited an hour and the receptionist was very rude.", "2025-03-02T10:00:00Z"),
        review("en1", "Bob", 5, "The nurses were wonderful.", "en", "", "2025-03-01T10:00:00Z")});
  SourceHarness h(kSource);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  auto es1 = h.find("places/PLACE1/reviews/es1");
  ASSERT_TRUE(es1);
  EXPECT_EQ(es1->review.text, "Esperamos una hora y la recepcionista fue muy grosera.");
  EXPECT_EQ(es1->review.language, "es");
  EXPECT_TRUE(es1->analysis.on_translation);
  EXPECT_EQ(es1->analysis.language, "es");
  EXPECT_LT(es1->analysis.score, 0);
  bool front_desk = false;
  for (const auto& t : es1->analysis.touchpoints) {
    front_desk |= t.touchpoint == "front_desk";
    for (const auto& e : t.evidence)
      EXPECT_EQ(es1->review.translated_text.substr(e.offset, e.length), e.phrase);
  }
  EXPECT_TRUE(front_desk);
  auto en1 = h.find("places/PLACE1/reviews/en1");
  ASSERT_TRUE(en1);
  EXPECT_FALSE(en1->analysis.on_translation);
  EXPECT_GT(en1->analysis.score, 0);
}

TEST_F(GooglePlaces, IncrementalPollReturnsOnlyNewOrChanged) {
  SourceHarness h(kSource);
  ASSERT_TRUE(h.poll().ok);
  auto same = h.fetch();
  EXPECT_EQ(same.reviews.size(), 0u);  // nothing new among the 5

  auto items = base_reviews();
  items.insert(items.begin(), review("a7", "Новый", 1, "Грубый персонал.", "ru", "Rude staff.",
                                     "2025-03-10T10:00:00Z"));
  seed(items, 41);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.fetched, 1);
  EXPECT_EQ(out.inserted, 1);
  EXPECT_EQ(h.count(), 6);
  EXPECT_EQ(h.find("places/PLACE1/reviews/a7")->review.text, "Грубый персонал.");
  // a5 dropped out of the 5 shown: it is not deleted.
  EXPECT_TRUE(h.find("places/PLACE1/reviews/a5"));
}

TEST_F(GooglePlaces, EditOfAShownReview) {
  SourceHarness h(kSource);
  ASSERT_TRUE(h.poll().ok);
  auto items = base_reviews();
  items[1] = review("a2", "Müller", 1, "Lange Wartezeit, unfreundlich.", "de",
                    "Long wait, unfriendly.", "2025-02-01T10:00:00Z");
  seed(items);
  auto out = h.poll();
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.fetched, 1);
  EXPECT_EQ(out.edited, 1);
  EXPECT_EQ(h.count(), 5);
  auto a2 = h.find("places/PLACE1/reviews/a2");
  EXPECT_EQ(a2->review.text, "Lange Wartezeit, unfreundlich.");
  EXPECT_DOUBLE_EQ(*a2->review.rating, 1);
}

TEST_F(GooglePlaces, DuplicateNamesInOneAnswerAreStoredOnce) {
  auto items = base_reviews();
  items.insert(items.begin() + 1, items[0]);
  seed(items);
  SourceHarness h(kSource);
  auto out = h.poll();
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.fetched, 4);
  EXPECT_EQ(h.count(), 4);
}

TEST_F(GooglePlaces, PlaceWithNoReviews) {
  server().data("places", "EMPTY", "[]", "{}");
  SourceHarness h(replace_all(kSource, "PLACE1", "EMPTY"));
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.fetched, 0);
}

// The 5 reviews are a sample: one that drops out of them is not removed.
TEST_F(GooglePlaces, AReviewThatDropsOutOfTheFiveIsNeverRemoved) {
  SourceHarness h(kSource);
  ASSERT_TRUE(h.poll().ok);
  auto items = base_reviews();
  items.erase(items.begin());  // a1 is no longer among the ones Google shows
  seed(items);
  for (int i = 0; i < 2; ++i) {
    auto out = h.poll();
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.removed, 0);
  }
  EXPECT_FALSE(h.find("places/PLACE1/reviews/a1")->removed_at);
  EXPECT_EQ(h.store().count_reviews("src"), 6);
}

TEST_F(GooglePlaces, EveryInjectedFault) {
  run_fault_suite(
      [] { return std::make_unique<SourceHarness>(kSource); }, [] { seed(); },
      [] {
        auto items = base_reviews();
        items.insert(items.begin(),
                     review("a8", "Late", 5, "Lovely", "en", "", "2025-03-11T10:00:00Z"));
        seed(items, 41);
      },
      5, "/v1/places/",
      standard_faults(
          R"({"kind": "status", "status": 400, "times": -1, "body": "{\"error\": {\"code\": 400, \"message\": \"API key expired. Please renew the API key.\", \"status\": \"INVALID_ARGUMENT\", \"details\": [{\"reason\": \"API_KEY_EXPIRED\"}]}}"})",
          "HTTP 400: INVALID_ARGUMENT (API_KEY_EXPIRED): API key expired.",
          R"("{\"error\": {\"code\": 500, \"message\": \"Internal error encountered.\", \"status\": \"INTERNAL\"}}")",
          "HTTP 500: INTERNAL: Internal error encountered.", 0),
      {"AIzaTestKey123"});
}

TEST_F(GooglePlaces, WrongKeyIsAnAuthProblem) {
  SourceHarness h(replace_all(kSource, "AIzaTestKey123", "AIzaWrong"));
  EXPECT_FALSE(h.poll().ok);
  auto st = h.state();
  EXPECT_EQ(st.last_error_kind, SourceError::Kind::kAuth);
  EXPECT_NE(st.last_error.find("API_KEY_INVALID"), std::string::npos) << st.last_error;
  EXPECT_EQ(st.last_error.find("AIzaWrong"), std::string::npos);
}

TEST(GooglePlacesConfig, Validation) {
  auto error = [](const std::string& toml) {
    try {
      SourceHarness h(toml);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("type = \"google_places\"\nplace_id = \"P\"\n").find("api_key"),
            std::string::npos);
  EXPECT_NE(error("type = \"google_places\"\napi_key = \"k\"\n").find("place_id"),
            std::string::npos);
  EXPECT_NE(error("type = \"google_places\"\nplace_id = \"P\"\napi_key = \"k\"\nreviews_sort = "
                  "\"newest\"\n")
                .find("reviews_sort"),
            std::string::npos);
}
