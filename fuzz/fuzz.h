// repwatch/fuzz/fuzz.h - what every fuzz target shares.
//
// A target is one .cpp in fuzz/ that defines its entry point with
//
//   REPWATCH_FUZZ_TARGET(config) {   // (const uint8_t* data, size_t size) -> int
//     ...parse the bytes; FUZZ_CHECK(invariant, "what broke");
//     return 0;
//   }
//
// Built with -DREPWATCH_FUZZ=ON (fuzz/CMakeLists.txt, scripts/fuzz) it becomes a libFuzzer
// program `fuzz_config` under ASan+UBSan. The normal test build compiles the very same file into
// tests/reliability_fuzz_regressions_test.cpp (REPWATCH_FUZZ_REPLAY defined), which replays
// fuzz/regressions/<target>/* and the seed corpus through the same entry point, so every input
// that once crashed stays a regression test.
//
// Expected failures (ConfigError for a bad config, SourceError for a garbage response) are
// caught by the target; anything else escaping - another exception, a sanitizer report, a
// FUZZ_CHECK - is a finding.
#pragma once

#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace repwatch::fuzz {

using TargetFn = int (*)(const uint8_t* data, size_t size);

// An invariant of a target does not hold. Thrown in replay mode (the test reports it); in
// fuzz mode the process aborts so libFuzzer saves the input.
class CheckFailure : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] inline void check_failed(const char* file, int line, const char* expr,
                                      const std::string& what) {
  std::string msg =
      std::string(file) + ":" + std::to_string(line) + ": FUZZ_CHECK(" + expr + ") failed: " + what;
#ifdef REPWATCH_FUZZ_REPLAY
  throw CheckFailure(msg);
#else
  std::fprintf(stderr, "%s\n", msg.c_str());
  std::fflush(stderr);
  std::abort();
#endif
}

// The targets compiled into this program, by name (replay mode only).
inline std::map<std::string, TargetFn>& targets() {
  static std::map<std::string, TargetFn> table;
  return table;
}
inline bool register_target(const char* name, TargetFn fn) {
  targets()[name] = fn;
  return true;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits fuzz input into fields at a separator byte, for targets that take several strings
// (an email's subject, author, text...). Missing fields are empty.
class Fields {
 public:
  Fields(const uint8_t* data, size_t size, char sep = '\x1f')
      : rest_(as_text(data, size)), sep_(sep) {}
  std::string next() {
    size_t p = rest_.find(sep_);
    std::string out(rest_.substr(0, p));
    rest_ = p == std::string_view::npos ? std::string_view() : rest_.substr(p + 1);
    return out;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
  char sep_;
};

// Silences the spdlog default logger once (targets must not spend their time printing).
inline void quiet_logging() {
  static const bool once = (spdlog::set_level(spdlog::level::off), true);
  (void)once;
}

}  // namespace repwatch::fuzz

#define FUZZ_CHECK(cond, what)                                                      \
  do {                                                                              \
    if (!(cond)) ::repwatch::fuzz::check_failed(__FILE__, __LINE__, #cond, (what)); \
  } while (0)

#ifdef REPWATCH_FUZZ_REPLAY
#define REPWATCH_FUZZ_ENTRY(name)                                                 \
  namespace repwatch::fuzz::name##_target {                                       \
    [[maybe_unused]] static const bool registered = register_target(#name, &run); \
  }
#else
#define REPWATCH_FUZZ_ENTRY(name)                                           \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    ::repwatch::fuzz::quiet_logging();                                      \
    return ::repwatch::fuzz::name##_target::run(data, size);                \
  }
#endif

#define REPWATCH_FUZZ_TARGET(name)             \
  namespace repwatch::fuzz::name##_target {    \
    int run(const uint8_t* data, size_t size); \
  }                                            \
  REPWATCH_FUZZ_ENTRY(name)                    \
  int repwatch::fuzz::name##_target::run(const uint8_t* data, size_t size)
