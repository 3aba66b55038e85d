// repwatch/core/redact.h - keeping secrets out of every text repwatch writes: log lines, errors
// stored in the database (poll_state.last_error, alert_deliveries.last_error), CLI output.
//
//   Redactor r;
//   r.add(api_key);                          // a secret this process holds
//   r.add_url(source_url);                   // the secrets a URL carries (user:pass@, ?key=)
//   throw SourceError(kind, r.redact(msg));  // "... HTTP 404: no route /v2?api_key=REDACTED"
//
// redact() replaces
//   - every registered secret, as written and URL-encoded ("a/b" and "a%2Fb"), with "***";
//   - in any URL in the text ("scheme://..."), the userinfo ("user:pass@" -> "REDACTED@");
//   - in any query string in the text, with or without scheme and host ("/v2/r?api_key=X",
//     "&access_token=X"), the values of parameters with a secret name -> "REDACTED".
// The last two need no registration: redact_text() applies them alone, for texts whose
// secrets the caller does not hold (a message from another process, a stored error).
//
// A secret name (is_secret_name) is one a query parameter or an HTTP header carrying a
// credential has: "code" (OAuth), "authorization", "cookie", or one containing "token",
// "key", "secret", "pass", "sig", "auth" or "credential" (api_key, access_token, X-Api-Key,
// client_secret, signature, password, ...). Erring towards redacting too much is the point.
//
// What no redactor can do: remove a secret it was never told about that sits in no name=value
// or user:pass@ shape. Connectors register every credential they send (net::HttpClient does it
// for header values and URLs by itself).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace repwatch {

// Whether a query parameter or header name carries a credential (rules above).
bool is_secret_name(std::string_view name);

// The URL with its userinfo replaced by "REDACTED@" and the values of secret query parameters
// by "REDACTED"; the rest (scheme, host, path, other parameters, fragment) unchanged.
std::string redact_url(std::string_view url);

// The secrets a URL carries, as written and percent-decoded: the password of its userinfo
// ("smtp://alerts:s3cret@mail" -> "s3cret") and the values of secret query parameters.
// Empty for a URL without any.
std::vector<std::string> url_secrets(std::string_view url);

// Percent-encodes everything but RFC 3986 unreserved characters (net::url_encode is this).
std::string url_encode(std::string_view text);
// Decodes %XX escapes (and '+' as a space when `plus_is_space`); malformed escapes stay as
// written.
std::string url_decode(std::string_view text, bool plus_is_space = false);

// The pattern part of Redactor::redact(): URLs' userinfo and secret query values, wherever
// they appear in `text`.
std::string redact_text(std::string_view text);

// A set of secrets to remove from texts. Copyable value; not synchronized (one thread at a
// time, or a const one shared).
class Redactor {
 public:
  // Registers a secret. Strings shorter than 4 bytes are ignored (they would match ordinary
  // text everywhere).
  void add(std::string_view secret);
  // Registers what url_secrets() finds in `url`.
  void add_url(std::string_view url);
  // `text` with every registered secret replaced by "***", then redact_text().
  std::string redact(std::string text) const;
  // Whether `text` contains a registered secret (as written or URL-encoded).
  bool contains_secret(std::string_view text) const;
  const std::vector<std::string>& secrets() const { return secrets_; }

 private:
  std::vector<std::string> secrets_;  // as registered
  std::vector<std::string> forms_;    // what is searched: each secret and its URL-encoding
};

}  // namespace repwatch
