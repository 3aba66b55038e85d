// The example config documents every API connector and [http]: uncommenting those examples
// gives sources every connector accepts, and [http] options net/ accepts.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/config.h"
#include "connectors/connector.h"
#include "net/http.h"

using namespace repwatch;

namespace {

std::string example() {
  std::ifstream in(std::string(REPWATCH_SOURCE_DIR) + "/config/repwatch.example.toml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The commented-out TOML lines ("# key = value", "# [[sources]]") between two markers.
// With `inline_secrets`, credential files (which do not exist here) become inline secrets.
std::string uncomment(const std::string& text, const std::string& from, const std::string& to,
                      bool inline_secrets) {
  size_t b = text.find(from);
  size_t e = text.find(to, b);
  EXPECT_NE(b, std::string::npos) << from;
  EXPECT_NE(e, std::string::npos) << to;
  if (b == std::string::npos || e == std::string::npos) return "";
  std::istringstream block(text.substr(b, e - b));
  std::regex option(R"(^# (\[\[?[a-z.]+\]\]?|[a-z_]+ = .*)$)");
  std::string toml, line;
  while (std::getline(block, line))
    if (std::regex_match(line, option)) toml += line.substr(2) + "\n";
  if (!inline_secrets) return toml;
  return std::regex_replace(toml, std::regex(R"(([a-z_]+)_file = .*)"), "$1 = \"test-secret\"");
}

}  // namespace

TEST(ExampleConfig, EveryApiConnectorIsDocumentedAndValid) {
  std::string text = example();
  std::string sources =
      uncomment(text, "# ---- Other source types", "# ---- Sections each module reads", true);
  std::string http = uncomment(text, "# --- [http]:", "# --- [sentiment]", false);
  std::string toml =
      "state_dir = \"/tmp/rw-example\"\n"
      "[[locations]]\nid = \"downtown\"\n[[locations]]\nid = \"northside\"\n" +
      http + sources;
  Config c = parse_config(toml, "/tmp/rw-example/repwatch.toml");

  std::set<std::string> types;
  for (const auto& s : c.sources) {
    SCOPED_TRACE(s.id);
    types.insert(s.type);
    EXPECT_NO_THROW(connectors::make_connector(s, c));
  }
  EXPECT_EQ(types, (std::set<std::string>{"google_business", "google_places", "yelp", "facebook",
                                          "json_http"}));
  // Every key of the registry's API types is shown.
  for (const char* type : {"google_business", "google_places", "yelp", "facebook", "json_http"})
    EXPECT_EQ(connectors::registry().count(type), 1u) << type;

  net::HttpOptions o = net::HttpOptions::from_settings(c.section("http"));
  EXPECT_EQ(o.timeout_ms, 60'000);
  EXPECT_TRUE(o.proxy_set);
  // Every [http] option appears in the example.
  for (auto key : net::HttpOptions::keys())
    EXPECT_NE(http.find(std::string(key) + " = "), std::string::npos) << key;
}
