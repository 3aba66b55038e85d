#include "connectors/google_business.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <limits>
#include <set>

#include "connectors/http_source.h"
#include "core/text.h"
#include "core/time.h"

namespace repwatch::connectors {

namespace {

std::optional<double> star_rating(const std::string& e) {
  if (e == "ONE") return 1;
  if (e == "TWO") return 2;
  if (e == "THREE") return 3;
  if (e == "FOUR") return 4;
  if (e == "FIVE") return 5;
  return std::nullopt;
}

class GoogleBusiness : public HttpSource {
 public:
  GoogleBusiness(const SourceConfig& source, const Config& config)
      : HttpSource(source, config), settings_(source.settings) {
    const Settings& s = settings_;
    reject_unknown(s, allowed_keys({"account_id", "business_location_id", "client_id",
                                    "token_endpoint", "base_url", "page_size", "max_pages",
                                    "safety_margin", "full_sweep_interval", "detect_removals"},
                                   {"client_secret", "refresh_token", "access_token"}));
    account_ = s.require_string("account_id");
    location_ = s.require_string("business_location_id");
    for (const auto& [key, value] :
         {std::pair{"account_id", account_}, std::pair{"business_location_id", location_}})
      if (value.empty() || value.find('/') != std::string::npos)
        s.fail(key, "expected the bare id (digits), not a resource name");
    base_url_ = base_url_setting(s, "base_url", "https://mybusiness.googleapis.com");
    token_endpoint_ = base_url_setting(s, "token_endpoint", "https://oauth2.googleapis.com/token");
    if (auto refresh = s.secret("refresh_token")) {
      refresh_token_ = *refresh;
      client_id_ = s.require_string("client_id");
      auto secret = s.secret("client_secret");
      if (!secret) s.fail("client_secret", "required with refresh_token (or client_secret_file)");
      client_secret_ = *secret;
      add_secret(refresh_token_);
      add_secret(client_secret_);
      use_refresh_ = true;
    } else if (!s.secret("access_token")) {
      s.fail("refresh_token",
             "set refresh_token (with client_id and client_secret) or access_token_file");
    }
    window_ = PagedWindow(s, 50, 50);
    detect_removals_ = s.boolean("detect_removals").value_or(true);
  }

  FetchResult fetch(const std::string& cursor) override {
    rapidjson::Document cur = parse_cursor(cursor, source_id());
    std::optional<int64_t> watermark = get_int(cur, "updated");
    int64_t full_at = get_int(cur, "full_at").value_or(0);
    const int64_t now = now_seconds();
    const auto [full, threshold] = window_.plan(watermark, full_at, now);

    Session session(*this);
    std::string token = access_token(session, false);
    FetchResult out;
    std::set<std::string> ids;
    std::set<std::string> seen_tokens;
    int64_t newest = watermark.value_or(0);
    std::string page_token;
    bool auth_retried = false;
    bool to_the_end = false;  // paging stopped because the list ended
    const std::string list_url = base_url_ + "/v4/accounts/" + net::url_encode(account_) +
                                 "/locations/" + net::url_encode(location_) + "/reviews";
    for (int page = 1;; ++page) {
      std::string url = net::add_query(list_url, "pageSize", std::to_string(window_.page_size));
      url = net::add_query(url, "orderBy", "updateTime desc");
      if (!page_token.empty()) url = net::add_query(url, "pageToken", page_token);
      net::Request req(url);
      req.headers.push_back({"Authorization", "Bearer " + token});
      req.headers.push_back({"Accept", "application/json"});
      const std::string what = "reviews page " + std::to_string(page);
      net::Response res = session.send(req);
      if (res.status == 401 && !auth_retried) {
        // Expired or revoked: refresh once (or re-read the token file) and try again.
        auth_retried = true;
        token = access_token(session, true);
        --page;
        continue;
      }
      if (!res.ok()) throw with_advice(session, res, what);
      rapidjson::Document doc = parse_body(session, res, what);
      if (!doc.IsObject())
        throw SourceError(SourceError::Kind::kGarbage, what + ": expected a JSON object");
      bool reached_old = false;
      if (doc.HasMember("reviews")) {
        const auto* reviews = get_array(doc, "reviews");
        if (!reviews)
          throw SourceError(SourceError::Kind::kGarbage, what + ": \"reviews\" is not an array");
        for (rapidjson::SizeType i = 0; i < reviews->Size(); ++i) {
          std::string where =
              "page " + std::to_string(page) + ", reviews[" + std::to_string(i) + "]";
          std::string problem;
          auto review = parse_review((*reviews)[i], problem);
          if (!review || echoes_secret(*review, problem)) {
            out.problems.push_back({where, problem});
            continue;
          }
          if (review->updated_at < threshold) {
            reached_old = true;
            continue;
          }
          newest = std::max(newest, review->updated_at);
          if (ids.insert(review->external_id).second) out.reviews.push_back(std::move(*review));
        }
      }
      auto next = get_string(doc, "nextPageToken");
      if (!next || next->empty()) to_the_end = true;
      if (reached_old || !next || next->empty()) break;
      if (!seen_tokens.insert(*next).second) {
        out.problems.push_back({"page " + std::to_string(page),
                                "nextPageToken repeats an earlier one; stopped paging"});
        break;
      }
      if (page >= window_.max_pages) {
        out.problems.push_back({"page " + std::to_string(page),
                                "stopped after max_pages (" + std::to_string(window_.max_pages) +
                                    ") pages; older reviews were not read"});
        break;
      }
      page_token = *next;
    }

    rapidjson::Document c;
    c.SetObject();
    auto& a = c.GetAllocator();
    c.AddMember("v", 1, a);
    c.AddMember("updated", newest, a);
    c.AddMember("full_at", full ? now : full_at, a);
    out.cursor = to_json(c);
    // A full sweep read to the last page lists every review of the location: one missing from
    // it was deleted (Google sends no notice of deletions).
    out.complete = detect_removals_ && full && to_the_end && out.problems.empty();
    spdlog::debug("{}: {} review(s) {} ({} problem(s))", context(), out.reviews.size(),
                  full ? "in a full sweep" : "since the watermark", out.problems.size());
    return out;
  }

 private:
  std::optional<Review> parse_review(const rapidjson::Value& v, std::string& problem) const {
    if (!v.IsObject()) {
      problem = "not a JSON object";
      return std::nullopt;
    }
    Review r;
    r.source_id = source_id();
    r.location_id = location_id_;
    r.scale = RatingScale::stars();
    auto id = get_string(v, "reviewId");
    if (!id || id->empty()) {
      if (auto name = get_string(v, "name")) {
        auto slash = name->rfind('/');
        if (slash != std::string::npos) id = name->substr(slash + 1);
      }
    }
    if (!id || id->empty()) {
      problem = "no reviewId";
      return std::nullopt;
    }
    r.external_id = clean_text(*id);
    if (const auto* reviewer = get_object(v, "reviewer"))
      r.author = clean_text(get_string(*reviewer, "displayName").value_or(""));
    if (auto star = get_string(v, "starRating")) {
      r.raw_rating = star_rating(*star);
      if (!r.raw_rating && *star != "STAR_RATING_UNSPECIFIED")
        spdlog::warn("{}: review {}: unknown starRating \"{}\"; stored without a rating", context(),
                     r.external_id, clean_text(*star));
    }
    SplitText text = split_google_translation(clean_text(get_string(v, "comment").value_or("")));
    r.text = std::move(text.original);
    r.translated_text = std::move(text.translation);
    auto created = get_string(v, "createTime");
    auto updated = get_string(v, "updateTime");
    auto created_at = created ? parse_timestamp(*created) : std::nullopt;
    auto updated_at = updated ? parse_timestamp(*updated) : std::nullopt;
    if (!created_at && !updated_at) {
      problem = "no valid createTime or updateTime";
      return std::nullopt;
    }
    r.created_at = created_at ? *created_at : *updated_at;
    r.updated_at = updated_at ? *updated_at : r.created_at;
    if (const auto* reply = get_object(v, "reviewReply")) {
      SplitText rt =
          split_google_translation(clean_text(get_string(*reply, "comment").value_or("")));
      r.reply_text = std::move(rt.original);
      if (auto t = get_string(*reply, "updateTime")) r.reply_at = parse_timestamp(*t);
    }
    return r;
  }

  // google_error() with what a person should do about it.
  SourceError with_advice(Session& session, const net::Response& res, const std::string& what) {
    std::string reason;
    SourceError e = google_error(session, res, what, &reason);
    std::string advice;
    if (reason == "SERVICE_DISABLED") {
      advice =
          "The Google Business Profile API (\"Google My Business API\") is not enabled in "
          "the Google Cloud project of repwatch's OAuth client: enable it there (APIs & "
          "Services, Library). repwatch tries again on its own within the hour.";
    } else if (reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT") {
      advice =
          "The authorization repwatch has does not include Business Profile access: "
          "authorize repwatch again with the scope "
          "https://www.googleapis.com/auth/business.manage, and " +
          (use_refresh_ ? renew_advice("refresh_token")
                        : std::string("have the tool that keeps access_token_file fresh "
                                      "use that scope; repwatch reads the file again at "
                                      "every poll."));
    } else if (res.status == 401 && !use_refresh_) {
      advice =
          "Google no longer accepts the access token that repwatch reads from this "
          "source's access_token_file: the tool that keeps that file fresh has stopped. "
          "Restart it; repwatch reads the file again at every poll.";
    } else if (res.status == 401) {
      advice =
          "Google refused repwatch's freshly refreshed access token: the authorization of "
          "repwatch's OAuth client was withdrawn. Authorize repwatch again with the Google "
          "account that manages this location and " +
          renew_advice("refresh_token");
    } else if (res.status == 403) {
      advice =
          "Google refused access to this location: the Google account that authorized "
          "repwatch must be an owner or manager of the location in Business Profile, and "
          "Google must have approved the Cloud project's access to the Business Profile "
          "APIs (until then its quota is 0). Once that is so, repwatch tries again on its "
          "own within the hour.";
    } else if (res.status == 404) {
      advice = "Google does not know this location: " +
               settings_advice(
                   "account_id and business_location_id (the location must be "
                   "verified in Business Profile)");
    }
    e.advise(session.client().scrub(advice));
    return e;
  }

  std::string access_token(Session& session, bool force) {
    if (!use_refresh_) {
      std::optional<std::string> raw;
      try {
        raw = settings_.secret("access_token");
      } catch (const ConfigError& e) {
        throw SourceError(SourceError::Kind::kConfig, e.what());
      }
      std::string token(trim(raw.value_or("")));
      if (!token.empty() && token.front() == '{') {
        rapidjson::Document d;
        d.Parse<rapidjson::kParseIterativeFlag>(token.c_str());
        token = d.HasParseError() ? "" : trim(get_string(d, "access_token").value_or(""));
      }
      if (token.empty())
        throw SourceError(SourceError::Kind::kAuth, "the access token (access_token_file) is empty")
            .advise(
                "The file this source's access_token_file names holds no access token: the "
                "tool that keeps it fresh has stopped. Restart it; repwatch reads the file "
                "again at every poll.");
      session.client().add_secret(token);
      return token;
    }
    auto now = std::chrono::steady_clock::now();
    if (!force && !cached_token_.empty() && now < token_expiry_) {
      session.client().add_secret(cached_token_);
      return cached_token_;
    }
    net::Request req(token_endpoint_);
    req.method = "POST";
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    req.headers.push_back({"Accept", "application/json"});
    req.body = net::form_encode({{"grant_type", "refresh_token"},
                                 {"client_id", client_id_},
                                 {"client_secret", client_secret_},
                                 {"refresh_token", refresh_token_}});
    const std::string what = "token refresh at " + net::redact_url(token_endpoint_);
    net::Response res = session.send(req);
    if (!res.ok()) {
      rapidjson::Document d = error_body(res);
      std::string message;
      if (auto e = get_string(d, "error")) message = *e;
      if (auto e = get_string(d, "error_description"))
        message += (message.empty() ? "" : ": ") + *e;
      SourceError base = net::status_error(res, clean_text(message), what);
      // The token endpoint answers 400 invalid_grant for a revoked refresh token.
      auto kind = res.status == 400 || res.status == 401 || res.status == 403
                      ? SourceError::Kind::kAuth
                      : base.kind();
      std::string advice;
      if (message.rfind("invalid_grant", 0) == 0)
        advice =
            "Google refused the refresh token (invalid_grant): it was revoked, or it "
            "expired (Google expires the refresh tokens of OAuth apps still in testing "
            "after 7 days). Authorize repwatch again with the Google account that manages "
            "this location to get a new refresh token, and " +
            renew_advice("refresh_token");
      else if (message.rfind("invalid_client", 0) == 0 ||
               message.rfind("unauthorized_client", 0) == 0)
        advice =
            "Google refused repwatch's OAuth client (client_id or client_secret): copy "
            "them again from the Google Cloud Console (APIs & Services, Credentials); put "
            "the secret as follows: " +
            renew_advice("client_secret");
      throw SourceError(kind, session.client().scrub(base.what()), res.retry_after_seconds)
          .advise(session.client().scrub(advice));
    }
    rapidjson::Document d = parse_body(session, res, what);
    auto token = get_string(d, "access_token");
    if (!token || token->empty())
      throw SourceError(SourceError::Kind::kGarbage, what + ": no access_token in the answer");
    int64_t expires_in = get_int(d, "expires_in").value_or(3600);
    cached_token_ = *token;
    token_expiry_ = now + std::chrono::seconds(std::max<int64_t>(0, expires_in - 60));
    session.client().add_secret(cached_token_);
    return cached_token_;
  }

  Settings settings_;
  std::string account_, location_, base_url_, token_endpoint_;
  bool use_refresh_ = false;
  std::string client_id_, client_secret_, refresh_token_;
  std::string cached_token_;
  std::chrono::steady_clock::time_point token_expiry_{};
  PagedWindow window_;  // page_size, max_pages, safety margin, full sweeps
  bool detect_removals_ = true;
};

}  // namespace

SplitText split_google_translation(std::string_view comment) {
  static constexpr std::string_view kTranslated = "(Translated by Google)";
  static constexpr std::string_view kOriginal = "(Original)";
  std::string_view s = comment;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  if (s.substr(0, kTranslated.size()) == kTranslated) {
    std::string_view rest = s.substr(kTranslated.size());
    auto pos = rest.find(kOriginal);
    if (pos == std::string_view::npos) return {std::string(trim(rest)), ""};  // no original given
    return {std::string(trim(rest.substr(pos + kOriginal.size()))),
            std::string(trim(rest.substr(0, pos)))};
  }
  auto pos = comment.find(kTranslated);
  if (pos == std::string_view::npos) return {std::string(comment), ""};
  return {std::string(trim(comment.substr(0, pos))),
          std::string(trim(comment.substr(pos + kTranslated.size())))};
}

std::unique_ptr<Connector> make_google_business_connector(const SourceConfig& source,
                                                          const Config& config) {
  return std::make_unique<GoogleBusiness>(source, config);
}

}  // namespace repwatch::connectors
