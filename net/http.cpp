#include "net/http.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "core/text.h"

#ifndef REPWATCH_VERSION
#define REPWATCH_VERSION "0"
#endif

namespace repwatch::net {

namespace {

int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

// Cuts `s` to at most `n` bytes without splitting a UTF-8 sequence.
std::string utf8_prefix(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

bool retryable_status(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

bool retryable_curl(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_PROXY:
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> read_millis(const Settings& s, std::string_view key) {
  if (!s.has(key)) return std::nullopt;
  try {
    if (auto n = s.throwing().number(key)) {
      if (*n < 0) s.fail(key, "must not be negative");
      return static_cast<int64_t>(*n * 1000.0 + 0.5);
    }
  } catch (const ConfigError&) {
    // not a number: read it as a duration string below (which reports a bad value)
  }
  auto d = s.duration(key);
  if (!d) return std::nullopt;
  return *d * 1000;
}

}  // namespace

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
      throw Error(std::string("curl_global_init failed: ") + curl_easy_strerror(rc));
  });
}

std::string user_agent() { return std::string("repwatch/") + REPWATCH_VERSION; }

// ---- options --------------------------------------------------------------------------------

const std::vector<std::string_view>& HttpOptions::keys() {
  static const std::vector<std::string_view> k = {
      "connect_timeout", "timeout",       "max_response_bytes",
      "retries",         "retry_backoff", "max_backoff",
      "max_retry_wait",  "ca_file",       "ca_path",
      "proxy",           "no_proxy"};
  return k;
}

HttpOptions HttpOptions::from_settings(const Settings& s) {
  s.reject_unknown(keys());
  HttpOptions o;
  if (auto v = read_millis(s, "connect_timeout")) {
    if (*v <= 0) s.fail("connect_timeout", "must be more than 0");
    o.connect_timeout_ms = *v;
  }
  if (auto v = read_millis(s, "timeout")) {
    if (*v <= 0) s.fail("timeout", "must be more than 0");
    o.timeout_ms = *v;
  }
  if (auto v = s.integer("max_response_bytes")) {
    if (*v < 1024) s.fail("max_response_bytes", "must be at least 1024");
    o.max_response_bytes = *v;
  }
  if (auto v = s.integer("retries")) {
    if (*v < 0 || *v > 10) s.fail("retries", "must be between 0 and 10");
    o.retries = static_cast<int>(*v);
  }
  if (auto v = read_millis(s, "retry_backoff")) o.retry_backoff_ms = *v;
  if (auto v = read_millis(s, "max_backoff")) o.max_backoff_ms = *v;
  if (auto v = read_millis(s, "max_retry_wait")) o.max_retry_wait_ms = *v;
  if (auto p = s.path("ca_file")) {
    if (!std::filesystem::is_regular_file(*p)) s.fail("ca_file", "no such file: " + p->string());
    o.ca_file = p->string();
  }
  if (auto p = s.path("ca_path")) {
    if (!std::filesystem::is_directory(*p)) s.fail("ca_path", "no such directory: " + p->string());
    o.ca_path = p->string();
  }
  if (auto p = s.string("proxy")) {
    o.proxy_set = true;
    o.proxy = *p;
  }
  o.no_proxy = s.string_or("no_proxy", "");
  return o;
}

// ---- response ---------------------------------------------------------------------------------

std::string Response::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

// ---- client -----------------------------------------------------------------------------------

struct HttpClient::Handle {
  CURL* curl = nullptr;
  Handle() : curl(curl_easy_init()) {
    if (!curl) throw SourceError(SourceError::Kind::kTransient, "curl_easy_init failed");
  }
  ~Handle() { curl_easy_cleanup(curl); }
};

namespace {

struct Transfer {
  Response* response = nullptr;
  int64_t cap = 0;
  bool over_cap = false;
  const std::atomic<bool>* stop = nullptr;
};

size_t write_cb(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  if (static_cast<int64_t>(t->response->body.size() + n) > t->cap) {
    t->over_cap = true;
    return 0;  // a short count aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response->body.append(data, n);
  return n;
}

size_t header_cb(char* data, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nitems;
  std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    t->response->headers.clear();  // a new response (after 100 Continue)
    return n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos)
    t->response->headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  return n;
}

int progress_cb(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->stop->load() ? 1 : 0;
}

}  // namespace

HttpClient::HttpClient(HttpOptions options)
    : options_(std::move(options)), stop_(std::make_shared<std::atomic<bool>>(false)) {
  global_init();
  std::random_device rd;
  rng_state_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

HttpClient::~HttpClient() = default;

void HttpClient::add_secret(const std::string& secret) { redactor_.add(secret); }

std::string HttpClient::scrub(std::string text) const { return redactor_.redact(std::move(text)); }

void HttpClient::stop() { stop_->store(true); }

void HttpClient::close_connections() { handle_.reset(); }

bool HttpClient::sleep_ms(int64_t ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (stop_->load()) return false;
    auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(25)));
  }
  return !stop_->load();
}

Response HttpClient::attempt(const Request& req, int& curl_code, std::string& curl_error) {
  if (!handle_) handle_ = std::make_unique<Handle>();
  CURL* c = handle_->curl;
  curl_easy_reset(c);  // keeps the connection cache

  Response res;
  Transfer t{&res, options_.max_response_bytes, false, stop_.get()};
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.ca_path.empty()) curl_easy_setopt(c, CURLOPT_CAPATH, options_.ca_path.c_str());
  if (options_.proxy_set) curl_easy_setopt(c, CURLOPT_PROXY, options_.proxy.c_str());
  if (!options_.no_proxy.empty()) curl_easy_setopt(c, CURLOPT_NOPROXY, options_.no_proxy.c_str());
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_response_bytes));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);

  struct SList {
    curl_slist* list = nullptr;
    ~SList() { curl_slist_free_all(list); }
    void add(const std::string& line) {
      curl_slist* next = curl_slist_append(list, line.c_str());
      if (!next) throw std::bad_alloc();
      list = next;
    }
  } headers;
  for (const auto& h : req.headers) {
    if (h.name.find_first_of("\r\n:") != std::string::npos ||
        h.value.find_first_of("\r\n") != std::string::npos)
      throw SourceError(SourceError::Kind::kConfig,
                        "header \"" + scrub(h.name) + "\" contains a line break or colon");
    headers.add(h.name + ": " + h.value);
  }
  if (!req.if_none_match.empty()) headers.add("If-None-Match: " + req.if_none_match);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.list);

  if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH" || !req.body.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    if (req.method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  CURLcode rc = curl_easy_perform(c);
  curl_code = rc;
  if (rc != CURLE_OK) {
    if (t.over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
      curl_code = -1;  // marks "over the cap"
      curl_error = "response larger than max_response_bytes (" +
                   std::to_string(options_.max_response_bytes) + " bytes)";
    } else if (rc == CURLE_ABORTED_BY_CALLBACK && stop_->load()) {
      curl_code = -2;
      curl_error = "stopped";
    } else {
      curl_error = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
      if (rc == CURLE_OPERATION_TIMEDOUT) curl_error = "timed out (" + curl_error + ")";
    }
    // A failed transfer may leave the connection unusable; start clean next time.
    handle_.reset();
    return res;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res.status);
  char* ct = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) res.content_type = ct;
  curl_off_t retry_after = 0;
  if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
    res.retry_after_seconds = static_cast<int>(std::min<curl_off_t>(retry_after, 86400 * 7));
  res.etag = res.header("etag");
  return res;
}

Response HttpClient::send(const Request& req) {
  // The request's own credentials: in its URL (userinfo, ?key=...) and in its headers.
  redactor_.add_url(req.url);
  for (const auto& h : req.headers) {
    if (!is_secret_name(h.name)) continue;
    add_secret(h.value);
    // "Bearer <token>": the token alone too.
    auto space = h.value.find(' ');
    if (space != std::string::npos) add_secret(h.value.substr(space + 1));
  }
  const std::string where = req.method + " " + redact_url(req.url);
  auto started = std::chrono::steady_clock::now();
  std::string last_error;
  for (int attempt = 0;; ++attempt) {
    if (stop_->load()) throw SourceError(SourceError::Kind::kTransient, scrub(where + ": stopped"));
    int code = 0;
    std::string error;
    auto t0 = std::chrono::steady_clock::now();
    Response res = this->attempt(req, code, error);
    res.attempts = attempt + 1;
    const bool last = attempt >= options_.retries;
    int64_t backoff =
        std::min(options_.max_backoff_ms, options_.retry_backoff_ms << std::min(attempt, 20));
    // Full jitter in [backoff/2, backoff].
    rng_state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = rng_state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    int64_t wait = backoff / 2 + (backoff > 1 ? static_cast<int64_t>(z % (backoff / 2 + 1)) : 0);

    if (code != 0) {
      if (code == -1) throw SourceError(SourceError::Kind::kGarbage, scrub(where + ": " + error));
      if (code == -2) throw SourceError(SourceError::Kind::kTransient, scrub(where + ": stopped"));
      auto rc = static_cast<CURLcode>(code);
      if (!retryable_curl(rc)) {
        SourceError::Kind kind = SourceError::Kind::kTransient;
        if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
            rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT ||
            rc == CURLE_SSL_CERTPROBLEM)
          kind = SourceError::Kind::kConfig;
        else if (rc == CURLE_BAD_CONTENT_ENCODING || rc == CURLE_WEIRD_SERVER_REPLY)
          kind = SourceError::Kind::kGarbage;
        throw SourceError(kind, scrub(where + ": " + error));
      }
      if (last) {
        throw SourceError(SourceError::Kind::kTransient,
                          scrub(where + ": " + error + " (" + std::to_string(attempt + 1) +
                                (attempt == 0 ? " attempt)" : " attempts)")));
      }
      spdlog::warn("{}: {}; retry {}/{} in {} ms", scrub(where), scrub(error), attempt + 1,
                   options_.retries, wait);
      if (!sleep_ms(wait))
        throw SourceError(SourceError::Kind::kTransient, scrub(where + ": stopped"));
      continue;
    }

    spdlog::debug("{} -> {} ({} bytes, {} ms)", scrub(where), res.status, res.body.size(),
                  elapsed_ms(t0));
    if (!retryable_status(res.status) || last) {
      if (!res.ok() && res.status != 304)
        spdlog::debug("{}: HTTP {} after {} attempt(s), {} ms", scrub(where), res.status,
                      attempt + 1, elapsed_ms(started));
      return res;
    }
    if ((res.status == 429 || res.status == 503) && res.retry_after_seconds > 0) {
      int64_t asked = static_cast<int64_t>(res.retry_after_seconds) * 1000;
      if (asked > options_.max_retry_wait_ms) return res;  // the scheduler waits instead
      wait = asked;
    }
    spdlog::warn("{}: HTTP {}; retry {}/{} in {} ms", scrub(where), res.status, attempt + 1,
                 options_.retries, wait);
    if (!sleep_ms(wait))
      throw SourceError(SourceError::Kind::kTransient, scrub(where + ": stopped"));
  }
}

// ---- helpers ----------------------------------------------------------------------------------

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += url_encode(name) + "=" + url_encode(value);
  }
  return out;
}

std::string add_query(std::string url, std::string_view name, std::string_view value) {
  auto hash = url.find('#');
  std::string fragment;
  if (hash != std::string::npos) {
    fragment = url.substr(hash);
    url.resize(hash);
  }
  char sep = url.find('?') == std::string::npos         ? '?'
             : (url.back() == '?' || url.back() == '&') ? '\0'
                                                        : '&';
  if (sep) url += sep;
  url += url_encode(name);
  url += '=';
  url += url_encode(value);
  return url + fragment;
}

std::string set_query(std::string url, std::string_view name, std::string_view value) {
  const size_t end = std::min(url.find('#'), url.size());
  const size_t q = url.find('?');
  if (q < end) {
    const std::string encoded = url_encode(name);
    std::string kept;
    for (size_t pos = q + 1; pos <= end;) {
      size_t amp = std::min(url.find('&', pos), end);
      std::string_view param(url.data() + pos, amp - pos);
      std::string_view key = param.substr(0, param.find('='));
      if (!param.empty() && key != name && key != encoded) {
        if (!kept.empty()) kept += '&';
        kept += param;
      }
      pos = amp + 1;
    }
    url.replace(q + 1, end - q - 1, kept);
  }
  return add_query(std::move(url), name, value);  // (keeps a #fragment at the end)
}

std::string origin_of(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos || scheme == 0) return "";
  auto end = url.find_first_of("/?#", scheme + 3);
  return lower(url.substr(0, end == std::string_view::npos ? url.size() : end));
}

SourceError::Kind kind_for_status(long status) {
  if (status == 401 || status == 403) return SourceError::Kind::kAuth;
  if (status == 408 || status == 429 || status >= 500) return SourceError::Kind::kTransient;
  return SourceError::Kind::kConfig;
}

std::string body_excerpt(const Response& response, size_t max_chars) {
  const std::string& body = response.body;
  std::string text;
  std::string lower_head = lower(std::string_view(body).substr(0, 4096));
  auto t = lower_head.find("<title");
  if (t != std::string::npos) {
    auto open_end = lower_head.find('>', t);
    auto close = lower_head.find("</title", t);
    if (open_end != std::string::npos && close != std::string::npos && close > open_end)
      text = body.substr(open_end + 1, close - open_end - 1);
  }
  if (text.empty()) text = body.substr(0, std::min<size_t>(body.size(), max_chars * 4));
  // Strip tags, turn control characters into spaces, collapse runs of spaces.
  std::string out;
  bool in_tag = false;
  bool space = false;
  for (char ch : text) {
    if (ch == '<') {
      in_tag = true;
      continue;
    }
    if (in_tag) {
      if (ch == '>') {
        in_tag = false;
        space = !out.empty();
      }
      continue;
    }
    auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f || ch == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += ch;
  }
  return utf8_prefix(out, max_chars);
}

SourceError status_error(const Response& response, const std::string& api_message,
                         const std::string& context) {
  std::string message = context + ": HTTP " + std::to_string(response.status);
  std::string detail = api_message.empty() ? body_excerpt(response) : api_message;
  if (!detail.empty()) message += ": " + detail;
  return SourceError(kind_for_status(response.status), message, response.retry_after_seconds);
}

bool is_json_content_type(std::string_view content_type) {
  std::string ct = lower(trim(content_type.substr(0, content_type.find(';'))));
  if (ct.empty() || ct == "text/plain") return true;
  if (ct == "application/json" || ct == "text/json" || ct == "application/javascript") return true;
  return ct.size() > 5 && ct.compare(ct.size() - 5, 5, "+json") == 0;
}

}  // namespace repwatch::net
