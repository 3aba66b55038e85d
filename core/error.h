// repwatch/core/error.h - the exceptions every module throws.
//
// Errors are exceptions that carry their context in the message: the file and line, the
// config key, the source id, the HTTP status. Code that catches one may add context by
// throwing a new error whose message starts with where it happened.
//
// Per-record problems that must not stop a whole poll (one bad CSV row, one JSONL line that is
// not JSON) are not thrown: they are collected as `Problem` values and logged, and the rest of
// the input goes on.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace repwatch {

// Base of every repwatch error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A configuration file, taxonomy or lexicon that does not validate. The message names the
// file, line and key: "repwatch.toml:14: sources[2].interval: expected a duration like \"15m\"".
class ConfigError : public Error {
 public:
  using Error::Error;
};

// The database could not be opened, migrated or written. code() is SQLite's extended result
// code (SQLITE_CONSTRAINT_NOTNULL...), 0 when the error did not come from SQLite.
class DbError : public Error {
 public:
  explicit DbError(const std::string& message, int code = 0) : Error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// A source could not be polled. `kind` decides what the scheduler does next (daemon/
// scheduler.h) and which source-health alert it raises (alerts/health.h).
class SourceError : public Error {
 public:
  enum class Kind {
    kTransient,    // network error, timeout, 5xx, 429: retry with backoff
    kAuth,         // 401/403, expired or invalid token: needs attention, not retried quickly
    kGarbage,      // the source answered with something that is not its documented shape
    kConfig,       // the source's settings are wrong (missing file, bad URL)
    kUnavailable,  // the site says, for good, that it does not serve these reviews (Facebook
                   // error 12 on a deprecated edge, Yelp BUSINESS_UNAVAILABLE): asked daily
  };
  SourceError(Kind kind, const std::string& message, int retry_after_seconds = 0)
      : Error(message), kind_(kind), retry_after_(retry_after_seconds) {}
  Kind kind() const { return kind_; }
  // Seconds the source asked us to wait (Retry-After), 0 if it did not say.
  int retry_after_seconds() const { return retry_after_; }

  // What a person should do about it, in words an office manager can act on ("The Facebook
  // Page access token has expired: create a new one and put it in ..."); "" when the
  // connector has nothing more specific to say than its kind (alerts/health.h then words it).
  // Never holds a secret.
  const std::string& advice() const { return advice_; }
  SourceError& advise(std::string advice) {
    advice_ = std::move(advice);
    return *this;
  }

 private:
  Kind kind_;
  int retry_after_;
  std::string advice_;
};

const char* to_string(SourceError::Kind kind);
// The kind named by to_string() ("auth" -> kAuth); nullopt for anything else.
std::optional<SourceError::Kind> parse_source_error_kind(std::string_view name);

// `message` without a leading "<context>: " that a callee already put there, so that a caller
// adding its context names it once: "source x: " + without_context(e.what(), "source x").
std::string_view without_context(std::string_view message, std::string_view context);

// A per-record problem in otherwise good input, e.g. "reviews.csv:17: rating: not a number".
struct Problem {
  std::string where;    // "reviews.csv:17" or "page 3, reviews[4]"
  std::string message;  // what is wrong
  std::string to_string() const { return where.empty() ? message : where + ": " + message; }
};

}  // namespace repwatch
