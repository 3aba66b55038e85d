#include "connectors/facebook.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <limits>
#include <set>

#include "connectors/http_source.h"
#include "core/time.h"

namespace repwatch::connectors {

namespace {

constexpr const char* kFields =
    "created_time,recommendation_type,rating,has_rating,has_review,review_text,"
    "reviewer{id,name},open_graph_story{id}";

// The longest estimated_time_to_regain_access (minutes) in X-Business-Use-Case-Usage.
int regain_minutes(const std::string& header) {
  if (header.empty()) return 0;
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(header.c_str());
  if (d.HasParseError() || !d.IsObject()) return 0;
  int64_t best = 0;
  for (const auto& m : d.GetObject()) {
    if (!m.value.IsArray()) continue;
    for (const auto& entry : m.value.GetArray())
      best = std::max(best, get_int(entry, "estimated_time_to_regain_access").value_or(0));
  }
  return static_cast<int>(std::min<int64_t>(best, 24 * 60));
}

class Facebook : public HttpSource {
 public:
  Facebook(const SourceConfig& source, const Config& config) : HttpSource(source, config) {
    const Settings& s = source.settings;
    reject_unknown(s, allowed_keys({"page_id", "api_version", "base_url", "page_size", "max_pages",
                                    "safety_margin", "full_sweep_interval", "throttle_wait",
                                    "detect_removals"},
                                   {"access_token"}));
    page_id_ = s.require_string("page_id");
    if (page_id_.empty() || page_id_.find_first_of("/?&# ") != std::string::npos)
      s.fail("page_id", "expected a Page id or username");
    auto token = s.secret("access_token");
    if (!token) s.fail("access_token", "required (access_token, access_token_file or _env)");
    token_ = *token;
    add_secret(token_);
    version_ = s.string_or("api_version", "v21.0");
    if (version_.size() < 2 || version_[0] != 'v' ||
        version_.find_first_not_of("0123456789.", 1) != std::string::npos)
      s.fail("api_version", "expected a Graph API version like \"v21.0\"");
    base_url_ = base_url_setting(s, "base_url", "https://graph.facebook.com");
    window_ = PagedWindow(s, 25, 100);
    if (auto v = s.duration("throttle_wait")) throttle_wait_ = *v;
    detect_removals_ = s.boolean("detect_removals").value_or(true);
  }

  FetchResult fetch(const std::string& cursor) override {
    rapidjson::Document cur = parse_cursor(cursor, source_id());
    std::optional<int64_t> newest_seen = get_int(cur, "newest");
    int64_t full_at = get_int(cur, "full_at").value_or(0);
    const int64_t now = now_seconds();
    const auto [full, threshold] = window_.plan(newest_seen, full_at, now);

    Session session(*this);
    FetchResult out;
    std::set<std::string> ids;
    std::set<std::string> seen_next;
    int64_t newest = newest_seen.value_or(0);
    std::string url = base_url_ + "/" + version_ + "/" + net::url_encode(page_id_) + "/ratings";
    url = net::add_query(url, "fields", kFields);
    url = net::add_query(url, "limit", std::to_string(window_.page_size));
    const std::string origin = net::origin_of(base_url_);
    bool to_the_end = false;  // paging stopped because there was no `next`
    for (int page = 1;; ++page) {
      net::Request req(url);
      req.headers.push_back({"Authorization", "Bearer " + token_});
      req.headers.push_back({"Accept", "application/json"});
      const std::string what = "ratings page " + std::to_string(page);
      net::Response res = session.send(req);
      if (!res.ok()) throw graph_error(session, res, what);
      rapidjson::Document doc = parse_body(session, res, what);
      if (const auto* err = get_object(doc, "error"); err && doc.IsObject())
        throw graph_error(session, res, what);  // an error with a 200 status
      const auto* data = get_array(doc, "data");
      if (!data)
        throw SourceError(SourceError::Kind::kGarbage, what + ": no \"data\" array in the answer");
      bool reached_old = false;
      for (rapidjson::SizeType i = 0; i < data->Size(); ++i) {
        if (lacks_requested_fields((*data)[i]))
          throw SourceError(
              SourceError::Kind::kGarbage,
              what + ": data[" + std::to_string(i) +
                  "] lacks the fields repwatch asked for (has_review, reviewer, "
                  "open_graph_story...): Facebook answered with its default fields, without "
                  "the ids that identify a rating; nothing of this poll is stored, so that no "
                  "rating is stored a second time under another id. The next poll tries again");
        std::string problem;
        auto r = parse_rating((*data)[i], problem);
        if (!r || echoes_secret(*r, problem)) {
          out.problems.push_back(
              {"page " + std::to_string(page) + ", data[" + std::to_string(i) + "]", problem});
          continue;
        }
        if (r->created_at < threshold) {
          reached_old = true;
          continue;
        }
        newest = std::max(newest, r->created_at);
        if (ids.insert(r->external_id).second) out.reviews.push_back(std::move(*r));
      }
      std::optional<std::string> next;
      if (const auto* paging = get_object(doc, "paging")) next = get_string(*paging, "next");
      if (!next || next->empty()) to_the_end = true;
      if (reached_old || !next || next->empty()) break;
      if (net::origin_of(*next) != origin)
        throw SourceError(SourceError::Kind::kGarbage,
                          session.client().scrub(what + ": paging.next points at another host: " +
                                                 net::redact_url(*next)));
      if (!seen_next.insert(*next).second) {
        out.problems.push_back({"page " + std::to_string(page),
                                "paging.next repeats an earlier page; stopped paging"});
        break;
      }
      if (page >= window_.max_pages) {
        out.problems.push_back({"page " + std::to_string(page),
                                "stopped after max_pages (" + std::to_string(window_.max_pages) +
                                    ") pages; older ratings were not read"});
        break;
      }
      // Facebook's `next` links usually repeat the query, but not always: one without
      // `fields` answers with the default fields only (no story id, no reviewer), and those
      // ratings would be stored again under ids derived from their text. Always ask again.
      url = net::set_query(*next, "fields", kFields);
      url = net::set_query(url, "limit", std::to_string(window_.page_size));
    }
    rapidjson::Document c;
    c.SetObject();
    auto& a = c.GetAllocator();
    c.AddMember("v", 1, a);
    c.AddMember("newest", newest, a);
    c.AddMember("full_at", full ? now : full_at, a);
    out.cursor = to_json(c);
    // A full sweep that followed `next` to its end lists every rating of the Page.
    out.complete = detect_removals_ && full && to_the_end && out.problems.empty();
    return out;
  }

 private:
  SourceError graph_error(Session& session, const net::Response& res,
                          const std::string& what) const {
    rapidjson::Document d = error_body(res);
    const auto* err = get_object(d, "error");
    if (!err) {
      SourceError base = net::status_error(res, "", what);
      return SourceError(base.kind(), session.client().scrub(base.what()), res.retry_after_seconds);
    }
    int64_t code = get_int(*err, "code").value_or(0);
    int64_t sub = get_int(*err, "error_subcode").value_or(0);
    std::string message = "Graph API error " + std::to_string(code);
    if (sub) message += "/" + std::to_string(sub);
    if (auto type = get_string(*err, "type")) message += " (" + *type + ")";
    if (auto m = get_string(*err, "message")) message += ": " + *m;
    SourceError::Kind kind = net::kind_for_status(res.status);
    int retry_after = res.retry_after_seconds;
    std::string advice;
    if (code == 4 || code == 17 || code == 32 || code == 613 || code == 80001 || code == 341) {
      kind = SourceError::Kind::kTransient;
      int minutes = regain_minutes(res.header("X-Business-Use-Case-Usage"));
      retry_after = minutes > 0 ? minutes * 60
                                : static_cast<int>(std::max<int64_t>(retry_after, throttle_wait_));
      advice =
          "Facebook is limiting how often this Page's data may be read (error " +
          std::to_string(code) +
          "); repwatch waits as long as Facebook asks. If this keeps happening, poll less often "
          "(this source's interval), or check what else uses the same app or Page token.";
    } else if (code == 1 || code == 2 || get_bool(*err, "is_transient").value_or(false)) {
      kind = SourceError::Kind::kTransient;
    } else if (code == 190 || code == 102) {
      kind = SourceError::Kind::kAuth;
      advice = token_problem(sub) +
               ": create a new long-lived Page access token, from an admin of the Page, with "
               "the permission pages_read_user_content, and " +
               renew_advice("access_token");
    } else if (code == 10 || (code >= 200 && code <= 299)) {
      kind = SourceError::Kind::kAuth;
      advice = "Facebook does not let this token read the Page's recommendations (error " +
               std::to_string(code) +
               ", a missing permission). The token must be a Page access token of this very "
               "Page (a parent Page's token does not work for a location's Page), made by "
               "someone who can moderate the Page, with the permission "
               "pages_read_user_content: create one and " +
               renew_advice("access_token");
    } else if (code == 12) {
      // The edge is deprecated from v22.0 on; an expired older version is upgraded by
      // Facebook to a newer one, so asking with an even older version does not help then.
      kind = SourceError::Kind::kUnavailable;
      if (major_version() >= 22) {
        advice =
            "Facebook serves Page recommendations only to Graph API versions older than "
            "v22.0 (error 12), and this source asks with " +
            version_ + ": " + settings_advice("api_version = \"v21.0\"", "set") +
            " (That version works until Facebook retires it, two years after the next version "
            "came out.)";
      } else {
        advice =
            "Facebook no longer serves Page recommendations through its API, not even to "
            "Graph API " +
            version_ +
            " (error 12: the ratings edge is deprecated, and Facebook answers retired "
            "versions as newer ones). No setting of repwatch brings them back: read the "
            "Page's recommendations on Facebook itself, and disable this source (enabled = "
            "false) to stop these messages. repwatch asks again once a day meanwhile.";
      }
    } else if (code == 100 || code == 803) {
      kind = SourceError::Kind::kConfig;
      advice = "Facebook does not know the Page \"" + page_id_ + "\" (error " +
               std::to_string(code) +
               "): " + settings_advice("page_id (the Page's numeric id or its username)");
    }
    std::string full = what + ": HTTP " + std::to_string(res.status) + ": " + clean_text(message);
    SourceError error(kind, session.client().scrub(full), retry_after);
    error.advise(session.client().scrub(advice));
    return error;
  }

  // What Facebook's error subcode says about an invalid Page token (error 190).
  static std::string token_problem(int64_t subcode) {
    switch (subcode) {
      case 463:
        return "The Facebook Page access token has expired";
      case 460:
        return "The Facebook Page access token stopped working because the password of the "
               "Facebook account that made it was changed";
      case 458:
        return "The Facebook Page access token stopped working because the app was removed "
               "from the Facebook account that made it";
      case 459:
        return "The Facebook account that made the Page access token must log in to Facebook "
               "to clear a security checkpoint; until then the token does not work";
      case 464:
        return "The Facebook account that made the Page access token is not confirmed";
      case 467:
        return "The Facebook Page access token is no longer valid (its account logged out or "
               "it was revoked)";
      default:
        return "The Facebook Page access token has expired or was revoked";
    }
  }

  // 21 for "v21.0".
  int major_version() const {
    int major = 0;
    for (size_t i = 1; i < version_.size() && std::isdigit(static_cast<unsigned char>(version_[i]));
         ++i)
      major = major * 10 + (version_[i] - '0');
    return major;
  }

  // True for an item that has none of the fields only an explicit `fields` brings: the Graph
  // API's default answer (created_time, recommendation_type, review_text).
  static bool lacks_requested_fields(const rapidjson::Value& v) {
    if (!v.IsObject()) return false;  // reported as a problem by parse_rating()
    for (const char* f : {"has_review", "has_rating", "reviewer", "open_graph_story", "rating"})
      if (v.HasMember(f)) return false;
    return true;
  }

  std::optional<Review> parse_rating(const rapidjson::Value& v, std::string& problem) const {
    if (!v.IsObject()) {
      problem = "not a JSON object";
      return std::nullopt;
    }
    Review r;
    r.source_id = source_id();
    r.location_id = location_id_;
    auto created = get_string(v, "created_time");
    auto t = created ? parse_timestamp(*created) : std::nullopt;
    if (!t) {
      problem = "no valid created_time";
      return std::nullopt;
    }
    r.created_at = r.updated_at = *t;
    r.text = clean_text(get_string(v, "review_text").value_or(""));
    std::string reviewer_id;
    if (const auto* reviewer = get_object(v, "reviewer")) {
      r.author = clean_text(get_string(*reviewer, "name").value_or(""));
      reviewer_id = clean_text(get_string(*reviewer, "id").value_or(""));
    }
    auto type = get_string(v, "recommendation_type");
    auto stars = get_number(v, "rating");
    if (type && (*type == "positive" || *type == "negative")) {
      r.scale = RatingScale::binary();
      r.raw_rating = *type == "positive" ? 1.0 : 0.0;
    } else if (stars) {
      r.scale = RatingScale::stars();
      r.raw_rating = *stars;
    } else {
      r.scale = RatingScale::none();  // neither a recommendation nor stars
    }
    std::string story;
    if (const auto* og = get_object(v, "open_graph_story"))
      story = clean_text(get_string(*og, "id").value_or(""));
    if (!story.empty()) {
      r.external_id = story;
      r.url = "https://www.facebook.com/" + story;
    } else {
      // No stable id on old items: created time plus the reviewer (or a digest of the text).
      std::string who = reviewer_id;
      if (who.empty()) {
        Review probe;
        probe.text = r.text;
        who = "h" + content_hash(probe);
      }
      r.external_id = "t" + std::to_string(*t) + "-" + who;
    }
    return r;
  }

  std::string page_id_, token_, version_, base_url_;
  PagedWindow window_;  // page_size, max_pages, safety margin, full sweeps
  int64_t throttle_wait_ = 900;
  bool detect_removals_ = true;
};

}  // namespace

std::unique_ptr<Connector> make_facebook_connector(const SourceConfig& source,
                                                   const Config& config) {
  return std::make_unique<Facebook>(source, config);
}

}  // namespace repwatch::connectors
