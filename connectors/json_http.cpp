#include "connectors/json_http.h"

#include <rapidjson/pointer.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "connectors/http_source.h"
#include "core/redact.h"
#include "core/text.h"
#include "core/time.h"

namespace repwatch::connectors {

namespace {

rapidjson::Pointer make_pointer(const Settings& s, std::string_view key, const std::string& text) {
  rapidjson::Pointer p(text.c_str(), text.size());
  if (!p.IsValid())
    s.fail(key, "not a JSON Pointer (RFC 6901, e.g. \"/data/reviews\"): \"" + text +
                    "\" (error at offset " + std::to_string(p.GetParseErrorOffset()) + ")");
  return p;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

class JsonHttp : public HttpSource {
 public:
  JsonHttp(const SourceConfig& source, const Config& config) : HttpSource(source, config) {
    const Settings& s = source.settings;
    std::vector<std::string> keys = allowed_keys(
        {"url", "headers", "token_header", "token_prefix", "token_param", "reviews_pointer",
         "next_pointer", "next_param", "first_page", "max_pages", "since_param", "since_format",
         "safety_margin", "scale", "time_unit", "fields"},
        {"token"});
    for (const char* k : {"status_pointer", "status_ok", "throttle_wait", "decode_html_entities"})
      keys.emplace_back(k);
    reject_unknown(s, keys);
    url_ = s.require_string("url");
    if (url_.rfind("https://", 0) != 0 && url_.rfind("http://", 0) != 0)
      s.fail("url", "expected an http:// or https:// URL");
    origin_ = net::origin_of(url_);
    paged_ = url_.find("{page}") != std::string::npos;
    // A key written into the URL (?api_key=...) or a credential header is a secret like
    // `token`: never in a message, a stored review or the cursor.
    for (const auto& secret : url_secrets(url_)) add_secret(secret);
    for (const auto& [name, value] : s.string_map("headers")) {
      if (name.empty() || name.find_first_of(":\r\n ") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos)
        s.fail("headers", "header \"" + name + "\" has a bad name or a line break in its value");
      headers_.push_back({name, value});
      if (is_secret_name(name)) add_secret(value);
    }
    if (auto token = s.secret("token")) {
      token_ = *token;
      add_secret(token_);
    }
    token_param_ = s.string_or("token_param", "");
    token_header_ = s.string_or("token_header", token_param_.empty() ? "Authorization" : "");
    token_prefix_ = s.string_or("token_prefix", token_header_ == "Authorization" ? "Bearer " : "");
    if (token_.empty() && (s.has("token_param") || s.has("token_header")))
      s.fail("token", "token_header / token_param given but no token (token_file, token_env)");

    reviews_pointer_text_ = s.string_or("reviews_pointer", "");
    if (!s.has("reviews_pointer"))
      s.fail("reviews_pointer", "required: the JSON Pointer of the review array (\"\" = root)");
    reviews_pointer_ = make_pointer(s, "reviews_pointer", reviews_pointer_text_);
    if (auto p = s.string("status_pointer")) {
      status_pointer_ = make_pointer(s, "status_pointer", *p);
      status_pointer_text_ = *p;
      has_status_ = true;
    }
    if (s.has("status_ok")) {
      status_ok_ = s.string_list("status_ok");
      if (status_ok_.empty()) s.fail("status_ok", "must name at least one status word");
    }
    if (auto v = s.duration("throttle_wait")) throttle_wait_ = *v;
    decode_entities_ = s.boolean("decode_html_entities").value_or(false);
    if (auto p = s.string("next_pointer")) {
      next_pointer_ = make_pointer(s, "next_pointer", *p);
      has_next_ = true;
    }
    next_param_ = s.string_or("next_param", "");
    if (has_next_ && paged_)
      s.fail("next_pointer", "use either next_pointer or {page} in url, not both");
    if (auto v = s.integer("first_page")) first_page_ = *v;
    if (auto v = s.integer("max_pages")) {
      if (*v < 1) s.fail("max_pages", "must be at least 1");
      max_pages_ = static_cast<int>(*v);
    }
    since_param_ = s.string_or("since_param", "");
    since_format_ = s.string_or("since_format", "rfc3339");
    if (since_format_ != "rfc3339" && since_format_ != "epoch" && since_format_ != "epoch_ms")
      s.fail("since_format", "expected \"rfc3339\", \"epoch\" or \"epoch_ms\"");
    if (auto v = s.duration("safety_margin")) margin_ = *v;
    try {
      scale_ = RatingScale::parse(s.string_or("scale", "1-5"));
    } catch (const ConfigError& e) {
      s.fail("scale", e.what());
    }
    std::string unit = s.string_or("time_unit", "s");
    if (unit != "s" && unit != "ms") s.fail("time_unit", "expected \"s\" or \"ms\"");
    millis_ = unit == "ms";

    Settings f = s.table("fields");
    f.reject_unknown({"external_id", "created_at", "rating", "text", "author", "updated_at",
                      "language", "reply_text", "reply_at", "url", "translated_text"});
    if (!f.has("external_id")) s.fail("fields", "fields.external_id is required");
    if (!f.has("created_at")) s.fail("fields", "fields.created_at is required");
    for (const auto& key : f.keys()) {
      std::string text = f.require_string(key);
      fields_.emplace(key, make_pointer(f, key, text));
    }
    if (fields_.count("rating") == 0) scale_ = RatingScale::none();
  }

  FetchResult fetch(const std::string& cursor) override {
    rapidjson::Document cur = parse_cursor(cursor, source_id());
    std::optional<int64_t> since = get_int(cur, "since");
    std::string old_etag = get_string(cur, "etag").value_or("");
    std::string old_etag_url = get_string(cur, "etag_url").value_or("");

    std::string first_url = url_;
    if (!since_param_.empty() && since) {
      int64_t t = *since - margin_;
      std::string value = since_format_ == "epoch"      ? std::to_string(t)
                          : since_format_ == "epoch_ms" ? std::to_string(t * 1000)
                                                        : format_timestamp(t);
      first_url = net::add_query(first_url, since_param_, value);
    }
    if (!token_param_.empty()) first_url = net::add_query(first_url, token_param_, token_);

    Session session(*this);
    FetchResult out;
    std::set<std::string> ids;
    std::set<std::string> seen_next;
    int64_t newest = since.value_or(0);
    std::string etag, etag_url;
    std::string url = first_url;
    int64_t page_number = first_page_;
    int pages_read = 0;
    for (int page = 1;; ++page) {
      pages_read = page;
      std::string request_url =
          paged_ ? replace_all(url, "{page}", std::to_string(page_number)) : url;
      net::Request req(request_url);
      req.headers = headers_;
      if (!token_.empty() && !token_header_.empty())
        req.headers.push_back({token_header_, token_prefix_ + token_});
      const std::string redacted = net::redact_url(session.client().scrub(request_url));
      if (page == 1 && !old_etag.empty() && old_etag_url == redacted) req.if_none_match = old_etag;
      const std::string what = "page " + std::to_string(page);
      net::Response res = session.send(req);
      if (page == 1 && res.not_modified()) {
        out.cursor = cursor;  // nothing changed
        return out;
      }
      if (!res.ok()) throw feed_error(session, res, what);
      if (page == 1 && !res.etag.empty()) {
        etag = res.etag;
        etag_url = redacted;
      }
      rapidjson::Document doc = parse_body(session, res, what);
      const rapidjson::Value* array = reviews_of(session, doc, what);
      for (rapidjson::SizeType i = 0; array && i < array->Size(); ++i) {
        std::string problem;
        auto r = parse_review((*array)[i], problem);
        if (!r || echoes_secret(*r, problem)) {
          out.problems.push_back({what + ", review " + std::to_string(i), problem});
          continue;
        }
        newest = std::max(newest, std::max(r->updated_at, r->created_at));
        if (ids.insert(r->external_id).second) out.reviews.push_back(std::move(*r));
      }
      if (paged_) {
        if (!array || array->Empty()) break;
        ++page_number;
      } else if (has_next_) {
        const rapidjson::Value* next = next_pointer_.Get(doc);
        std::string value;
        if (next && next->IsString())
          value = trim(next->GetString());
        else if (next && next->IsInt64())  // (GetInt64 on 1.5 or 2^63 asserts in debug builds)
          value = std::to_string(next->GetInt64());
        else if (next && next->IsUint64())
          value = std::to_string(next->GetUint64());
        if (value.empty()) break;
        if (!seen_next.insert(value).second) {
          out.problems.push_back({what, "the next-page value repeats; stopped paging"});
          break;
        }
        url = next_url(session, value, first_url, what);
      } else {
        break;
      }
      if (page >= max_pages_) {
        out.problems.push_back(
            {what, "stopped after max_pages (" + std::to_string(max_pages_) + ") pages"});
        break;
      }
    }
    rapidjson::Document c;
    c.SetObject();
    auto& a = c.GetAllocator();
    c.AddMember("v", 1, a);
    if (newest > 0) c.AddMember("since", newest, a);
    // An unchanged first page says nothing about later ones (an oldest-first feed grows at
    // its end), so the ETag is kept only when the whole answer was one page.
    if (!etag.empty() && pages_read == 1) {
      c.AddMember("etag", rapidjson::Value(etag.c_str(), a), a);
      c.AddMember("etag_url", rapidjson::Value(etag_url.c_str(), a), a);
    }
    out.cursor = to_json(c);
    return out;
  }

 private:
  // The review array of a page. An API status word (status_pointer; or, when the array is
  // missing, a top-level "status" as Google's legacy web services send with HTTP 200) that is
  // not one of status_ok throws a SourceError of its kind. A page whose status is OK but that
  // has no array where the parent of reviews_pointer is an object has no reviews (nullptr): a
  // legacy place without reviews has a "result" without "reviews".
  const rapidjson::Value* reviews_of(Session& session, const rapidjson::Document& doc,
                                     const std::string& what) const {
    std::optional<std::string> status;
    if (has_status_) {
      const rapidjson::Value* v = status_pointer_.Get(doc);
      if (!v || !v->IsString())
        throw SourceError(
            SourceError::Kind::kGarbage,
            what + ": no status word at status_pointer \"" + status_pointer_text_ + "\"");
      status = trim(std::string_view(v->GetString(), v->GetStringLength()));
      if (!is_ok_status(*status)) throw status_error(session, doc, *status, what);
    }
    const rapidjson::Value* array = reviews_pointer_.Get(doc);
    if (array && array->IsArray()) return array;
    if (!has_status_ && doc.IsObject()) {
      // Only the words we know: another vendor's "status" says nothing about a wrong pointer.
      if (auto s = get_string(doc, "status")) {
        status = trim(*s);
        if (!is_ok_status(*status)) {
          SourceError e = status_error(session, doc, *status, what);
          if (e.kind() != SourceError::Kind::kGarbage) throw e;
          status.reset();
        }
      }
    }
    if (!array && status && reviews_pointer_.GetTokenCount() > 0) {
      rapidjson::Pointer parent(reviews_pointer_.GetTokens(), reviews_pointer_.GetTokenCount() - 1);
      const rapidjson::Value* p = parent.Get(doc);
      if (p && p->IsObject()) return nullptr;
    }
    throw SourceError(SourceError::Kind::kGarbage,
                      what + ": no array at reviews_pointer \"" + reviews_pointer_text_ + "\"");
  }

  bool is_ok_status(const std::string& status) const {
    for (const auto& ok : status_ok_)
      if (strcasecmp(ok.c_str(), status.c_str()) == 0) return true;
    return false;
  }

  // The SourceError for an API status word other than OK, by what a person or the scheduler
  // should do about it. Google's legacy words (Places, Geocoding...) first, then the usual
  // spellings of the same conditions; anything else (a word we do not know) is kGarbage with
  // the word and message.
  SourceError status_error(Session& session, const rapidjson::Document& doc,
                           const std::string& status, const std::string& what) const {
    std::string upper = status;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto is = [&](std::initializer_list<const char*> words) {
      for (const char* w : words)
        if (upper == w) return true;
      return false;
    };
    std::string api_message;
    for (const char* p : {"/error_message", "/error/message", "/message", "/errors/0/message"}) {
      const rapidjson::Value* v = rapidjson::Pointer(p).Get(doc);
      if (v && v->IsString()) {
        api_message = clean_text(std::string_view(v->GetString(), v->GetStringLength()));
        break;
      }
    }
    SourceError::Kind kind = SourceError::Kind::kGarbage;
    int retry_after = 0;
    std::string advice;
    if (is({"OVER_QUERY_LIMIT", "RESOURCE_EXHAUSTED", "RATE_LIMITED", "RATE_LIMIT_EXCEEDED",
            "TOO_MANY_REQUESTS"})) {
      kind = SourceError::Kind::kTransient;
      retry_after = static_cast<int>(throttle_wait_);
      advice = "rate limit or quota used up; the next poll waits throttle_wait, " +
               std::to_string(throttle_wait_) + " s";
    } else if (is({"REQUEST_DENIED", "OVER_DAILY_LIMIT", "PERMISSION_DENIED", "UNAUTHENTICATED",
                   "ACCESS_DENIED", "UNAUTHORIZED"})) {
      kind = SourceError::Kind::kAuth;
      advice =
          "the API refused the request: check the key (token), that this API is enabled for it "
          "and, for Google, that billing is set up";
    } else if (is({"INVALID_REQUEST", "INVALID_ARGUMENT"})) {
      kind = SourceError::Kind::kConfig;
      advice = "the request is invalid: check the parameters in url (place_id=...)";
    } else if (is({"NOT_FOUND"})) {
      kind = SourceError::Kind::kConfig;
      advice = "the id in url is not known to the API (a place id can expire): look it up again";
    } else if (is({"ZERO_RESULTS"})) {
      kind = SourceError::Kind::kConfig;
      advice =
          "no result: for Place Details the place_id no longer refers to a place (a closed or "
          "merged listing): look the clinic up again";
    } else if (is({"UNKNOWN_ERROR", "INTERNAL", "INTERNAL_ERROR", "UNAVAILABLE",
                   "BACKEND_ERROR"})) {
      kind = SourceError::Kind::kTransient;
      advice = "a server-side error; retried with backoff";
    } else {
      advice = "not one of status_ok";
    }
    std::string message = what + ": API status " + clean_text(status.substr(0, 60)) + " (" +
                          advice + ")" + (api_message.empty() ? "" : ": " + api_message);
    return SourceError(kind, session.client().scrub(message), retry_after);
  }

  std::string next_url(Session& session, const std::string& value, const std::string& first_url,
                       const std::string& what) const {
    std::string next;
    if (value.rfind("http://", 0) == 0 || value.rfind("https://", 0) == 0) {
      next = value;
    } else if (value[0] == '/') {
      next = origin_ + value;
    } else if (value[0] == '?') {
      next = first_url.substr(0, first_url.find('?')) + value;
    } else if (!next_param_.empty()) {
      return net::add_query(first_url, next_param_, value);
    } else {
      throw SourceError(SourceError::Kind::kConfig,
                        what +
                            ": the next-page value is not a URL; set next_param to send it as a "
                            "query parameter");
    }
    if (net::origin_of(next) != origin_)
      throw SourceError(SourceError::Kind::kGarbage,
                        session.client().scrub(
                            what + ": next page points at another host: " + net::redact_url(next)));
    if (!token_param_.empty() && next.find(token_param_ + "=") == std::string::npos)
      next = net::add_query(next, token_param_, token_);
    return next;
  }

  SourceError feed_error(Session& session, const net::Response& res,
                         const std::string& what) const {
    rapidjson::Document d = error_body(res);
    std::string message;
    for (const char* p : {"/error/message", "/error/description", "/error_description", "/message",
                          "/error", "/detail", "/title"}) {
      const rapidjson::Value* v = rapidjson::Pointer(p).Get(d);
      if (v && v->IsString()) {
        message = v->GetString();
        break;
      }
    }
    SourceError base = net::status_error(res, clean_text(message), what);
    SourceError error(base.kind(), session.client().scrub(base.what()), res.retry_after_seconds);
    if (res.status == 401 || res.status == 403)
      error.advise(session.client().scrub(
          "The review feed refused repwatch's credential (HTTP " + std::to_string(res.status) +
          "): ask the vendor for a valid token, and " + renew_advice("token")));
    else if (res.status == 404 || res.status == 410)
      error.advise("The review feed has no such address (HTTP " + std::to_string(res.status) +
                   "): " + settings_advice("url"));
    return error;
  }

  const rapidjson::Value* field(const rapidjson::Value& review, const char* name) const {
    auto it = fields_.find(name);
    if (it == fields_.end()) return nullptr;
    const rapidjson::Value* v = it->second.Get(review);
    return v && !v->IsNull() ? v : nullptr;
  }

  std::optional<std::string> text_field(const rapidjson::Value& review, const char* name) const {
    const rapidjson::Value* v = field(review, name);
    if (!v) return std::nullopt;
    if (v->IsString()) return clean_text(std::string_view(v->GetString(), v->GetStringLength()));
    if (v->IsInt64()) return std::to_string(v->GetInt64());
    if (v->IsUint64()) return std::to_string(v->GetUint64());
    return std::nullopt;
  }

  // A time field: RFC 3339 text or an epoch number (time_unit). nullopt + problem when bad.
  std::optional<int64_t> time_field(const rapidjson::Value& review, const char* name,
                                    std::string& problem) const {
    const rapidjson::Value* v = field(review, name);
    if (!v) return std::nullopt;
    if (v->IsNumber()) {
      double d = v->GetDouble();
      if (millis_) d /= 1000.0;
      if (std::isfinite(d) && d > 0 && d < 1e11) return static_cast<int64_t>(d);
    } else if (v->IsString()) {
      if (auto t = parse_timestamp(v->GetString())) return t;
    }
    problem = std::string(name) + ": not a date-time";
    return std::nullopt;
  }

  std::optional<Review> parse_review(const rapidjson::Value& v, std::string& problem) const {
    if (!v.IsObject()) {
      problem = "not a JSON object";
      return std::nullopt;
    }
    Review r;
    r.source_id = source_id();
    r.location_id = location_id_;
    r.scale = scale_;
    auto id = text_field(v, "external_id");
    if (!id || id->empty()) {
      problem = "no external_id at fields.external_id";
      return std::nullopt;
    }
    r.external_id = *id;
    if (const rapidjson::Value* rating = field(v, "rating")) {
      if (rating->IsNumber()) {
        r.raw_rating = rating->GetDouble();
      } else if (rating->IsBool()) {
        r.raw_rating = rating->GetBool() ? 1.0 : 0.0;
      } else if (rating->IsString()) {
        std::string t(trim(rating->GetString()));
        double d = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
        if (ec != std::errc() || p != t.data() + t.size() || t.empty()) {
          problem = "rating: not a number: \"" + clean_text(t.substr(0, 40)) + "\"";
          return std::nullopt;
        }
        r.raw_rating = d;
      } else {
        problem = "rating: not a number";
        return std::nullopt;
      }
      if (r.raw_rating && !std::isfinite(*r.raw_rating)) r.raw_rating.reset();
    }
    r.text = text_field(v, "text").value_or("");
    r.author = text_field(v, "author").value_or("");
    r.language = text_field(v, "language").value_or("");
    r.translated_text = text_field(v, "translated_text").value_or("");
    r.reply_text = text_field(v, "reply_text").value_or("");
    if (decode_entities_)
      for (std::string* t : {&r.text, &r.author, &r.translated_text, &r.reply_text})
        *t = decode_html_entities(*t);
    r.url = text_field(v, "url").value_or("");
    std::string time_problem;
    auto created = time_field(v, "created_at", time_problem);
    if (!created) {
      problem = time_problem.empty() ? "no created_at" : time_problem;
      return std::nullopt;
    }
    r.created_at = *created;
    auto updated = time_field(v, "updated_at", time_problem);
    if (!time_problem.empty()) {
      problem = time_problem;
      return std::nullopt;
    }
    r.updated_at = updated.value_or(r.created_at);
    r.reply_at = time_field(v, "reply_at", time_problem);
    if (!time_problem.empty()) {
      problem = time_problem;
      return std::nullopt;
    }
    return r;
  }

  std::string url_, origin_;
  bool paged_ = false;
  std::vector<net::Header> headers_;
  std::string token_, token_header_, token_prefix_, token_param_;
  std::string reviews_pointer_text_;
  rapidjson::Pointer reviews_pointer_;
  rapidjson::Pointer next_pointer_;
  bool has_next_ = false;
  rapidjson::Pointer status_pointer_;
  std::string status_pointer_text_;
  bool has_status_ = false;
  std::vector<std::string> status_ok_ = {"OK"};
  int64_t throttle_wait_ = 900;
  bool decode_entities_ = false;
  std::string next_param_;
  int64_t first_page_ = 1;
  int max_pages_ = 100;
  std::string since_param_, since_format_;
  int64_t margin_ = 3600;
  RatingScale scale_ = RatingScale::stars();
  bool millis_ = false;
  std::map<std::string, rapidjson::Pointer> fields_;
};

}  // namespace

std::unique_ptr<Connector> make_json_http_connector(const SourceConfig& source,
                                                    const Config& config) {
  return std::make_unique<JsonHttp>(source, config);
}

}  // namespace repwatch::connectors
