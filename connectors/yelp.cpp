#include "connectors/yelp.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <vector>

#include "connectors/http_source.h"
#include "core/time.h"

namespace repwatch::connectors {

namespace {

// Epoch day of the n-th (1-based; 0 = last) `weekday` (0 = Sunday) of month `m` of year `y`.
int64_t nth_weekday(int y, unsigned m, unsigned weekday, int n) {
  using namespace std::chrono;
  if (n > 0) {
    sys_days first = year_month_day{year{y}, month{m}, day{1}};
    unsigned first_wd = std::chrono::weekday{first}.c_encoding();
    unsigned delta = (weekday + 7 - first_wd) % 7;
    return (first + days{delta + 7 * (n - 1)}).time_since_epoch().count();
  }
  sys_days last = year_month_day_last{year{y}, month_day_last{month{m}}};
  unsigned last_wd = std::chrono::weekday{last}.c_encoding();
  unsigned delta = (last_wd + 7 - weekday) % 7;
  return (last - days{delta}).time_since_epoch().count();
}

// Is the UTC instant `t` in US Pacific daylight time?
bool pacific_dst(int64_t t) {
  using namespace std::chrono;
  // The local standard-time year is the same as the UTC year for any instant near a
  // transition (March / November), so the UTC year is good enough here.
  int y = int(year_month_day{floor<days>(sys_seconds{seconds{t}})}.year());
  int64_t start_day, end_day;
  if (y >= 2007) {
    start_day = nth_weekday(y, 3, 0, 2);
    end_day = nth_weekday(y, 11, 0, 1);
  } else if (y >= 1987) {
    start_day = nth_weekday(y, 4, 0, 1);
    end_day = nth_weekday(y, 10, 0, 0);
  } else {
    start_day = nth_weekday(y, 4, 0, 0);
    end_day = nth_weekday(y, 10, 0, 0);
  }
  // 02:00 PST = 10:00 UTC starts DST; 02:00 PDT = 09:00 UTC ends it.
  int64_t start = start_day * 86400 + 10 * 3600;
  int64_t end = end_day * 86400 + 9 * 3600;
  return t >= start && t < end;
}

// Removes the tracking parameters from a Yelp review URL.
std::string strip_tracking(const std::string& url) {
  auto q = url.find('?');
  if (q == std::string::npos) return url;
  std::string out = url.substr(0, q);
  std::string query = url.substr(q + 1);
  std::string kept;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string part = query.substr(pos, amp - pos);
    if (!part.empty() && part.rfind("utm_", 0) != 0 && part.rfind("adjust_creative", 0) != 0)
      kept += (kept.empty() ? "" : "&") + part;
    pos = amp + 1;
  }
  return kept.empty() ? out : out + "?" + kept;
}

// Yelp's review locales (its "supported locales" list), by language; the first of each is the
// one used for a language when the configured locales' countries have none for it.
const std::map<std::string, std::vector<std::string>>& locales_by_language() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"cs", {"cs_CZ"}},
      {"da", {"da_DK"}},
      {"de", {"de_DE", "de_AT", "de_CH"}},
      {"en",
       {"en_US", "en_AU", "en_BE", "en_CA", "en_CH", "en_GB", "en_HK", "en_IE", "en_MY", "en_NZ",
        "en_PH", "en_SG"}},
      {"es", {"es_ES", "es_AR", "es_CL", "es_MX"}},
      {"fi", {"fi_FI"}},
      {"fil", {"fil_PH"}},
      {"fr", {"fr_FR", "fr_BE", "fr_CA", "fr_CH"}},
      {"it", {"it_IT", "it_CH"}},
      {"ja", {"ja_JP"}},
      {"ms", {"ms_MY"}},
      {"nb", {"nb_NO"}},
      {"nl", {"nl_NL", "nl_BE"}},
      {"pl", {"pl_PL"}},
      {"pt", {"pt_PT", "pt_BR"}},
      {"sv", {"sv_SE", "sv_FI"}},
      {"tr", {"tr_TR"}},
      {"zh", {"zh_TW", "zh_HK"}},
  };
  return m;
}

std::string language_of(const std::string& locale) { return locale.substr(0, locale.find('_')); }

// The locale to ask Yelp for reviews in `language` (from possible_languages: "es", or a whole
// locale): the one of the same country as a configured locale if Yelp has it, else the
// language's first; "" when Yelp has no locale for the language.
std::string locale_for(const std::string& language, const std::vector<std::string>& configured) {
  const auto& table = locales_by_language();
  auto it = table.find(language_of(language));
  if (it == table.end()) return "";
  if (std::find(it->second.begin(), it->second.end(), language) != it->second.end())
    return language;  // a whole locale Yelp knows
  for (const auto& c : configured) {
    auto us = c.find('_');
    if (us == std::string::npos) continue;
    std::string candidate = it->first + c.substr(us);
    if (std::find(it->second.begin(), it->second.end(), candidate) != it->second.end())
      return candidate;
  }
  return it->second.front();
}

class Yelp : public HttpSource {
 public:
  Yelp(const SourceConfig& source, const Config& config) : HttpSource(source, config) {
    const Settings& s = source.settings;
    reject_unknown(s, allowed_keys({"business_id", "locales", "base_url"}, {"api_key"}));
    business_ = s.require_string("business_id");
    if (business_.empty()) s.fail("business_id", "is empty");
    auto key = s.secret("api_key");
    if (!key) s.fail("api_key", "required (api_key, api_key_file or api_key_env)");
    api_key_ = *key;
    add_secret(api_key_);
    locales_ = s.string_list("locales");
    if (locales_.empty()) locales_ = {"en_US"};
    for (const auto& l : locales_)
      if (l.size() < 2 || l.find_first_of("&?/# ") != std::string::npos)
        s.fail("locales", "not a locale like \"en_US\": \"" + l + "\"");
    base_url_ = base_url_setting(s, "base_url", "https://api.yelp.com");
  }

  FetchResult fetch(const std::string& cursor) override {
    rapidjson::Document cur = parse_cursor(cursor, source_id());
    SeenReviews seen(cur);

    Session session(*this);
    FetchResult out;
    // Languages whose reviews this poll reads: those of the configured locales, and those Yelp
    // says the business has reviews in when a configured locale has none (it filters by
    // locale: a business reviewed only in Spanish answers en_US with {"reviews": [], "total":
    // 4, "possible_languages": ["es"]}).
    std::set<std::string> languages;
    for (const auto& locale : locales_) languages.insert(language_of(locale));
    std::vector<std::string> extra;  // locales read because of possible_languages
    std::vector<std::string> no_locale;
    for (const auto& locale : locales_) {
      rapidjson::Document doc = get_reviews(session, locale, out, seen);
      const auto* reviews = get_array(doc, "reviews");
      if (reviews->Size() > 0 || get_int(doc, "total").value_or(0) <= 0) continue;
      if (const auto* langs = get_array(doc, "possible_languages")) {
        for (const auto& l : langs->GetArray()) {
          if (!l.IsString()) continue;
          std::string language = clean_text(l.GetString());
          if (language.empty() || language.find_first_of("&?/# ") != std::string::npos ||
              languages.count(language_of(language)))
            continue;
          std::string other = locale_for(language, locales_);
          if (other.empty()) {
            no_locale.push_back(language);
            continue;
          }
          languages.insert(language_of(language));
          extra.push_back(other);
        }
      }
    }
    if (!extra.empty() || !no_locale.empty()) {
      std::string list;
      for (const auto& l : extra) list += (list.empty() ? "" : ", ") + l;
      std::string msg =
          "Yelp has no reviews in the configured locale(s) but has some in other "
          "languages";
      if (!extra.empty())
        msg += "; reading " + list + " too (add them to `locales` to read them directly)";
      for (const auto& l : no_locale) msg += "; Yelp has no review locale for \"" + l + "\"";
      // Once per connector at info (every poll would repeat it), then at debug.
      if (!told_languages_)
        spdlog::info("{}: {}", context(), msg);
      else
        spdlog::debug("{}: {}", context(), msg);
      told_languages_ = true;
    }
    for (const auto& locale : extra) {
      // A failure here loses only these extra reviews until the next poll: a problem, not a
      // failed poll (the configured locales were read).
      try {
        get_reviews(session, locale, out, seen);
      } catch (const SourceError& e) {
        out.problems.push_back({"reviews (" + locale + ")", e.what()});
      }
    }
    rapidjson::Document c;
    c.SetObject();
    auto& a = c.GetAllocator();
    c.AddMember("v", 1, a);
    seen.write(c, a);
    out.cursor = to_json(c);
    return out;
  }

 private:
  SourceError yelp_error(Session& session, const net::Response& res,
                         const std::string& what) const {
    rapidjson::Document d = error_body(res);
    std::string code, message, description;
    if (const auto* err = get_object(d, "error")) {
      code = get_string(*err, "code").value_or("");
      message = code;
      description = get_string(*err, "description").value_or("");
      if (!description.empty()) message += (message.empty() ? "" : ": ") + description;
    }
    // BUSINESS_UNAVAILABLE has also been seen as a string inside a VALIDATION_ERROR
    // (Yelp/yelp-fusion#66).
    if (code == "VALIDATION_ERROR" && description.find("BUSINESS_UNAVAILABLE") != std::string::npos)
      code = "BUSINESS_UNAVAILABLE";
    SourceError base = net::status_error(res, clean_text(message), what);
    SourceError::Kind kind = base.kind();
    int retry_after = res.retry_after_seconds;
    std::string advice;
    if (code == "UNAUTHORIZED_ACCESS_TOKEN" || code == "TOKEN_INVALID" || code == "TOKEN_MISSING") {
      kind = SourceError::Kind::kAuth;
      advice = "Yelp refused the API key (" + code +
               "): create a new key for the app at https://www.yelp.com/developers/v3/manage_app "
               "and " +
               renew_advice("api_key");
    } else if (code == "TOO_MANY_REQUESTS_PER_SECOND" || code == "ACCESS_LIMIT_REACHED" ||
               code == "INTERNAL_ERROR" || code == "REQUEST_TIMED_OUT") {
      kind = SourceError::Kind::kTransient;
      if (code == "ACCESS_LIMIT_REACHED")
        advice =
            "The daily number of calls of the Yelp API plan is used up; repwatch waits until "
            "Yelp resets it. Each poll makes one call per locale: if this happens often, "
            "poll less often (interval) or ask for fewer locales.";
    } else if (code == "BUSINESS_UNAVAILABLE") {
      kind = SourceError::Kind::kUnavailable;
      std::string locales;
      for (const auto& l : locales_) locales += (locales.empty() ? "" : ", ") + l;
      advice = "Yelp does not provide the reviews of \"" + business_ +
               "\" through its API (BUSINESS_UNAVAILABLE). Yelp answers this for some "
               "businesses, for example those without reviews yet, or without reviews in the "
               "languages asked for (" +
               locales +
               "). repwatch asks again once a day. If the business has reviews on yelp.com in "
               "another language, " +
               settings_advice("locales", "add that locale (e.g. \"es_US\") to") +
               " If it has none yet, nothing needs doing.";
    } else if (code == "BUSINESS_NOT_FOUND" || code == "NOT_FOUND") {
      kind = SourceError::Kind::kConfig;
      advice = "Yelp does not know the business \"" + business_ + "\": " +
               settings_advice("business_id (the id or alias in the business's yelp.com address)");
    } else if (code == "VALIDATION_ERROR") {
      kind = SourceError::Kind::kConfig;
      advice = "Yelp refused the request as invalid (see the error): " +
               settings_advice("business_id or locales");
    }
    if (code == "ACCESS_LIMIT_REACHED" && retry_after == 0) {
      // The daily quota resets at RateLimit-ResetTime (ISO 8601), else at midnight UTC.
      int64_t now = now_seconds();
      auto reset = parse_timestamp(res.header("RateLimit-ResetTime"));
      int64_t until = reset ? *reset : (now / 86400 + 1) * 86400;
      retry_after = static_cast<int>(std::clamp<int64_t>(until - now, 60, 86400));
    }
    SourceError error(kind, session.client().scrub(base.what()), retry_after);
    error.advise(session.client().scrub(advice));
    return error;
  }

  // Reads the newest reviews in `locale` into `out` (new or changed ones, by `seen`). Returns
  // the answer, which has a "reviews" array. Throws SourceError.
  rapidjson::Document get_reviews(Session& session, const std::string& locale, FetchResult& out,
                                  SeenReviews& seen) const {
    std::string url = base_url_ + "/v3/businesses/" + net::url_encode(business_) + "/reviews";
    url = net::add_query(url, "locale", locale);
    url = net::add_query(url, "sort_by", "newest");
    net::Request req(url);
    req.headers.push_back({"Authorization", "Bearer " + api_key_});
    req.headers.push_back({"Accept", "application/json"});
    const std::string what = "reviews (" + locale + ")";
    net::Response res = session.send(req);
    if (!res.ok()) throw yelp_error(session, res, what);
    rapidjson::Document doc = parse_body(session, res, what);
    const auto* reviews = get_array(doc, "reviews");
    if (!reviews)
      throw SourceError(SourceError::Kind::kGarbage, what + ": no \"reviews\" array in the answer");
    std::string language = language_of(locale);
    for (rapidjson::SizeType i = 0; i < reviews->Size(); ++i) {
      std::string problem;
      auto r = parse_review((*reviews)[i], language, problem);
      if (!r || echoes_secret(*r, problem)) {
        out.problems.push_back({what + ", reviews[" + std::to_string(i) + "]", problem});
        continue;
      }
      if (seen.offer(*r)) out.reviews.push_back(std::move(*r));
    }
    return doc;
  }

  std::optional<Review> parse_review(const rapidjson::Value& v, const std::string& language,
                                     std::string& problem) const {
    if (!v.IsObject()) {
      problem = "not a JSON object";
      return std::nullopt;
    }
    Review r;
    r.source_id = source_id();
    r.location_id = location_id_;
    r.scale = RatingScale::stars();
    auto id = get_string(v, "id");
    if (!id || id->empty()) {
      problem = "no review id";
      return std::nullopt;
    }
    r.external_id = clean_text(*id);
    if (auto rating = get_number(v, "rating")) r.raw_rating = *rating;
    r.text = clean_text(get_string(v, "text").value_or(""));
    r.language = language;
    if (const auto* user = get_object(v, "user"))
      r.author = clean_text(get_string(*user, "name").value_or(""));
    r.url = strip_tracking(clean_text(get_string(v, "url").value_or("")));
    auto created = get_string(v, "time_created");
    auto t = created ? parse_pacific_time(*created) : std::nullopt;
    if (!t) {
      problem = "no valid time_created";
      return std::nullopt;
    }
    r.created_at = r.updated_at = *t;
    return r;
  }

  std::string business_, api_key_, base_url_;
  std::vector<std::string> locales_;
  bool told_languages_ = false;  // logged at info that other languages are read
};

}  // namespace

std::optional<int64_t> parse_pacific_time(std::string_view text) {
  // Only plain local date-times: anything with a zone is not Yelp's format.
  if (text.size() < 10 || text.find_first_of("Zz+") != std::string_view::npos ||
      (text.size() > 19 && text.find('-', 19) != std::string_view::npos))
    return std::nullopt;
  auto local = parse_timestamp(text);  // as if it were UTC
  if (!local) return std::nullopt;
  int64_t as_pdt = *local + 7 * 3600;
  if (pacific_dst(as_pdt)) return as_pdt;
  return *local + 8 * 3600;
}

std::unique_ptr<Connector> make_yelp_connector(const SourceConfig& source, const Config& config) {
  return std::make_unique<Yelp>(source, config);
}

}  // namespace repwatch::connectors
