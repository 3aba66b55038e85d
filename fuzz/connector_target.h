// repwatch/fuzz/connector_target.h - drives one HTTP connector (built from a [[sources]] entry
// exactly as the daemon builds it) against ScriptedHttpServer answering with the fuzz input.
//
// What must hold for any answer, however hostile:
//   - fetch() returns or throws SourceError; nothing else escapes (no crash, no other exception);
//   - no secret in the error message, the Problems or the cursor (which is stored in the
//     database), even when the API echoes the key back ("@SECRET@" in the script);
//   - every review has an external id; once through normalize() and limit_review() (as the
//     pipeline stores it) author, text, reply and translation are valid UTF-8 without control
//     characters other than tab and line feed, and its rating lies on 1..5;
//   - a poll makes a bounded number of requests (max_pages), whatever the paging links say;
//   - the returned cursor works for the next poll.
#pragma once

#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "connectors/connector.h"
#include "core/error.h"
#include "fuzz/fuzz.h"
#include "fuzz/http_server.h"
#include "normalize/limits.h"
#include "normalize/normalize.h"

namespace repwatch::fuzz {

inline constexpr std::string_view kFuzzSecret = "FUZZSECRET-k3y-0123456789abcdef";

// A temporary directory holding the secret files, made once per process.
inline const std::filesystem::path& connector_dir() {
  static const std::filesystem::path dir = [] {
    std::string tmpl =
        std::filesystem::temp_directory_path().string() + "/repwatch-fuzz-http.XXXXXX";
    if (!mkdtemp(tmpl.data())) std::abort();
    std::filesystem::path d(tmpl);
    for (const char* name : {"token", "client-secret", "refresh-token"}) {
      {
        std::ofstream out(d / name);
        out << kFuzzSecret << "\n";
      }
      // A secret file must be its owner's alone (Settings::secret() refuses it otherwise).
      std::filesystem::permissions(
          d / name, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
    return d;
  }();
  return dir;
}

inline ScriptedHttpServer& connector_server() {
  static ScriptedHttpServer* server = new ScriptedHttpServer();  // lives for the process
  return *server;
}

// "[[sources]]" settings of the source under test; "@BASE@" becomes the server's base URL and
// "@DIR@" the directory with the secret files.
inline std::string expand(std::string text) {
  auto replace = [&text](std::string_view from, const std::string& to) {
    for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size()))
      text.replace(p, from.size(), to);
  };
  replace("@BASE@", connector_server().base_url());
  replace("@DIR@", connector_dir().string());
  return text;
}

inline bool clean_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
      if (c == 0x7f) return false;
      ++i;
      continue;
    }
    size_t len = (c >= 0xC2 && c <= 0xDF)   ? 2
                 : (c >= 0xE0 && c <= 0xEF) ? 3
                 : (c >= 0xF0 && c <= 0xF4) ? 4
                                            : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

inline void check_no_secret(std::string_view text, const std::string& what) {
  FUZZ_CHECK(text.find(kFuzzSecret) == std::string_view::npos, "secret in " + what);
}

inline void check_result(const connectors::FetchResult& r, int max_requests) {
  FUZZ_CHECK(connector_server().requests() <= max_requests,
             std::to_string(connector_server().requests()) + " requests in one poll");
  check_no_secret(r.cursor, "the cursor");
  for (const auto& p : r.problems) check_no_secret(p.to_string(), "a problem");
  for (const auto& raw : r.reviews) {
    FUZZ_CHECK(!raw.external_id.empty(), "review without an external id");
    // What the pipeline stores: normalized, cleaned and capped (normalize/limits.h).
    Review rv = raw;
    normalize(rv);
    std::string why;
    if (!limit_review(rv, why)) continue;
    for (const std::string* field : {&rv.author, &rv.text, &rv.reply_text, &rv.translated_text})
      FUZZ_CHECK(clean_utf8(*field), "stored field not clean UTF-8: " + field->substr(0, 80));
    if (raw.raw_rating) FUZZ_CHECK(std::isfinite(*raw.raw_rating), "rating not finite");
    // A raw rating off its scale is clamped by normalize/ (documented there); what is stored
    // must be on 1..5.
    if (rv.rating)
      FUZZ_CHECK(*rv.rating >= 1 - 1e-9 && *rv.rating <= 5 + 1e-9,
                 "normalized rating " + std::to_string(*rv.rating));
  }
}

// One fuzz input against the connector of `source_toml` (one [[sources]] entry, location
// "downtown"). data[0] is the mode byte the target already used; the script follows it.
inline int run_connector(std::string_view source_toml, std::string_view script, int max_requests) {
  quiet_logging();
  std::string toml = expand(
      "state_dir = \"@DIR@\"\n"
      "[http]\nretries = 0\ntimeout = \"5s\"\nconnect_timeout = \"2s\"\nmax_retry_wait = \"1s\"\n"
      "[[locations]]\nid = \"downtown\"\n[[sources]]\nid = \"src\"\nlocation = \"downtown\"\n" +
      std::string(source_toml));
  Config config = parse_config(toml, connector_dir() / "repwatch.toml");
  auto connector = connectors::make_connector(config.sources.at(0), config);

  std::string cursor;
  for (int poll = 0; poll < 2; ++poll) {
    connector_server().script(script, std::string(kFuzzSecret));
    try {
      connectors::FetchResult r = connector->fetch(cursor);
      check_result(r, max_requests);
      cursor = r.cursor;
    } catch (const SourceError& e) {
      check_no_secret(e.what(), "the error message");
      FUZZ_CHECK(connector_server().requests() <= max_requests,
                 std::to_string(connector_server().requests()) + " requests in one poll");
    }
  }
  return 0;
}

}  // namespace repwatch::fuzz
