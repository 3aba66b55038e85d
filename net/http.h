// repwatch/net/http.h - the one HTTP client every connector (and later the webhooks) uses.
//
//   net::global_init();                                   // once, in main(), before any thread
//   net::HttpOptions options = net::HttpOptions::from_settings(config.section("http"));
//   net::HttpClient client(options);
//   client.add_secret(api_key);                           // scrubbed from every message
//   net::Request req("https://api.yelp.com/v3/businesses/x/reviews");
//   req.headers.push_back({"Authorization", "Bearer " + api_key});
//   net::Response res = client.send(req);                 // retried as below
//   if (!res.ok()) throw net::status_error(res, api_message, "source yelp-downtown");
//
// What send() does for you:
// - libcurl easy handle (RAII, reused across the requests of one client so pages of one poll
//   share a connection), CURLOPT_NOSIGNAL, connect and total timeouts, gzip/deflate
//   (CURLOPT_ACCEPT_ENCODING ""), User-Agent "repwatch/<version>", http and https only,
//   redirects not followed (a redirect would carry API-key headers to another host).
// - TLS verification always on (peer and host); `ca_file` / `ca_path` choose the trust store.
//   There is deliberately no option to turn verification off.
// - Proxy: `proxy` from [http]; when absent libcurl reads http_proxy, https_proxy, ALL_PROXY
//   and NO_PROXY from the environment (not upper-case HTTP_PROXY, see "httpoxy");
//   `proxy = ""` disables proxies even when those are set.
// - Response size cap (`max_response_bytes`) enforced in the write callback on the decoded
//   body, so it also stops chunked or unannounced bodies and gzip bombs
//   (CURLOPT_MAXFILESIZE alone does not on libcurl 7.88).
// - Retries with exponential backoff and full jitter on network errors (connect failure,
//   timeout, reset, truncated transfer) and on 408/500/502/503/504; on 429 (and 503) the
//   server's Retry-After (CURLINFO_RETRY_AFTER) is honoured when it is no longer than
//   `max_retry_wait`, otherwise the 429 is returned at once so the scheduler can wait.
//   401 and 403 are never retried.
// - Secrets are never logged: header values are never logged at all, URLs are logged through
//   redact_url(), and every message the client builds passes through scrub() (a
//   core/redact.h Redactor), which replaces each registered secret with "***" and redacts
//   userinfo and secret query values wherever they appear. add_secret() registers one; send()
//   registers the request's own by itself: the values of credential headers (Authorization,
//   X-Goog-Api-Key, ...) and the secrets of its URL (?api_key=..., user:pass@), so an API that
//   echoes the request back in an error cannot get them into a message.
//
// send() throws SourceError only when no HTTP response was obtained (network failure after the
// retries, TLS failure, body over the cap, stop()); any HTTP status, including the last 5xx or
// 429 after the retries, is returned so the connector can read the API's own error message and
// turn it into a SourceError with status_error().
//
// Thread safety: an HttpClient is used by one thread at a time; stop() may be called from any
// thread. Different clients may run on different threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "core/redact.h"

namespace repwatch::net {

// curl_global_init(CURL_GLOBAL_DEFAULT), once per process. repwatchd and the CLI call it at
// the top of main(), before starting any thread (libcurl requires this; it is not thread-safe).
// HttpClient also calls it on construction as a fallback (std::call_once), which is only safe
// when no other thread is using libcurl or OpenSSL at that moment.
void global_init();

// "repwatch/0.1.0"
std::string user_agent();

// Settings of the client, from the [http] section of the config (all optional):
//   connect_timeout = "10s"       # TCP + TLS handshake
//   timeout = "60s"               # whole request, including the body
//   max_response_bytes = 20971520 # larger bodies are refused (kGarbage)
//   retries = 3                   # extra attempts on network errors, 5xx and 429
//   retry_backoff = "1s"          # first backoff; doubles each attempt, with jitter
//   max_backoff = "30s"           # backoff ceiling
//   max_retry_wait = "60s"        # longest Retry-After honoured inline
//   ca_file = "/etc/ssl/certs/ca-certificates.crt"   # or ca_path = "/etc/ssl/certs"
//   proxy = "http://proxy.example:3128"              # absent: environment; "": no proxy
//   no_proxy = "localhost,127.0.0.1"
// Durations accept "90s", "2m", an integer or a fractional number of seconds (0.25).
struct HttpOptions {
  int64_t connect_timeout_ms = 10'000;
  int64_t timeout_ms = 60'000;
  int64_t max_response_bytes = 20 * 1024 * 1024;
  int retries = 3;
  int64_t retry_backoff_ms = 1'000;
  int64_t max_backoff_ms = 30'000;
  int64_t max_retry_wait_ms = 60'000;
  std::string ca_file;  // "" = libcurl's default bundle
  std::string ca_path;
  bool proxy_set = false;  // false: libcurl reads the proxy environment variables
  std::string proxy;       // used when proxy_set ("" disables proxies)
  std::string no_proxy;
  std::string user_agent = net::user_agent();

  // Reads the [http] section; throws ConfigError for bad values or unknown keys.
  static HttpOptions from_settings(const Settings& http);
  // Every key from_settings() accepts.
  static const std::vector<std::string_view>& keys();
};

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  Request() = default;
  explicit Request(std::string get_url) : url(std::move(get_url)) {}

  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;
  std::string body;           // sent when non-empty (or method is POST/PUT/PATCH)
  std::string if_none_match;  // an ETag from a previous Response: sent as If-None-Match
};

struct Response {
  long status = 0;
  std::string body;
  std::string content_type;                    // "application/json; charset=UTF-8" or ""
  std::map<std::string, std::string> headers;  // lower-case names, last value wins
  std::string etag;                            // the ETag header, "" when absent
  int retry_after_seconds = 0;                 // Retry-After, 0 when absent
  int attempts = 1;                            // how many tries send() made

  bool ok() const { return status >= 200 && status < 300; }
  bool not_modified() const { return status == 304; }
  // The value of a header (name case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs the request with the retries described above. See the header comment.
  Response send(const Request& request);

  // Registers a secret that must never appear in messages (an API key, a token). Empty and
  // very short (< 4 bytes) strings are ignored.
  void add_secret(const std::string& secret);
  // Replaces every registered secret in `text` with "***" and redacts userinfo and secret query
  // values (Redactor::redact()). Connectors pass API error messages through this before
  // throwing.
  std::string scrub(std::string text) const;

  // Asks a send() running on another thread to give up: the transfer is aborted (libcurl
  // checks about once a second while a transfer waits) and the backoff sleep cut short; send() then
  // throws SourceError(kTransient, "... stopped").
  void stop();
  bool stopped() const { return stop_->load(); }

  // Drops the connection(s) the client keeps between requests (the next send() reconnects).
  void close_connections();

  const HttpOptions& options() const { return options_; }

 private:
  struct Handle;
  Response attempt(const Request& request, int& curl_code, std::string& curl_error);
  bool sleep_ms(int64_t ms);

  HttpOptions options_;
  std::unique_ptr<Handle> handle_;
  Redactor redactor_;
  std::shared_ptr<std::atomic<bool>> stop_;
  uint64_t rng_state_;
};

// ---- helpers shared by connectors ------------------------------------------------------------

// redact_url() (userinfo and secret query values become "REDACTED") and url_encode()
// (RFC 3986 percent-encoding) live in core/redact.h; they are net's too.
using repwatch::redact_url;
using repwatch::url_encode;
// "name=value&..." with both sides url_encode()d.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);
// Appends "name=value" (value url_encode()d) with '?' or '&' as needed.
std::string add_query(std::string url, std::string_view name, std::string_view value);
// The URL with every `name` parameter of its query removed and "name=value" appended (a
// next-page link that dropped or changed a parameter we must send gets ours back).
std::string set_query(std::string url, std::string_view name, std::string_view value);
// "https://host:port" of a URL ("" when it has no scheme://host).
std::string origin_of(std::string_view url);

// The SourceError kind an unsuccessful HTTP status maps to: 401/403 kAuth; 408, 429 and 5xx
// kTransient; 3xx, 400, 404 and other 4xx kConfig.
SourceError::Kind kind_for_status(long status);

// A one-line excerpt of a body for error messages: the <title> of an HTML page, else the text
// with tags and control characters removed, at most `max_chars` bytes (cut on a UTF-8
// boundary).
std::string body_excerpt(const Response& response, size_t max_chars = 200);

// A SourceError for an unsuccessful response: "<context>: HTTP <status>: <api_message>"
// (api_message falls back to body_excerpt()), with kind_for_status() and the Retry-After.
// The message is not scrubbed: pass it through HttpClient::scrub() or build it from scrubbed
// parts.
SourceError status_error(const Response& response, const std::string& api_message,
                         const std::string& context);

// True when the Content-Type names JSON (application/json, text/json, anything +json) or is
// absent / text/plain (some APIs mislabel JSON); false for HTML, XML and everything else.
bool is_json_content_type(std::string_view content_type);

}  // namespace repwatch::net
