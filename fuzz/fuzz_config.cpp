// fuzz_config: the config loader (config/config.h parse_config) and every typed accessor of
// Settings, on arbitrary bytes as TOML. A bad file must give ConfigError - never a crash, a
// hang or another exception - and the message must name the file.
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "fuzz/fuzz.h"

namespace repwatch::fuzz::config_target {
namespace {

constexpr std::string_view kName = "/nonexistent/fuzz.toml";

// Every line of a config error starts with the file name: one problem per line, each naming
// its place. A TOML syntax error ("file:10:13: ...") is one problem; its description quotes the
// offending input, which may hold a line break, so only its first line is checked.
bool names_file(std::string_view message) {
  auto starts = [](std::string_view line) { return line.substr(0, kName.size()) == kName; };
  if (!starts(message)) return false;
  std::string_view after = message.substr(kName.size());
  size_t colon = after.find(':', 1);
  bool syntax =
      after.size() > 1 && after[0] == ':' && colon != std::string_view::npos &&
      after.substr(1, colon - 1).find_first_not_of("0123456789") == std::string_view::npos &&
      colon + 1 < after.size() && after[colon + 1] >= '0' && after[colon + 1] <= '9';
  if (syntax) return true;
  for (size_t nl = message.find('\n'); nl != std::string_view::npos; nl = message.find('\n')) {
    message.remove_prefix(nl + 1);
    if (!starts(message)) return false;
  }
  return true;
}

// Reads every key of a table through each accessor that could apply; recurses into tables.
void walk(const repwatch::Settings& s, int depth) {
  if (depth > 8) return;
  for (const std::string& key : s.keys()) {
    auto attempt = [&](auto&& f) {
      try {
        f();
      } catch (const repwatch::ConfigError& e) {
        FUZZ_CHECK(names_file(e.what()), e.what());
      }
    };
    attempt([&] { (void)s.string(key); });
    attempt([&] { (void)s.integer(key); });
    attempt([&] { (void)s.number(key); });
    attempt([&] { (void)s.boolean(key); });
    attempt([&] { (void)s.duration(key); });
    attempt([&] { (void)s.path(key); });
    attempt([&] { (void)s.string_list(key); });
    attempt([&] { (void)s.string_map(key); });
    attempt([&] { walk(s.table(key), depth + 1); });
    attempt([&] {
      for (const auto& t : s.table_array(key)) walk(t, depth + 1);
    });
  }
  try {
    s.reject_unknown({"id", "type", "location", "interval", "enabled", "name", "url"});
  } catch (const repwatch::ConfigError&) {
  }
}

}  // namespace
}  // namespace repwatch::fuzz::config_target

REPWATCH_FUZZ_TARGET(config) {
  std::string_view text = as_text(data, size);
  try {
    repwatch::Config config = repwatch::parse_config(text, std::string(config_target::kName));
    FUZZ_CHECK(config.state_dir.is_absolute(), config.state_dir.string());
    for (const auto& source : config.sources) {
      FUZZ_CHECK(config.find_location(source.location) != nullptr, source.location);
      FUZZ_CHECK(source.interval_seconds >= 10, source.id);
    }
    config_target::walk(config.root, 0);
  } catch (const repwatch::ConfigError& e) {
    FUZZ_CHECK(config_target::names_file(e.what()), e.what());
  }
  return 0;
}
