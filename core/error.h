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

#include <stdexcept>
#include <string>
#include <string_view>

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

// A source could not be polled. `kind` decides what the scheduler does next.
class SourceError : public Error {
 public:
  enum class Kind {
    kTransient,  // network error, timeout, 5xx, 429: retry with backoff
    kAuth,       // 401/403, expired or invalid token: needs attention, not retried quickly
    kGarbage,    // the source answered with something that is not its documented shape
    kConfig,     // the source's settings are wrong (missing file, bad URL)
  };
  SourceError(Kind kind, const std::string& message, int retry_after_seconds = 0)
      : Error(message), kind_(kind), retry_after_(retry_after_seconds) {}
  Kind kind() const { return kind_; }
  // Seconds the source asked us to wait (Retry-After), 0 if it did not say.
  int retry_after_seconds() const { return retry_after_; }

 private:
  Kind kind_;
  int retry_after_;
};

const char* to_string(SourceError::Kind kind);

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
