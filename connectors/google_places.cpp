#include "connectors/google_places.h"

#include <spdlog/spdlog.h>

#include <set>

#include "connectors/http_source.h"
#include "core/time.h"

namespace repwatch::connectors {

namespace {

constexpr const char* kFieldMask = "id,displayName,rating,userRatingCount,reviews";

class GooglePlaces : public HttpSource {
 public:
  GooglePlaces(const SourceConfig& source, const Config& config) : HttpSource(source, config) {
    const Settings& s = source.settings;
    reject_unknown(
        s, allowed_keys({"place_id", "language_code", "region_code", "base_url"}, {"api_key"}));
    place_id_ = s.require_string("place_id");
    if (place_id_.empty()) s.fail("place_id", "is empty");
    auto key = s.secret("api_key");
    if (!key) s.fail("api_key", "required (api_key, api_key_file or api_key_env)");
    api_key_ = *key;
    add_secret(api_key_);
    language_ = s.string_or("language_code", "");
    region_ = s.string_or("region_code", "");
    base_url_ = base_url_setting(s, "base_url", "https://places.googleapis.com");
  }

  FetchResult fetch(const std::string& cursor) override {
    rapidjson::Document cur = parse_cursor(cursor, source_id());
    SeenReviews seen(cur);
    std::optional<int64_t> old_count = get_int(cur, "count");

    Session session(*this);
    std::string url = base_url_ + "/v1/places/" + net::url_encode(place_id_);
    if (!language_.empty()) url = net::add_query(url, "languageCode", language_);
    if (!region_.empty()) url = net::add_query(url, "regionCode", region_);
    net::Request req(url);
    req.headers.push_back({"X-Goog-Api-Key", api_key_});
    req.headers.push_back({"X-Goog-FieldMask", kFieldMask});
    req.headers.push_back({"Accept", "application/json"});
    net::Response res = session.send(req);
    if (!res.ok()) throw with_advice(session, res);
    rapidjson::Document doc = parse_body(session, res, "place details");
    if (!doc.IsObject())
      throw SourceError(SourceError::Kind::kGarbage, "place details: expected a JSON object");

    FetchResult out;
    if (doc.HasMember("reviews") && !get_array(doc, "reviews"))
      throw SourceError(SourceError::Kind::kGarbage, "place details: \"reviews\" is not an array");
    if (const auto* reviews = get_array(doc, "reviews")) {
      for (rapidjson::SizeType i = 0; i < reviews->Size(); ++i) {
        std::string problem;
        auto r = parse_review((*reviews)[i], problem);
        if (!r || echoes_secret(*r, problem)) {
          out.problems.push_back({"reviews[" + std::to_string(i) + "]", problem});
          continue;
        }
        if (seen.offer(*r)) out.reviews.push_back(std::move(*r));
      }
    }
    std::optional<int64_t> count = get_int(doc, "userRatingCount");
    if (count && old_count && *count > *old_count) {
      size_t fresh = 0;
      for (const auto& r : out.reviews) fresh += !seen.seen_before(r.external_id);
      if (static_cast<int64_t>(fresh) < *count - *old_count)
        spdlog::info(
            "{}: userRatingCount rose from {} to {} but only {} new review(s) are among "
            "the 5 the Places API shows",
            context(), *old_count, *count, fresh);
    }

    rapidjson::Document c;
    c.SetObject();
    auto& a = c.GetAllocator();
    c.AddMember("v", 1, a);
    seen.write(c, a);
    if (count) c.AddMember("count", *count, a);
    out.cursor = to_json(c);
    return out;
  }

 private:
  // google_error() with what a person should do about it.
  SourceError with_advice(Session& session, const net::Response& res) {
    std::string reason;
    SourceError e = google_error(session, res, "place details", &reason);
    std::string advice;
    if (reason == "SERVICE_DISABLED" || reason == "API_KEY_SERVICE_BLOCKED" ||
        reason == "API_KEY_API_BLOCKED") {
      advice = "The API key may not call the Places API (New) (" + reason +
               "): enable \"Places API (New)\" in the key's Google Cloud project and allow it "
               "in the key's API restrictions. repwatch tries again on its own within the hour.";
    } else if (reason.rfind("API_KEY_", 0) == 0 || res.status == 401) {
      advice = "Google refused the API key (" + (reason.empty() ? "HTTP 401" : reason) +
               "): check it in the Google Cloud Console (APIs & Services, Credentials), and " +
               renew_advice("api_key");
    } else if (res.status == 403) {
      advice =
          "Google refused the request (see the error): check the key's Google Cloud "
          "project - Places API (New) enabled, billing set up, the key allowed to call it. "
          "repwatch tries again on its own within the hour.";
    } else if (res.status == 404) {
      advice = "Google does not know this place: " +
               settings_advice(
                   "place_id (place ids can change: look it up again with Google's "
                   "Place ID finder)");
    }
    e.advise(session.client().scrub(advice));
    return e;
  }

  std::optional<Review> parse_review(const rapidjson::Value& v, std::string& problem) const {
    if (!v.IsObject()) {
      problem = "not a JSON object";
      return std::nullopt;
    }
    Review r;
    r.source_id = source_id();
    r.location_id = location_id_;
    r.scale = RatingScale::stars();
    auto name = get_string(v, "name");
    if (!name || name->empty()) {
      problem = "no review name";
      return std::nullopt;
    }
    r.external_id = clean_text(*name);
    if (auto rating = get_number(v, "rating")) r.raw_rating = *rating;
    const rapidjson::Value* original = get_object(v, "originalText");
    const rapidjson::Value* shown = get_object(v, "text");
    std::string original_text = original ? get_string(*original, "text").value_or("") : "";
    std::string shown_text = shown ? get_string(*shown, "text").value_or("") : "";
    if (original) {
      r.text = clean_text(original_text);
      r.language = clean_text(get_string(*original, "languageCode").value_or(""));
      if (!shown_text.empty() && shown_text != original_text)
        r.translated_text = clean_text(shown_text);
    } else if (shown) {
      r.text = clean_text(shown_text);
      r.language = clean_text(get_string(*shown, "languageCode").value_or(""));
    }
    if (const auto* author = get_object(v, "authorAttribution"))
      r.author = clean_text(get_string(*author, "displayName").value_or(""));
    auto published = get_string(v, "publishTime");
    auto t = published ? parse_timestamp(*published) : std::nullopt;
    if (!t) {
      problem = "no valid publishTime";
      return std::nullopt;
    }
    r.created_at = r.updated_at = *t;
    r.url = clean_text(get_string(v, "googleMapsUri").value_or(""));
    return r;
  }

  std::string place_id_, api_key_, language_, region_, base_url_;
};

}  // namespace

std::unique_ptr<Connector> make_google_places_connector(const SourceConfig& source,
                                                        const Config& config) {
  return std::make_unique<GooglePlaces>(source, config);
}

}  // namespace repwatch::connectors
