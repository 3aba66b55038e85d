#include "connectors/http_source.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "core/text.h"

namespace repwatch::connectors {

std::vector<std::string> allowed_keys(std::initializer_list<std::string_view> own,
                                      std::initializer_list<std::string_view> secrets) {
  std::vector<std::string> keys;
  for (auto k : common_source_keys()) keys.emplace_back(k);
  for (auto k : own) keys.emplace_back(k);
  for (auto k : secrets) {
    keys.emplace_back(k);
    keys.emplace_back(std::string(k) + "_file");
    keys.emplace_back(std::string(k) + "_env");
  }
  return keys;
}

void reject_unknown(const Settings& settings, const std::vector<std::string>& allowed) {
  std::vector<std::string_view> views(allowed.begin(), allowed.end());
  settings.reject_unknown(views);
}

std::string base_url_setting(const Settings& settings, std::string_view key,
                             std::string_view fallback) {
  std::string url = settings.string_or(key, fallback);
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
    settings.fail(key, "expected an http:// or https:// URL, got \"" + net::redact_url(url) + "\"");
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

PagedWindow::PagedWindow(const Settings& s, int default_page_size, int max_page_size)
    : page_size(default_page_size) {
  if (auto v = s.integer("page_size")) {
    if (*v < 1 || *v > max_page_size)
      s.fail("page_size", "must be between 1 and " + std::to_string(max_page_size));
    page_size = static_cast<int>(*v);
  }
  if (auto v = s.integer("max_pages")) {
    if (*v < 1) s.fail("max_pages", "must be at least 1");
    max_pages = static_cast<int>(*v);
  }
  if (auto v = s.duration("safety_margin")) margin = *v;
  if (auto v = s.duration("full_sweep_interval")) sweep = *v;
}

PagedWindow::Plan PagedWindow::plan(std::optional<int64_t> watermark, int64_t full_at,
                                    int64_t now) const {
  const bool full = !watermark || sweep == 0 || now - full_at >= sweep;
  return {full, full ? std::numeric_limits<int64_t>::min() : *watermark - margin};
}

SeenReviews::SeenReviews(const rapidjson::Value& cursor) {
  if (const auto* s = get_object(cursor, "seen"))
    for (const auto& m : s->GetObject())
      if (m.value.IsString()) before_[m.name.GetString()] = m.value.GetString();
}

bool SeenReviews::offer(const Review& review) {
  if (now_.count(review.external_id)) return false;
  std::string hash = content_hash(review);
  auto it = before_.find(review.external_id);
  const bool changed = it == before_.end() || it->second != hash;
  now_.emplace(review.external_id, std::move(hash));
  return changed;
}

void SeenReviews::write(rapidjson::Value& cursor, rapidjson::Document::AllocatorType& alloc) const {
  rapidjson::Value seen(rapidjson::kObjectType);
  for (const auto& [id, hash] : now_)
    seen.AddMember(rapidjson::Value(id.c_str(), alloc), rapidjson::Value(hash.c_str(), alloc),
                   alloc);
  cursor.AddMember("seen", seen, alloc);
}

std::string clean_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' || c == '\r')
        out += static_cast<char>(c);
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t len = decode_utf8(s, i, cp);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

rapidjson::Document parse_cursor(const std::string& cursor, const std::string& source_id) {
  rapidjson::Document d;
  if (!cursor.empty()) {
    d.Parse<rapidjson::kParseIterativeFlag>(cursor.c_str(), cursor.size());
    if (!d.HasParseError() && d.IsObject()) return d;
    spdlog::warn("source {}: stored cursor is not valid; doing a full sync", source_id);
  }
  d.SetObject();
  return d;
}

std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  value.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::optional<std::string> get_string(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return std::nullopt;
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::optional<double> get_number(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return std::nullopt;
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsNumber()) return std::nullopt;
  return it->value.GetDouble();
}

std::optional<int64_t> get_int(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return std::nullopt;
  auto it = o.FindMember(key);
  if (it == o.MemberEnd()) return std::nullopt;
  if (it->value.IsInt64()) return it->value.GetInt64();
  if (it->value.IsNumber()) {
    // A double outside int64's range (1e300 from a hostile API) cannot be converted: undefined
    // behaviour (found by fuzz/fuzz_facebook). NaN fails the comparisons too.
    double v = it->value.GetDouble();
    if (!(v >= -9.2e18 && v <= 9.2e18)) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  return std::nullopt;
}

std::optional<bool> get_bool(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return std::nullopt;
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsBool()) return std::nullopt;
  return it->value.GetBool();
}

const rapidjson::Value* get_object(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

const rapidjson::Value* get_array(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}

// ---- HttpSource -------------------------------------------------------------------------------

HttpSource::HttpSource(const SourceConfig& source, const Config& config)
    : http_(net::HttpOptions::from_settings(config.section("http"))),
      source_id_(source.id),
      location_id_(source.location),
      source_settings_(source.settings),
      config_file_(config.file.empty() ? "repwatch's configuration file" : config.file.string()),
      context_("source " + source.id) {}

namespace {

constexpr std::string_view kReload =
    "then reload repwatch (sudo systemctl reload repwatchd): it tries this source again at once.";
constexpr std::string_view kRestart =
    "then restart repwatch (sudo systemctl restart repwatchd): it tries this source again at "
    "once.";

}  // namespace

std::string HttpSource::renew_advice(std::string_view secret_key) const {
  using Kind = Settings::SecretOrigin::Kind;
  const Settings::SecretOrigin o = source_settings_.secret_origin(secret_key);
  switch (o.kind) {
    case Kind::kFile:
      return "put it in " + o.where + " (this source's " + o.key + "), " + std::string(kReload);
    case Kind::kCredential:
      return "put it in the file that the LoadCredential=" + o.where +
             ":... line of repwatchd.service names (systemd copies credentials only when the "
             "service starts), " +
             std::string(kRestart);
    case Kind::kEnv:
      return "set it in the environment variable " + o.where + " of repwatchd (this source's " +
             o.key + "; sudo systemctl edit repwatchd), " + std::string(kRestart);
    case Kind::kInline:
      return "write it as " + o.key + " in the [[sources]] entry \"" + source_id_ + "\" of " +
             o.where + ", " + std::string(kReload);
    case Kind::kNone:
      break;
  }
  return "set " + std::string(secret_key) + "_file in the [[sources]] entry \"" + source_id_ +
         "\" of " + config_file_ + ", " + std::string(kReload);
}

std::string HttpSource::settings_advice(std::string_view keys, std::string_view verb) const {
  return std::string(verb) + " " + std::string(keys) + " in the [[sources]] entry \"" + source_id_ +
         "\" of " + config_file_ + ", " + std::string(kReload);
}

void HttpSource::add_secret(const std::string& secret) {
  if (!secret.empty()) secrets_.push_back(secret);
}

bool HttpSource::echoes_secret(const Review& r, std::string& problem) const {
  for (const std::string& secret : secrets_) {
    for (const std::string* field : {&r.external_id, &r.author, &r.text, &r.translated_text,
                                     &r.reply_text, &r.url, &r.language, &r.location_id}) {
      if (field->find(secret) != std::string::npos) {
        problem = "the review carries this source's credential (an API echoing it back?); skipped";
        return true;
      }
    }
  }
  return false;
}

void HttpSource::stop() {
  stopped_ = true;
  std::lock_guard<std::mutex> lock(mutex_);
  if (active_) active_->stop();
}

HttpSource::Session::Session(HttpSource& owner)
    : owner_(owner), client_(std::make_shared<net::HttpClient>(owner.http_)) {
  for (const auto& s : owner.secrets_) client_->add_secret(s);
  std::lock_guard<std::mutex> lock(owner_.mutex_);
  owner_.active_ = client_;
  if (owner_.stopped_) client_->stop();
}

HttpSource::Session::~Session() {
  std::lock_guard<std::mutex> lock(owner_.mutex_);
  if (owner_.active_ == client_) owner_.active_.reset();
}

net::Response HttpSource::Session::send(const net::Request& request) {
  return client_->send(request);
}

rapidjson::Document HttpSource::parse_body(Session& session, const net::Response& response,
                                           const std::string& what) const {
  rapidjson::Document d;
  if (!net::is_json_content_type(response.content_type)) {
    throw SourceError(
        SourceError::Kind::kGarbage,
        session.client().scrub(what + ": expected JSON, got " + response.content_type + ": \"" +
                               net::body_excerpt(response, 120) + "\""));
  }
  d.Parse<rapidjson::kParseIterativeFlag>(response.body.c_str(), response.body.size());
  if (d.HasParseError()) {
    std::string why = rapidjson::GetParseError_En(d.GetParseError());
    if (d.GetErrorOffset() >= response.body.size()) why += " (truncated?)";
    throw SourceError(SourceError::Kind::kGarbage,
                      session.client().scrub(what + ": invalid JSON at byte " +
                                             std::to_string(d.GetErrorOffset()) + " of " +
                                             std::to_string(response.body.size()) + ": " + why));
  }
  if (!d.IsObject() && !d.IsArray())
    throw SourceError(SourceError::Kind::kGarbage, what + ": expected a JSON object or array");
  return d;
}

rapidjson::Document HttpSource::error_body(const net::Response& response) {
  rapidjson::Document d;
  if (!net::is_json_content_type(response.content_type) || response.body.empty()) return d;
  d.Parse<rapidjson::kParseIterativeFlag>(response.body.c_str(), response.body.size());
  if (d.HasParseError()) d.SetNull();
  return d;
}

SourceError HttpSource::google_error(Session& session, const net::Response& response,
                                     const std::string& what, std::string* reason_out) const {
  rapidjson::Document d = error_body(response);
  std::string message;
  SourceError::Kind kind = net::kind_for_status(response.status);
  if (const auto* err = get_object(d, "error")) {
    auto status = get_string(*err, "status");
    std::string reason;
    if (const auto* details = get_array(*err, "details"))
      for (const auto& det : details->GetArray())
        if (auto r = get_string(det, "reason")) reason = *r;
    if (reason.empty())
      if (const auto* errors = get_array(*err, "errors"))  // legacy v4 shape
        for (const auto& e : errors->GetArray())
          if (auto r = get_string(e, "reason")) reason = *r;
    if (reason_out) *reason_out = reason;
    if (status) message += *status;
    if (!reason.empty()) message += (message.empty() ? "" : " ") + ("(" + reason + ")");
    if (auto m = get_string(*err, "message")) message += (message.empty() ? "" : ": ") + *m;
    if (reason == "API_KEY_INVALID" || reason == "ACCESS_TOKEN_EXPIRED" ||
        reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT" || reason == "SERVICE_DISABLED" ||
        reason == "API_KEY_SERVICE_BLOCKED" || reason.rfind("API_KEY_", 0) == 0 ||
        (status && (*status == "UNAUTHENTICATED" || *status == "PERMISSION_DENIED")))
      kind = SourceError::Kind::kAuth;
    if (reason == "RATE_LIMIT_EXCEEDED" || reason == "userRateLimitExceeded" ||
        reason == "rateLimitExceeded" || (status && *status == "RESOURCE_EXHAUSTED"))
      kind = SourceError::Kind::kTransient;
  }
  SourceError base = net::status_error(response, clean_text(message), what);
  return SourceError(kind, session.client().scrub(base.what()), response.retry_after_seconds);
}

}  // namespace repwatch::connectors
