// repwatch/connectors/http_source.h - what the HTTP connectors (google_business, google_places,
// yelp, facebook, json_http) share: the [http] client settings, secrets, stop(), JSON parsing
// of API answers with clear errors, text clean-up and the JSON cursor.
//
// Not a public interface of repwatch: other modules use connector.h and registry().
#pragma once

#include <rapidjson/document.h>

#include <atomic>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.h"
#include "net/http.h"

namespace repwatch::connectors {

// The keys a source of this type may have: the common ones (id, type, location...), `own`,
// and for each name in `secrets` the name itself plus name_file and name_env.
std::vector<std::string> allowed_keys(std::initializer_list<std::string_view> own,
                                      std::initializer_list<std::string_view> secrets = {});
void reject_unknown(const Settings& settings, const std::vector<std::string>& allowed);

// A base URL from `key` (default `fallback`): http(s)://..., trailing '/' removed.
std::string base_url_setting(const Settings& settings, std::string_view key,
                             std::string_view fallback);

// Paging and the incremental window of a source that lists newest (or last updated) first,
// from the settings page_size (1..max_page_size), max_pages (>= 1), safety_margin and
// full_sweep_interval. A poll reads back to the cursor's watermark minus the margin; every
// sweep interval (and when there is no watermark yet, or the interval is 0) it reads
// everything, to catch edits and replies of older items.
struct PagedWindow {
  int page_size = 0;
  int max_pages = 100;
  int64_t margin = 3600;
  int64_t sweep = 86400;

  PagedWindow() = default;
  PagedWindow(const Settings& settings, int default_page_size, int max_page_size);

  struct Plan {
    bool full;          // read everything this poll
    int64_t threshold;  // stop at items updated before this (INT64_MIN on a full sweep)
  };
  // `watermark` and `full_at` (the last full sweep) come from the cursor.
  Plan plan(std::optional<int64_t> watermark, int64_t full_at, int64_t now) const;
};

// The reviews a sampling source showed on its last poll (Places: 5, Yelp: 3 per locale), by
// external id with their content hash, kept in the cursor's "seen" object. A review is new or
// edited when its hash differs from last time; the next cursor holds what this poll saw.
class SeenReviews {
 public:
  explicit SeenReviews(const rapidjson::Value& cursor);  // reads cursor["seen"]
  // Records `review` as seen by this poll; true when it is new or changed since the last one.
  // A second sighting of the same id in one poll is ignored (false): the first one counts.
  bool offer(const Review& review);
  bool seen_before(const std::string& external_id) const { return before_.count(external_id); }
  // Adds this poll's "seen" object to `cursor`.
  void write(rapidjson::Value& cursor, rapidjson::Document::AllocatorType& alloc) const;

 private:
  std::map<std::string, std::string> before_, now_;
};

// Valid UTF-8 with no NUL or other C0 control characters except \t \n \r; invalid bytes become
// U+FFFD. Review text from APIs goes through this before it is stored.
std::string clean_text(std::string_view text);

// A JSON document parsed from a cursor string; an empty object for "" or a cursor that is not
// a JSON object (then the connector does a full sync, which is safe: the store dedupes).
rapidjson::Document parse_cursor(const std::string& cursor, const std::string& source_id);
std::string to_json(const rapidjson::Value& value);

// Members of a JSON object; nullopt when absent, null or of another type.
std::optional<std::string> get_string(const rapidjson::Value& object, const char* key);
std::optional<double> get_number(const rapidjson::Value& object, const char* key);
std::optional<int64_t> get_int(const rapidjson::Value& object, const char* key);
std::optional<bool> get_bool(const rapidjson::Value& object, const char* key);
const rapidjson::Value* get_object(const rapidjson::Value& object, const char* key);
const rapidjson::Value* get_array(const rapidjson::Value& object, const char* key);

// Base of the HTTP connectors.
class HttpSource : public Connector {
 public:
  HttpSource(const SourceConfig& source, const Config& config);
  void stop() override;

 protected:
  // One poll's HTTP client; registers the source's secrets; stop() reaches it.
  class Session {
   public:
    explicit Session(HttpSource& owner);
    ~Session();
    net::HttpClient& client() { return *client_; }
    net::Response send(const net::Request& request);

   private:
    HttpSource& owner_;
    std::shared_ptr<net::HttpClient> client_;
  };

  // Registers a secret to scrub from messages (also done for auth header values).
  void add_secret(const std::string& secret);
  // True, with `problem` saying why, when a review carries one of the registered secrets in
  // any field: an API that echoes the key back must not get it stored, put in the cursor or
  // shown to managers. Such a review is skipped as a Problem.
  bool echoes_secret(const Review& review, std::string& problem) const;
  // "source <id>"
  const std::string& context() const { return context_; }
  const std::string& source_id() const { return source_id_; }

  // The body of a successful response as a JSON document. Throws SourceError kGarbage naming
  // `what` when the content type is not JSON (an HTML page, XML) or the JSON does not parse
  // (truncated), with the offset. Parsing is iterative (RapidJSON kParseIterativeFlag), so a
  // hostile, deeply nested answer cannot overflow the stack.
  rapidjson::Document parse_body(Session& session, const net::Response& response,
                                 const std::string& what) const;

  // The body of an error response as JSON (null document when it is not JSON).
  static rapidjson::Document error_body(const net::Response& response);

  // A SourceError for a Google-style error body ({"error": {"code", "message", "status",
  // "details": [{"reason"}]}}): "HTTP 401 UNAUTHENTICATED (ACCESS_TOKEN_EXPIRED): message".
  // `reason`, when given, receives details[].reason (or the legacy errors[].reason).
  SourceError google_error(Session& session, const net::Response& response, const std::string& what,
                           std::string* reason = nullptr) const;

  // The end of an advice (SourceError::advise) that asks a person to renew the credential
  // `secret_key` of this source: where to put the new one (Settings::secret_origin) and how
  // repwatch picks it up - "put it in /etc/repwatch/fb-token (access_token_file), then reload
  // repwatch (sudo systemctl reload repwatchd): it tries this source again at once."
  std::string renew_advice(std::string_view secret_key) const;
  // The same for a setting: "correct page_id in the [[sources]] entry \"fb\" of
  // /etc/repwatch/repwatch.toml, then reload repwatch (...): it tries this source again at once."
  std::string settings_advice(std::string_view keys, std::string_view verb = "correct") const;

  net::HttpOptions http_;
  std::string source_id_;
  std::string location_id_;
  Settings source_settings_;  // the [[sources]] entry
  std::string config_file_;   // the config file, for advice

 private:
  std::string context_;
  std::vector<std::string> secrets_;
  std::mutex mutex_;
  std::shared_ptr<net::HttpClient> active_;
  std::atomic<bool> stopped_{false};
};

}  // namespace repwatch::connectors
