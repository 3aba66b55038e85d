// What each connector says a person should do when its source fails (SourceError::advice,
// kept in the poll state for the source_health alert and `repwatch sources`), against the
// fixture server's API-shaped answers: true to each API's behaviour (shared/api-notes.md) and
// naming the very file a renewed credential goes into. Also: the permanent "unavailable"
// answers, and the problems of a poll (page cap, skipped records) kept as warnings.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "alerts/engine.h"
#include "alerts/rules.h"
#include "core/time.h"
#include "tests/fixtures/http/connector_harness.h"

using namespace repwatch;
using namespace repwatch::testing;

REPWATCH_FIXTURE_SERVER_ENV();

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A secret file outside the harness's directory, as /etc/repwatch/... would be.
class SecretFile {
 public:
  SecretFile(const std::string& name, const std::string& value) {
    path_ = dir_.path() / name;
    std::ofstream(path_) << value << "\n";
    ::chmod(path_.c_str(), 0600);
  }
  std::string path() const { return path_.string(); }

 private:
  TempDir dir_;
  std::filesystem::path path_;
};

const char* kRating =
    R"({"created_time": "2025-03-01T10:00:00+0000", "recommendation_type": "positive",
        "has_rating": true, "has_review": true, "review_text": "Kind nurses.",
        "reviewer": {"name": "A", "id": "1"}, "open_graph_story": {"id": "s1"}})";

std::string facebook(const std::string& token_file, const std::string& version = "v19.0") {
  return "type = \"facebook\"\npage_id = \"PAGE1\"\naccess_token_file = \"" + token_file +
         "\"\napi_version = \"" + version + "\"\nbase_url = \"{base}\"\npage_size = 2\n";
}

class Health : public ::testing::Test {
 protected:
  void SetUp() override { server().reset(); }
};

}  // namespace

TEST_F(Health, AnExpiredFacebookTokenSaysWhereTheNewOneGoes) {
  SecretFile token("facebook-page-token", "EAAGold");
  server().data("facebook", "PAGE1", std::string("[") + kRating + "]");
  server().auth("facebook", "EAAGnew");  // the token repwatch has expired
  SourceHarness h(facebook(token.path()));
  EXPECT_FALSE(h.poll().ok);
  ASSERT_TRUE(h.last_error());
  EXPECT_EQ(h.last_error()->kind(), SourceError::Kind::kAuth);
  const std::string advice = h.state().advice;
  EXPECT_TRUE(has(advice,
                  "The Facebook Page access token has expired: create a new long-lived "
                  "Page access token"))
      << advice;
  EXPECT_TRUE(has(advice, "pages_read_user_content")) << advice;
  EXPECT_TRUE(has(advice, "put it in " + token.path() + " (this source's access_token_file)"))
      << advice;
  EXPECT_TRUE(has(advice, "sudo systemctl reload repwatchd): it tries this source again at once"))
      << advice;
  EXPECT_FALSE(has(advice, "EAAG")) << "never a secret";
  EXPECT_TRUE(h.state().needs_attention);
}

TEST_F(Health, FacebookError12IsUnavailableAndItsAdviceIsTrue) {
  SecretFile token("facebook-page-token", "EAAGok");
  server().data("facebook", "PAGE1", std::string("[") + kRating + "]");
  server().auth("facebook", "EAAGok");
  {
    // v22.0 and later: the edge is deprecated there; an older version still serves it.
    SourceHarness h(facebook(token.path(), "v22.0"));
    EXPECT_FALSE(h.poll().ok);
    EXPECT_EQ(h.last_error()->kind(), SourceError::Kind::kUnavailable);
    auto st = h.state();
    EXPECT_EQ(st.last_error_kind, SourceError::Kind::kUnavailable);
    EXPECT_FALSE(st.needs_attention);
    EXPECT_TRUE(has(st.last_error, "Graph API error 12")) << st.last_error;
    EXPECT_TRUE(has(st.advice,
                    "this source asks with v22.0: set api_version = \"v21.0\" in the "
                    "[[sources]] entry \"src\""))
        << st.advice;
  }
  {
    // Already older, and Facebook still answers 12 (a retired version is answered as a newer
    // one): telling to set an older version would be false.
    server().fault(R"({"match": "/ratings", "kind": "status", "status": 400, "times": -1,
        "body": "{\"error\": {\"message\": \"(#12) ratings field is deprecated for versions v22.0 and higher\", \"type\": \"OAuthException\", \"code\": 12}}"})");
    SourceHarness h(facebook(token.path(), "v19.0"));
    EXPECT_FALSE(h.poll().ok);
    EXPECT_EQ(h.last_error()->kind(), SourceError::Kind::kUnavailable);
    const std::string advice = h.state().advice;
    EXPECT_FALSE(has(advice, "set api_version")) << advice;
    EXPECT_TRUE(has(advice, "not even to Graph API v19.0")) << advice;
    EXPECT_TRUE(has(advice, "enabled = false")) << advice;
    EXPECT_TRUE(has(advice, "once a day")) << advice;
  }
}

TEST_F(Health, FacebookPermissionAndUnknownPage) {
  SecretFile token("facebook-page-token", "EAAGok");
  server().auth("facebook", "EAAGok");
  server().data("facebook", "PAGE1", "[]");
  server().fault(R"({"match": "/ratings", "kind": "status", "status": 403,
      "body": "{\"error\": {\"message\": \"(#283) Requires pages_read_user_content permission\", \"type\": \"OAuthException\", \"code\": 283}}"})");
  SourceHarness h(facebook(token.path()));
  EXPECT_FALSE(h.poll().ok);
  EXPECT_EQ(h.last_error()->kind(), SourceError::Kind::kAuth);
  EXPECT_TRUE(has(h.state().advice, "a parent Page's token does not work")) << h.state().advice;

  server().clear_faults();
  SourceHarness other(replace_all(facebook(token.path()), "PAGE1", "NOPAGE"));
  EXPECT_FALSE(other.poll().ok);  // the fixture answers (#803) for an unknown alias
  EXPECT_EQ(other.last_error()->kind(), SourceError::Kind::kConfig);
  EXPECT_TRUE(has(other.state().advice,
                  "Facebook does not know the Page \"NOPAGE\" (error 803): "
                  "correct page_id"))
      << other.state().advice;
}

TEST_F(Health, YelpBusinessUnavailableIsUnavailableWithLocaleAdvice) {
  SecretFile key("yelp-key", "yelp-secret");
  server().auth("yelp", "yelp-secret");
  server().data("yelp", "clinic-sf", "[]");
  const std::string source = "type = \"yelp\"\nbusiness_id = \"clinic-sf\"\napi_key_file = \"" +
                             key.path() + "\"\nlocales = [\"en_US\"]\nbase_url = \"{base}\"\n";
  for (
      const char* body :
      {R"({\"error\": {\"code\": \"BUSINESS_UNAVAILABLE\", \"description\": \"We may not be able to provide details for certain businesses, for example if they do not have any reviews yet.\"}})",
       // Yelp/yelp-fusion#66: nested as a string inside a VALIDATION_ERROR.
       R"({\"error\": {\"code\": \"VALIDATION_ERROR\", \"description\": \"{'code': 'BUSINESS_UNAVAILABLE', 'description': 'We may not be able to provide details for certain businesses.'}\"}})"}) {
    SCOPED_TRACE(body);
    server().clear_faults();
    server().fault(
        std::string(
            R"({"match": "/v3/", "kind": "status", "status": 400, "times": -1, "body": ")") +
        body + "\"}");
    SourceHarness h(source);
    EXPECT_FALSE(h.poll().ok);
    EXPECT_EQ(h.last_error()->kind(), SourceError::Kind::kUnavailable);
    auto st = h.state();
    EXPECT_EQ(st.last_error_kind, SourceError::Kind::kUnavailable);
    EXPECT_TRUE(has(st.advice, "Yelp does not provide the reviews of \"clinic-sf\"")) << st.advice;
    EXPECT_TRUE(has(st.advice, "without reviews in the languages asked for (en_US)")) << st.advice;
    EXPECT_TRUE(has(st.advice, "add that locale (e.g. \"es_US\") to locales")) << st.advice;
  }
  // A refused key names where the new one goes.
  server().clear_faults();
  server().auth("yelp", "another");
  SourceHarness h(source);
  EXPECT_FALSE(h.poll().ok);
  EXPECT_EQ(h.last_error()->kind(), SourceError::Kind::kAuth);
  EXPECT_TRUE(has(h.state().advice,
                  "Yelp refused the API key (UNAUTHORIZED_ACCESS_TOKEN): "
                  "create a new key"))
      << h.state().advice;
  EXPECT_TRUE(has(h.state().advice, "put it in " + key.path())) << h.state().advice;
}

TEST_F(Health, GoogleSaysWhatToRenew) {
  // Places: a key Google refuses.
  server().auth("places", "AIzaGood");
  server().data("places", "PLACE1", "[]");
  ::setenv("RW_TEST_PLACES_KEY", "AIzaBad", 1);
  SourceHarness refused(
      "type = \"google_places\"\nplace_id = \"PLACE1\"\napi_key_env = \"RW_TEST_PLACES_KEY\"\n"
      "base_url = \"{base}\"\n");
  EXPECT_FALSE(refused.poll().ok);
  EXPECT_EQ(refused.last_error()->kind(), SourceError::Kind::kAuth);
  EXPECT_TRUE(has(refused.state().advice, "Google refused the API key (API_KEY_INVALID)"))
      << refused.state().advice;
  EXPECT_TRUE(has(refused.state().advice,
                  "set it in the environment variable RW_TEST_PLACES_KEY of repwatchd"))
      << refused.state().advice;
  EXPECT_TRUE(has(refused.state().advice, "sudo systemctl restart repwatchd"))
      << "an environment variable needs a restart: " << refused.state().advice;
  ::unsetenv("RW_TEST_PLACES_KEY");

  // Business Profile: a revoked refresh token (invalid_grant).
  SecretFile refresh("google-refresh-token", "1//revoked");
  server().data("gbp", "accounts/111/locations/222", "[]");
  server().auth("gbp", "ya29.valid");
  server().control("oauth", R"({"client_id": "cid", "client_secret": "csecret-health",
      "refresh_token": "1//current", "access_token": "ya29.valid"})");
  SourceHarness gbp(
      "type = \"google_business\"\naccount_id = \"111\"\n"
      "business_location_id = \"222\"\nclient_id = \"cid\"\nclient_secret = "
      "\"csecret-health\"\nrefresh_token_file = \"" +
      refresh.path() + "\"\ntoken_endpoint = \"{base}/token\"\nbase_url = \"{base}\"\n");
  EXPECT_FALSE(gbp.poll().ok);
  EXPECT_EQ(gbp.last_error()->kind(), SourceError::Kind::kAuth);
  const std::string advice = gbp.state().advice;
  EXPECT_TRUE(has(advice, "Google refused the refresh token (invalid_grant)")) << advice;
  EXPECT_TRUE(has(advice, "Authorize repwatch again")) << advice;
  EXPECT_TRUE(has(advice, "put it in " + refresh.path() + " (this source's refresh_token_file)"))
      << advice;
  EXPECT_FALSE(has(advice, "1//")) << "never a secret";
}

TEST_F(Health, FeedAndFileAdvice) {
  server().data("json", "clinic", "[]");
  server().auth("json", "right");
  SourceHarness feed(
      "type = \"json_http\"\nurl = \"{base}/feed/clinic\"\ntoken = \"wrong\"\n"
      "token_header = \"X-Api-Key\"\nreviews_pointer = \"/data/reviews\"\n"
      "[sources.fields]\nexternal_id = \"/id\"\ncreated_at = \"/created\"\n");
  EXPECT_FALSE(feed.poll().ok);
  EXPECT_TRUE(has(feed.state().advice, "The review feed refused repwatch's credential (HTTP 401)"))
      << feed.state().advice;
  EXPECT_TRUE(has(feed.state().advice, "write it as token in the [[sources]] entry \"src\""))
      << feed.state().advice;

  SourceHarness file("type = \"file\"\npath = \"/nonexistent/exports\"\n");
  EXPECT_FALSE(file.poll().ok);
  EXPECT_EQ(file.last_error()->kind(), SourceError::Kind::kConfig);
  EXPECT_TRUE(file.state().needs_attention);
  EXPECT_TRUE(has(file.state().advice, "/nonexistent/exports")) << file.state().advice;
  EXPECT_TRUE(has(file.state().advice, "mounted")) << file.state().advice;
}

TEST_F(Health, APageCapIsKeptAsAWarning) {
  SecretFile token("facebook-page-token", "EAAGok");
  std::string items = "[";
  for (int i = 0; i < 5; ++i)
    items += std::string(i ? "," : "") +
             replace_all(kRating, "\"s1\"", "\"s" + std::to_string(i) + "\"");
  items += "]";
  server().data("facebook", "PAGE1", items);
  server().auth("facebook", "EAAGok");
  SourceHarness h(facebook(token.path()) + "max_pages = 1\n");
  auto out = h.poll();
  ASSERT_TRUE(out.ok) << out.error;
  auto st = h.state();
  ASSERT_EQ(st.warning_count, 1);
  EXPECT_TRUE(has(st.warnings[0].message, "stopped after max_pages (1) pages"))
      << st.warnings[0].message;
  EXPECT_TRUE(st.warnings_at);
}

TEST_F(Health, GoogleApiDisabledOrAccessNotGranted) {
  // Places: the key's project does not have the API enabled.
  server().auth("places", "AIzaGood");
  server().data("places", "PLACE1", "[]");
  server().fault(R"({"match": "/v1/places", "kind": "status", "status": 403,
      "body": "{\"error\": {\"code\": 403, \"message\": \"Places API (New) has not been used in project 123 before or it is disabled.\", \"status\": \"PERMISSION_DENIED\", \"details\": [{\"@type\": \"type.googleapis.com/google.rpc.ErrorInfo\", \"reason\": \"SERVICE_DISABLED\", \"domain\": \"googleapis.com\"}]}}"})");
  SourceHarness places(
      "type = \"google_places\"\nplace_id = \"PLACE1\"\napi_key = \"AIzaGood\"\n"
      "base_url = \"{base}\"\n");
  EXPECT_FALSE(places.poll().ok);
  EXPECT_EQ(places.last_error()->kind(), SourceError::Kind::kAuth);
  EXPECT_TRUE(has(places.state().advice,
                  "enable \"Places API (New)\" in the key's Google Cloud "
                  "project"))
      << places.state().advice;

  // Business Profile: the account may not manage the location.
  server().clear_faults();
  server().data("gbp", "accounts/111/locations/222", "[]");
  server().auth("gbp", "ya29.valid");
  server().fault(R"({"match": "/v4/", "kind": "status", "status": 403, "times": -1,
      "body": "{\"error\": {\"code\": 403, \"message\": \"The caller does not have permission\", \"status\": \"PERMISSION_DENIED\"}}"})");
  SecretFile access("google-access-token", "ya29.valid");
  SourceHarness gbp(
      "type = \"google_business\"\naccount_id = \"111\"\n"
      "business_location_id = \"222\"\naccess_token_file = \"" +
      access.path() + "\"\nbase_url = \"{base}\"\n");
  EXPECT_FALSE(gbp.poll().ok);
  EXPECT_EQ(gbp.last_error()->kind(), SourceError::Kind::kAuth);
  EXPECT_TRUE(has(gbp.state().advice, "must be an owner or manager of the location"))
      << gbp.state().advice;

  // ... or the authorization lacks the Business Profile scope.
  server().clear_faults();
  server().fault(R"({"match": "/v4/", "kind": "status", "status": 403, "times": -1,
      "body": "{\"error\": {\"code\": 403, \"message\": \"Request had insufficient authentication scopes.\", \"status\": \"PERMISSION_DENIED\", \"details\": [{\"@type\": \"type.googleapis.com/google.rpc.ErrorInfo\", \"reason\": \"ACCESS_TOKEN_SCOPE_INSUFFICIENT\"}]}}"})");
  EXPECT_FALSE(gbp.poll().ok);
  EXPECT_TRUE(has(gbp.state().advice, "https://www.googleapis.com/auth/business.manage"))
      << gbp.state().advice;
}

// A feed that keeps answering but brings nothing new for longer than its rhythm allows is
// "quiet" (once), and its next new review ends that (once): through the real connector and
// store_poll() with the source_health hook, on a clock the test sets.
TEST_F(Health, AFeedThatGoesQuietIsToldOnceAndItsReturnToo) {
  constexpr int64_t kDay = 86400;
  const int64_t t0 = now_seconds();
  auto feed = [&](int n) {
    std::string items = "[";
    for (int i = 0; i < n; ++i)
      items += std::string(i ? "," : "") + R"({"id": "r)" + std::to_string(i) +
               R"(", "created": )" + std::to_string(t0 - (20 - i) * kDay) +
               R"(, "stars": 5, "text": "Kind staff."})";
    server().data("json", "clinic", items + "]", R"({"per_page": 50})");
  };
  feed(20);  // a review a day for 20 days
  SourceHarness h(
      "type = \"json_http\"\nurl = \"{base}/feed/clinic\"\nreviews_pointer = \"/data/reviews\"\n"
      "next_pointer = \"/meta/next\"\n"
      "[sources.fields]\nexternal_id = \"/id\"\ncreated_at = \"/created\"\nrating = \"/stars\"\n"
      "text = \"/text\"\n");
  Config config = parse_config(
      "state_dir = \"" + h.dir().string() +
          "\"\n[[locations]]\nid = \"downtown\"\n[[sources]]\nid = \"src\"\ntype = \"file\"\n"
          "location = \"downtown\"\npath = \"/tmp\"\n[alerts]\nmanagers = "
          "\"boss@clinic.example\"\n",
      h.dir() / "alerts.toml");
  alerts::AlertEngine engine(alerts::load_alerts_config(config, {}), h.store().database());
  auto poll_at = [&](int64_t now) {
    pipeline::Fetched f =
        pipeline::fetch_and_score(h.connector(), h.source(), h.state().cursor, analyzer());
    return pipeline::store_poll(h.store(), h.source(), std::move(f), nullptr, now, now + 900,
                                engine.poll_hook());
  };
  auto quiet_alerts = [&] {
    db::Statement st = h.store().database().prepare(
        "SELECT dedupe_key FROM alerts WHERE kind = 'source_health' ORDER BY id");
    std::vector<std::string> keys;
    while (st.step()) keys.push_back(st.column_text(0));
    return keys;
  };
  auto p = poll_at(t0);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.inserted, 20);
  EXPECT_EQ(poll_at(t0 + 6 * kDay).health_alerts, 0) << "6 days without a review: usual enough";
  EXPECT_EQ(poll_at(t0 + 8 * kDay).health_alerts, 1);
  EXPECT_EQ(poll_at(t0 + 9 * kDay).health_alerts, 0);
  EXPECT_EQ(quiet_alerts(),
            std::vector<std::string>{"source_health:src:quiet:" + std::to_string(t0)});
  feed(21);  // one more arrives
  EXPECT_EQ(poll_at(t0 + 10 * kDay).health_alerts, 1);
  EXPECT_EQ(quiet_alerts().back(), "source_health:src:recovered-quiet:" + std::to_string(t0));
}
