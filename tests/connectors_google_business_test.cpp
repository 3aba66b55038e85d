// google_business against the fixture server (GBP v4 reviews.list shapes), through the real
// pipeline into SQLite.
#include <gtest/gtest.h>

#include <set>

#include "connectors/google_business.h"
#include "tests/fixtures/http/connector_harness.h"

using namespace repwatch;
using namespace repwatch::testing;

REPWATCH_FIXTURE_SERVER_ENV();

namespace {

const char* kKey = "accounts/111/locations/222";

std::string review(const std::string& id, const std::string& author, const std::string& star,
                   const std::optional<std::string>& comment, const std::string& created,
                   const std::string& updated, const std::string& reply = "",
                   bool anonymous = false) {
  std::string j = R"({"name": "accounts/111/locations/222/reviews/)" + id + R"(", "reviewId": ")" +
                  id + R"(", "reviewer": {"displayName": )" + js(author) + R"(, "isAnonymous": )" +
                  (anonymous ? "true" : "false") + "}";
  if (!star.empty()) j += R"(, "starRating": ")" + star + "\"";
  if (comment) j += R"(, "comment": )" + js(*comment);
  j += R"(, "createTime": ")" + created + R"(", "updateTime": ")" + updated + "\"";
  if (!reply.empty())
    j += R"(, "reviewReply": {"comment": )" + js(reply) +
         R"(, "updateTime": "2025-02-02T08:00:00.5Z"})";
  return j + "}";
}

std::string long_text() {
  std::string t;
  while (t.size() < 20000) t += "Ärztin sehr geduldig, Wartezeit kurz. ";
  return t;
}

// Seven reviews, newest update first when sorted; page_size 2 makes four pages.
std::vector<std::string> base_reviews() {
  return {
      review("r1", "Zoë 山田", "FIVE", "Great care 😀👍 <script>alert('x')</script> & \"quotes\"",
             "2025-03-01T10:00:00Z", "2025-03-01T10:00:00Z"),
      review("r2", "Иван Петров", "ONE", std::nullopt, "2025-02-20T09:00:00Z",
             "2025-02-20T09:00:00.123456789Z"),
      review("r3", "Long Writer", "FOUR", long_text(), "2025-02-10T09:00:00Z",
             "2025-02-10T09:00:00Z", "Danke für Ihr Feedback!"),
      review("r4", "Marie", "TWO",
             "Attente trop longue.\n\n(Translated by Google)\nThe wait was too long.",
             "2025-02-01T09:00:00Z", "2025-02-01T09:00:00Z"),
      review("r5", "José", "THREE",
             "(Translated by Google) Friendly staff\n\n(Original)\nPersonal amable",
             "2025-01-20T09:00:00Z", "2025-01-20T09:00:00Z",
             "Thanks!\n\n(Translated by Google)\n¡Gracias!"),
      review("r6", "A Google User", "STAR_RATING_UNSPECIFIED", "", "2025-01-10T09:00:00Z",
             "2025-01-10T09:00:00Z", "", true),
      review("r7", "Old Timer", "THREE", "ok", "2024-12-01T09:00:00Z", "2024-12-01T09:00:00Z"),
  };
}

std::string array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]";
}

void seed(std::vector<std::string> items = base_reviews()) {
  server().data("gbp", kKey, array(items));
  server().auth("gbp", "ya29.valid-token");
  server().control("oauth", R"({"client_id": "cid.apps.googleusercontent.com",
      "client_secret": "csecret-123", "refresh_token": "1//refresh-abc",
      "access_token": "ya29.valid-token", "expires_in": 3599})");
}

const char* kRefreshSource = R"(type = "google_business"
account_id = "111"
business_location_id = "222"
client_id = "cid.apps.googleusercontent.com"
client_secret = "csecret-123"
refresh_token = "1//refresh-abc"
token_endpoint = "{base}/token"
base_url = "{base}"
page_size = 2
)";

class GoogleBusiness : public ::testing::Test {
 protected:
  void SetUp() override {
    server().reset();
    seed();
  }
};

}  // namespace

TEST_F(GoogleBusiness, FirstSyncReadsEveryPageAndMapsTheShape) {
  SourceHarness h(kRefreshSource);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 7);
  EXPECT_EQ(h.count(), 7);

  auto r1 = h.find("r1");
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->review.author, "Zoë 山田");
  EXPECT_EQ(r1->review.text, "Great care 😀👍 <script>alert('x')</script> & \"quotes\"");
  EXPECT_DOUBLE_EQ(*r1->review.raw_rating, 5);
  EXPECT_DOUBLE_EQ(*r1->review.rating, 5);
  EXPECT_EQ(r1->review.created_at, *parse_timestamp("2025-03-01T10:00:00Z"));
  EXPECT_EQ(r1->review.location_id, "downtown");

  auto r2 = h.find("r2");  // rating only, no comment
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->review.text, "");
  EXPECT_DOUBLE_EQ(*r2->review.raw_rating, 1);
  EXPECT_EQ(r2->review.author, "Иван Петров");

  auto r3 = h.find("r3");  // very long text, with a reply
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->review.text, long_text());
  EXPECT_EQ(r3->review.reply_text, "Danke für Ihr Feedback!");
  EXPECT_EQ(r3->review.reply_at, *parse_timestamp("2025-02-02T08:00:00Z"));

  auto r4 = h.find("r4");  // "<original>\n\n(Translated by Google)\n<translation>"
  EXPECT_EQ(r4->review.text, "Attente trop longue.");
  EXPECT_EQ(r4->review.translated_text, "The wait was too long.");
  auto r5 = h.find("r5");  // "(Translated by Google) <translation>\n\n(Original)\n<original>"
  EXPECT_EQ(r5->review.text, "Personal amable");
  EXPECT_EQ(r5->review.translated_text, "Friendly staff");
  EXPECT_EQ(r5->review.reply_text, "Thanks!");

  auto r6 = h.find("r6");  // STAR_RATING_UNSPECIFIED: no rating, not 0
  EXPECT_FALSE(r6->review.raw_rating.has_value());
  EXPECT_FALSE(r6->review.rating.has_value());

  // What was sent: the bearer token from the refresh flow, pageSize, orderBy, page tokens.
  auto token_calls = requests("/token");
  ASSERT_EQ(token_calls.size(), 1u);
  EXPECT_NE(std::string(token_calls[0]["body"].GetString()).find("grant_type=refresh_token"),
            std::string::npos);
  auto pages = requests("/v4/accounts/111/locations/222/reviews");
  ASSERT_EQ(pages.size(), 4u);
  for (size_t i = 0; i < pages.size(); ++i) {
    EXPECT_EQ(header_of(pages[i], "Authorization"), "Bearer ya29.valid-token");
    EXPECT_EQ(query_of(pages[i], "pageSize"), "2");
    EXPECT_EQ(query_of(pages[i], "orderBy"), "updateTime desc");
    EXPECT_EQ(query_of(pages[i], "pageToken").empty(), i == 0);
  }
  EXPECT_EQ(h.state().last_error, "");
  EXPECT_TRUE(h.state().last_success_at.has_value());
}

TEST_F(GoogleBusiness, IncrementalPollStopsAtTheWatermark) {
  SourceHarness h(kRefreshSource);
  ASSERT_TRUE(h.poll().ok);
  server().clear_log();

  auto items = base_reviews();
  items.push_back(review("r8", "New Patient", "TWO", "Billing was confusing.",
                         "2025-03-05T12:00:00Z", "2025-03-05T12:00:00Z"));
  seed(items);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 1);
  EXPECT_EQ(out.edited, 0);
  EXPECT_EQ(h.count(), 8);
  // Page 1 holds r8 and r1 (inside the safety margin), page 2 reaches older reviews: stop.
  EXPECT_EQ(requests("/reviews").size(), 2u);
  EXPECT_EQ(requests("/token").size(), 0u);  // the access token was cached

  server().clear_log();
  out = h.poll();  // nothing new
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.inserted + out.edited, 0);
  EXPECT_EQ(requests("/reviews").size(), 1u);
}

TEST_F(GoogleBusiness, EditOfAnOldReviewComesBackToTheTop) {
  SourceHarness h(kRefreshSource);
  ASSERT_TRUE(h.poll().ok);
  auto items = base_reviews();
  items[6] = review("r7", "Old Timer", "ONE", "Changed my mind: rude front desk.",
                    "2024-12-01T09:00:00Z", "2025-03-07T09:00:00Z");
  seed(items);
  server().clear_log();
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.edited, 1);
  EXPECT_EQ(out.inserted, 0);
  EXPECT_EQ(h.count(), 7);
  auto r7 = h.find("r7");
  EXPECT_EQ(r7->review.text, "Changed my mind: rude front desk.");
  EXPECT_EQ(r7->revision, 2);
  EXPECT_EQ(h.store().count_revisions(r7->id), 1);
  EXPECT_LE(requests("/reviews").size(), 2u);
}

TEST_F(GoogleBusiness, ReplyOnlyChangeIsFoundByTheFullSweep) {
  SourceHarness h(std::string(kRefreshSource) + "full_sweep_interval = \"0s\"\n");
  ASSERT_TRUE(h.poll().ok);
  auto items = base_reviews();
  // The owner replies to r7 and Google does not bump the review's updateTime.
  items[6] = review("r7", "Old Timer", "THREE", "ok", "2024-12-01T09:00:00Z",
                    "2024-12-01T09:00:00Z", "Thank you for visiting us.");
  seed(items);
  auto out = h.poll();
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.edited, 1);
  EXPECT_EQ(h.find("r7")->review.reply_text, "Thank you for visiting us.");
}

TEST_F(GoogleBusiness, ExpiredAccessTokenIsRefreshedOnce) {
  SourceHarness h(kRefreshSource);
  ASSERT_TRUE(h.poll().ok);
  // The cached token expires early at Google; a new one is issued by the token endpoint.
  server().auth("gbp", "ya29.second-token");
  server().control("oauth", R"({"client_id": "cid.apps.googleusercontent.com",
      "client_secret": "csecret-123", "refresh_token": "1//refresh-abc",
      "access_token": "ya29.second-token", "expires_in": 3599})");
  server().clear_log();
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(requests("/token").size(), 1u);
  auto pages = requests("/reviews");
  ASSERT_GE(pages.size(), 2u);
  EXPECT_EQ(header_of(pages[0], "Authorization"), "Bearer ya29.valid-token");
  EXPECT_EQ(header_of(pages[1], "Authorization"), "Bearer ya29.second-token");
}

TEST_F(GoogleBusiness, RevokedRefreshTokenNeedsAttention) {
  server().control("oauth", R"({"client_id": "cid.apps.googleusercontent.com",
      "client_secret": "csecret-123", "refresh_token": "1//a-different-one",
      "access_token": "ya29.valid-token"})");
  SourceHarness h(kRefreshSource);
  auto out = h.poll();
  EXPECT_FALSE(out.ok);
  auto st = h.state();
  EXPECT_EQ(st.last_error_kind, SourceError::Kind::kAuth);
  EXPECT_TRUE(st.needs_attention);
  EXPECT_NE(st.last_error.find("invalid_grant: Token has been expired or revoked."),
            std::string::npos)
      << st.last_error;
  EXPECT_EQ(st.last_error.find("1//refresh-abc"), std::string::npos);
  EXPECT_EQ(st.last_error.find("csecret-123"), std::string::npos);
  EXPECT_EQ(h.count(), 0);
}

TEST_F(GoogleBusiness, AccessTokenFileIsReadOnEveryPoll) {
  TempDir dir;
  auto token_file = dir.path() / "token.json";
  std::ofstream(token_file) << R"({"access_token": "ya29.valid-token", "expires_in": 3599})";
  std::filesystem::permissions(
      token_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  SourceHarness h(R"(type = "google_business"
account_id = "111"
business_location_id = "222"
access_token_file = ")" +
                  token_file.string() +
                  R"("
base_url = "{base}"
page_size = 50
)");
  ASSERT_TRUE(h.poll().ok);
  EXPECT_EQ(h.count(), 7);
  // Someone else refreshes the file; the daemon picks it up without a restart.
  server().auth("gbp", "ya29.rotated");
  std::ofstream(token_file, std::ios::trunc) << "ya29.rotated\n";
  auto out = h.poll();
  EXPECT_TRUE(out.ok) << out.error;
  // A token nobody refreshed: the API's own 401 message, needs attention.
  server().auth("gbp", "ya29.another");
  out = h.poll();
  EXPECT_FALSE(out.ok);
  auto st = h.state();
  EXPECT_EQ(st.last_error_kind, SourceError::Kind::kAuth);
  EXPECT_NE(st.last_error.find("HTTP 401: UNAUTHENTICATED (ACCESS_TOKEN_EXPIRED): Request had "
                               "invalid authentication credentials."),
            std::string::npos)
      << st.last_error;
  EXPECT_EQ(st.last_error.find("ya29.rotated"), std::string::npos);
}

TEST_F(GoogleBusiness, RepeatedPageTokenStopsPaging) {
  server().data("gbp", kKey, array(base_reviews()), R"({"repeat_token": true})");
  SourceHarness h(kRefreshSource);
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_NE(out.problems[0].message.find("repeats"), std::string::npos);
  EXPECT_LE(requests("/reviews").size(), 3u);
}

TEST_F(GoogleBusiness, MaxPagesCapsPaging) {
  SourceHarness h(std::string(kRefreshSource) + "max_pages = 2\n");
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 4);
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_NE(out.problems[0].message.find("max_pages (2)"), std::string::npos);
}

TEST_F(GoogleBusiness, BadRecordsAreProblemsAndTheRestIsStored) {
  auto items = base_reviews();
  items.push_back(R"({"reviewer": {"displayName": "no id"}, "starRating": "FIVE",
                      "createTime": "2025-01-01T00:00:00Z"})");
  items.push_back(R"({"reviewId": "bad-time", "starRating": "FIVE", "createTime": "yesterday",
                      "updateTime": "2025-01-02"})");
  seed(items);
  SourceHarness h(replace_all(kRefreshSource, "page_size = 2", "page_size = 50"));
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 8);  // "2025-01-02" is a valid updateTime; createTime falls back
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_NE(out.problems[0].to_string().find("no reviewId"), std::string::npos);
}

TEST_F(GoogleBusiness, EveryInjectedFault) {
  std::string source = std::string(kRefreshSource) + "full_sweep_interval = \"0s\"\n";
  run_fault_suite(
      [&] { return std::make_unique<SourceHarness>(source); }, [] { seed(); },
      [] {
        auto items = base_reviews();
        items.push_back(review("r9", "Late", "FIVE", "Lovely nurses", "2025-03-09T09:00:00Z",
                               "2025-03-09T09:00:00Z"));
        seed(items);
      },
      7, "/v4/",
      standard_faults(
          R"({"kind": "status", "status": 401, "times": -1, "body": "{\"error\": {\"code\": 401, \"message\": \"Request had invalid authentication credentials.\", \"status\": \"UNAUTHENTICATED\", \"details\": [{\"reason\": \"ACCESS_TOKEN_EXPIRED\"}]}}"})",
          "HTTP 401: UNAUTHENTICATED (ACCESS_TOKEN_EXPIRED): Request had invalid authentication",
          R"("{\"error\": {\"code\": 500, \"message\": \"Internal error encountered.\", \"status\": \"INTERNAL\"}}")",
          "HTTP 500: INTERNAL: Internal error encountered.", 1),
      {"ya29.valid-token", "csecret-123", "1//refresh-abc"});
}

// A Spanish review: Google's comment holds the reviewer's words and its English translation.
// The translation is analysed (the analyzer scores English only), the reviewer's own words stay
// the text, and the evidence phrases are of the translation; both layouts.
TEST_F(GoogleBusiness, AReviewInAnotherLanguageIsScoredOnGooglesTranslation) {
  auto items = base_reviews();
  items.push_back(review("es1", "Ana", "",
                         "Esperamos 50 minutos y la recepcionista fue muy grosera.\n\n(Translated "
                         "by Google)\nWe waited 50 minutes and the receptionist was very rude.",
                         "2025-03-02T09:00:00Z", "2025-03-02T09:00:00Z"));
  items.push_back(review("es2", "Luis", "",
                         "(Translated by Google) The billing office charged me twice and never "
                         "called back.\n\n(Original)\nLa oficina de facturación me cobró dos veces "
                         "y nunca me devolvieron la llamada.",
                         "2025-03-03T09:00:00Z", "2025-03-03T09:00:00Z"));
  seed(items);
  SourceHarness h(replace_all(kRefreshSource, "page_size = 2", "page_size = 50"));
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;

  auto es1 = h.find("es1");
  ASSERT_TRUE(es1);
  EXPECT_EQ(es1->review.text, "Esperamos 50 minutos y la recepcionista fue muy grosera.");
  EXPECT_EQ(es1->review.translated_text,
            "We waited 50 minutes and the receptionist was very rude.");
  EXPECT_TRUE(es1->analysis.on_translation);
  EXPECT_TRUE(es1->analysis.scored);
  EXPECT_EQ(es1->analysis.language, "es");  // the review's language, not the translation's
  EXPECT_LT(es1->analysis.score, 0);
  EXPECT_EQ(es1->analysis.label, Label::kNegative);
  std::set<std::string> tps;
  for (const auto& t : es1->analysis.touchpoints) {
    tps.insert(t.touchpoint);
    for (const auto& e : t.evidence)  // spans of the translation, read back as its phrases
      EXPECT_EQ(es1->review.translated_text.substr(e.offset, e.length), e.phrase);
  }
  EXPECT_TRUE(tps.count("wait_time")) << es1->analysis.touchpoints.size();
  EXPECT_TRUE(tps.count("front_desk"));

  auto es2 = h.find("es2");
  ASSERT_TRUE(es2);
  EXPECT_EQ(es2->review.text,
            "La oficina de facturación me cobró dos veces y nunca me devolvieron la llamada.");
  EXPECT_TRUE(es2->analysis.on_translation);
  EXPECT_LT(es2->analysis.score, 0);
  tps.clear();
  for (const auto& t : es2->analysis.touchpoints) tps.insert(t.touchpoint);
  EXPECT_TRUE(tps.count("billing"));

  // An English review without a translation is analysed as it is.
  auto r1 = h.find("r1");
  EXPECT_FALSE(r1->analysis.on_translation);
  EXPECT_EQ(r1->analysis.language, "en");
}

// A full sweep that pages to the end lists every review of the location: one missing from it
// was deleted at Google and is marked removed (kept, with its history); it comes back when a
// later sweep lists it again.
TEST_F(GoogleBusiness, AFullSweepMarksDeletedReviewsRemovedAndRestoresReturningOnes) {
  SourceHarness h(std::string(kRefreshSource) + "full_sweep_interval = \"0s\"\n");
  auto first = h.poll();
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.removed, 0);
  EXPECT_EQ(h.find("r2")->removed_at, std::nullopt);

  auto items = base_reviews();
  items.erase(items.begin() + 3);  // r4
  items.erase(items.begin() + 1);  // r2
  seed(items);
  auto second = h.poll();
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.removed, 2);
  EXPECT_EQ(h.count(), 7);  // kept
  EXPECT_EQ(h.store().count_reviews("src"), 5);
  ASSERT_TRUE(h.find("r2")->removed_at);
  EXPECT_TRUE(h.find("r4")->removed_at);
  EXPECT_FALSE(h.find("r1")->removed_at);

  auto third = h.poll();  // still missing: nothing new to mark
  ASSERT_TRUE(third.ok);
  EXPECT_EQ(third.removed, 0);

  seed();  // r2 and r4 are back
  auto fourth = h.poll();
  ASSERT_TRUE(fourth.ok) << fourth.error;
  EXPECT_EQ(fourth.restored, 2);
  EXPECT_EQ(fourth.removed, 0);
  EXPECT_FALSE(h.find("r2")->removed_at);
  EXPECT_EQ(h.store().count_reviews("src"), 7);
}

// Only a whole listing removes: an incremental poll, a sweep cut short by max_pages or a
// repeated page token, a sweep with a record it could not read, and detect_removals = false
// never do.
TEST_F(GoogleBusiness, PartialListingsNeverRemove) {
  auto without_r7 = base_reviews();
  without_r7.pop_back();
  // Full sweeps once a day (the poll after the first is incremental), or every poll but cut
  // short or with detection off.
  for (const std::string& source :
       {std::string(kRefreshSource),
        std::string(kRefreshSource) + "full_sweep_interval = \"0s\"\nmax_pages = 3\n",
        std::string(kRefreshSource) + "full_sweep_interval = \"0s\"\ndetect_removals = false\n"}) {
    SCOPED_TRACE(source);
    seed();
    SourceHarness h(source);
    ASSERT_TRUE(h.poll().ok);
    seed(without_r7);
    auto out = h.poll();
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.removed, 0);
    EXPECT_FALSE(h.find("r7")->removed_at);
  }
  {
    seed();
    SourceHarness h(std::string(kRefreshSource) + "full_sweep_interval = \"0s\"\n");
    ASSERT_TRUE(h.poll().ok);
    auto items = without_r7;
    items.push_back(R"({"reviewer": {"displayName": "no id"}, "starRating": "ONE",
                        "createTime": "2025-01-01T00:00:00Z"})");
    seed(items);
    auto out = h.poll();
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.problems.size(), 1u);
    EXPECT_EQ(out.removed, 0);
    EXPECT_FALSE(h.find("r7")->removed_at);
  }
  {
    seed();
    server().data("gbp", kKey, array(base_reviews()), R"({"repeat_token": true})");
    SourceHarness h(std::string(kRefreshSource) + "full_sweep_interval = \"0s\"\n");
    auto first = h.poll();
    ASSERT_TRUE(first.ok);
    auto out = h.poll();
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.removed, 0);
    EXPECT_EQ(h.store().count_reviews("src"), first.inserted);
  }
}

TEST(GoogleBusinessConfig, Validation) {
  auto error = [](const std::string& toml) {
    try {
      SourceHarness h(toml);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("type = \"google_business\"\nbusiness_location_id = \"2\"\naccess_token = "
                  "\"t\"\n")
                .find("account_id"),
            std::string::npos);
  EXPECT_NE(error("type = \"google_business\"\naccount_id = \"1\"\nbusiness_location_id = "
                  "\"2\"\n")
                .find("refresh_token"),
            std::string::npos);
  EXPECT_NE(error("type = \"google_business\"\naccount_id = \"1\"\nbusiness_location_id = "
                  "\"2\"\naccess_token = \"t\"\npage_sise = 5\n")
                .find("page_sise"),
            std::string::npos);
  EXPECT_NE(error("type = \"google_business\"\naccount_id = \"1\"\nbusiness_location_id = "
                  "\"2\"\naccess_token = \"t\"\npage_size = 500\n")
                .find("between 1 and 50"),
            std::string::npos);
  EXPECT_NE(error("type = \"google_business\"\naccount_id = \"accounts/1\"\n"
                  "business_location_id = \"2\"\naccess_token = \"t\"\n")
                .find("bare id"),
            std::string::npos);
  EXPECT_NE(error("type = \"google_business\"\naccount_id = \"1\"\nbusiness_location_id = "
                  "\"2\"\naccess_token = \"t\"\nbase_url = \"ftp://x\"\n")
                .find("http"),
            std::string::npos);
}

TEST(GoogleTranslation, SplitsBothLayouts) {
  using connectors::split_google_translation;
  auto a = split_google_translation("Sehr gut\n\n(Translated by Google)\nVery good");
  EXPECT_EQ(a.original, "Sehr gut");
  EXPECT_EQ(a.translation, "Very good");
  auto b = split_google_translation("(Translated by Google) Very good\n\n(Original)\nSehr gut");
  EXPECT_EQ(b.original, "Sehr gut");
  EXPECT_EQ(b.translation, "Very good");
  auto c = split_google_translation("Plain text (no markers) 😀");
  EXPECT_EQ(c.original, "Plain text (no markers) 😀");
  EXPECT_EQ(c.translation, "");
  auto d = split_google_translation("(Translated by Google) Only a translation");
  EXPECT_EQ(d.original, "Only a translation");
  EXPECT_EQ(d.translation, "");
  EXPECT_EQ(split_google_translation("").original, "");
}
