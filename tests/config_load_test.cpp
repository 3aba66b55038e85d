// config/: loading, validation messages (file:line: key: message), typed accessors, secrets.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "tests/fixtures/temp_dir.h"

namespace fs = std::filesystem;
using repwatch::Config;
using repwatch::ConfigError;
using repwatch::Settings;

namespace {

using repwatch::testing::TempDir;

void write(const fs::path& p, const std::string& text,
           fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
  std::ofstream(p, std::ios::binary) << text;
  fs::permissions(p, perms);
}

// The message of the ConfigError that `f` throws ("" when it does not throw).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* kGood = R"(# a good config
state_dir = "state"
log_level = "debug"

[[locations]]
id = "downtown"
name = "Downtown Family Practice"

[[locations]]
id = "northside"

[[sources]]
id = "google-downtown"
type = "file"
location = "downtown"
interval = "1h30m"
path = "imports/google"

[[sources]]
id = "survey"
type = "file"
location = "northside"
enabled = false
interval = 120

[smtp]
host = "mail.example.org"
port = 587
)";

}  // namespace

TEST(ConfigLoad, GoodConfigLoads) {
  TempDir dir;
  write(dir.path() / "repwatch.toml", kGood);
  Config c = repwatch::load_config(dir.path() / "repwatch.toml");
  EXPECT_EQ(c.state_dir, dir.path() / "state");
  EXPECT_TRUE(c.state_dir.is_absolute());
  EXPECT_EQ(c.database, dir.path() / "state" / "repwatch.db");
  EXPECT_EQ(c.log_level, "debug");
  ASSERT_EQ(c.locations.size(), 2u);
  EXPECT_EQ(c.locations[0].name, "Downtown Family Practice");
  EXPECT_EQ(c.locations[1].name, "northside");  // defaults to the id
  ASSERT_EQ(c.sources.size(), 2u);
  EXPECT_EQ(c.sources[0].interval_seconds, 5400);
  EXPECT_TRUE(c.sources[0].enabled);
  EXPECT_EQ(c.sources[1].interval_seconds, 120);
  EXPECT_FALSE(c.sources[1].enabled);
  EXPECT_EQ(c.sources[0].settings.where(), "sources[0]");
  EXPECT_EQ(*c.sources[0].settings.path("path"), dir.path() / "imports" / "google");
  ASSERT_NE(c.find_source("survey"), nullptr);
  EXPECT_EQ(c.find_source("nope"), nullptr);
  EXPECT_EQ(c.find_location("northside")->id, "northside");
  EXPECT_EQ(c.section("smtp").string("host"), "mail.example.org");
  EXPECT_EQ(c.section("smtp").integer("port"), 587);
  EXPECT_FALSE(c.section("alerts").has("anything"));
  EXPECT_EQ(c.section("alerts").where(), "alerts");
}

TEST(ConfigLoad, DefaultsAndAbsolutePaths) {
  Config c = repwatch::parse_config("state_dir = \"/var/lib/repwatch\"\ndatabase = \"/tmp/x.db\"\n",
                                    "/etc/repwatch/repwatch.toml");
  EXPECT_EQ(c.state_dir, "/var/lib/repwatch");
  EXPECT_EQ(c.database, "/tmp/x.db");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_TRUE(c.sources.empty());
}

TEST(ConfigLoad, IntervalErrorNamesFileLineAndKey) {
  std::string text = std::string(kGood);
  text.replace(text.find("interval = \"1h30m\""), 18, "interval = \"fast\"");
  std::string err = error_of([&] { repwatch::parse_config(text, "repwatch.toml"); });
  EXPECT_EQ(err,
            "repwatch.toml:16: sources[0].interval: expected a duration like \"15m\", got "
            "\"fast\"");
}

TEST(ConfigLoad, CollectsEveryProblemOnePerLine) {
  const char* text = R"(log_level = "verbose"
stat_dir = "/x"

[[locations]]
id = "downtown"

[[locations]]
id = "downtown"

[[sources]]
id = "bad id!"
type = "file"
location = "downtwon"

[[sources]]
type = ""
location = "downtown"
interval = "5s"
enabled = "yes"
)";
  std::string err = error_of([&] { repwatch::parse_config(text, "c.toml"); });
  EXPECT_NE(err.find("c.toml:2: stat_dir: unknown key; did you mean \"state_dir\"?"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("c.toml: state_dir: is required"), std::string::npos) << err;
  EXPECT_NE(err.find("c.toml:1: log_level: expected one of"), std::string::npos) << err;
  EXPECT_NE(err.find("c.toml:8: locations[1].id: duplicate location id \"downtown\""),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("c.toml:11: sources[0].id: \"bad id!\" is not a valid id"), std::string::npos)
      << err;
  EXPECT_NE(err.find("c.toml:13: sources[0].location: no [[locations]] entry has id "
                     "\"downtwon\"; did you mean \"downtown\"?"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("c.toml:15: sources[1].id: is required"), std::string::npos) << err;
  EXPECT_NE(err.find("c.toml:16: sources[1].type: must not be empty"), std::string::npos) << err;
  EXPECT_NE(err.find("c.toml:18: sources[1].interval: must be at least"), std::string::npos) << err;
  EXPECT_NE(err.find("c.toml:19: sources[1].enabled: expected true or false, got \"yes\""),
            std::string::npos)
      << err;
  // One problem per line, every line names the file.
  size_t lines = 0;
  size_t start = 0;
  while (start < err.size()) {
    size_t end = err.find('\n', start);
    if (end == std::string::npos) end = err.size();
    EXPECT_EQ(err.compare(start, 6, "c.toml"), 0) << err.substr(start, end - start);
    ++lines;
    start = end + 1;
  }
  EXPECT_EQ(lines, 10u) << err;
}

TEST(ConfigLoad, DuplicateSourceIds) {
  std::string text = std::string(kGood);
  text.replace(text.find("id = \"survey\""), 13, "id = \"google-downtown\"");
  std::string err = error_of([&] { repwatch::parse_config(text, "r.toml"); });
  EXPECT_EQ(err, "r.toml:20: sources[1].id: duplicate source id \"google-downtown\"");
}

TEST(ConfigLoad, TomlSyntaxErrorNamesLineAndColumn) {
  std::string err =
      error_of([] { repwatch::parse_config("state_dir = \"/x\"\n[smtp\nhost = 1\n", "s.toml"); });
  EXPECT_EQ(err.rfind("s.toml:2:", 0), 0u) << err;
}

TEST(ConfigLoad, MissingFile) {
  std::string err = error_of([] { repwatch::load_config("/nonexistent/repwatch.toml"); });
  EXPECT_EQ(err, "/nonexistent/repwatch.toml: cannot read: No such file or directory");
}

TEST(ConfigLoad, ModuleSectionsMustBeTables) {
  std::string err =
      error_of([] { repwatch::parse_config("state_dir = \"/x\"\nsmtp = \"host\"\n", "m.toml"); });
  EXPECT_EQ(err, "m.toml:2: smtp: expected a table, got \"host\"");
  err = error_of(
      [] { repwatch::parse_config("state_dir = \"/x\"\n[sources]\nid = \"a\"\n", "m.toml"); });
  EXPECT_EQ(err.rfind("m.toml:2: sources: expected an array of tables [[sources]]", 0), 0u) << err;
}

TEST(ConfigSettings, TypedAccessors) {
  const char* text = R"(state_dir = "/x"
[http]
name = "n"
count = 3
ratio = 0.5
flag = true
wait = "2h"
secs = 45
list = ["a", "b"]
one = "solo"
headers = { Accept = "application/json", "X-Api" = "v" }
bad_headers = { Accept = 1 }
[http.inner]
deep = "yes"
)";
  Config c = repwatch::parse_config(text, "/etc/r.toml");
  Settings http = c.section("http");
  EXPECT_EQ(http.string("name"), "n");
  EXPECT_EQ(http.string_or("missing", "dflt"), "dflt");
  EXPECT_EQ(http.integer("count"), 3);
  EXPECT_EQ(http.number("count"), 3.0);
  EXPECT_EQ(http.number("ratio"), 0.5);
  EXPECT_EQ(http.boolean("flag"), true);
  EXPECT_EQ(http.duration("wait"), 7200);
  EXPECT_EQ(http.duration("secs"), 45);
  EXPECT_EQ(http.string_list("list"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(http.string_list("one"), (std::vector<std::string>{"solo"}));
  EXPECT_TRUE(http.string_list("none").empty());
  auto headers = http.string_map("headers");
  EXPECT_EQ(headers["Accept"], "application/json");
  EXPECT_EQ(headers["X-Api"], "v");
  EXPECT_EQ(http.table("inner").string("deep"), "yes");
  EXPECT_EQ(http.table("inner").where(), "http.inner");
  EXPECT_EQ(http.base_dir(), "/etc");
  EXPECT_FALSE(http.integer("missing"));

  EXPECT_EQ(error_of([&] { http.integer("name"); }),
            "/etc/r.toml:3: http.name: expected an integer, got \"n\"");
  EXPECT_EQ(error_of([&] { http.integer("ratio"); }),
            "/etc/r.toml:5: http.ratio: expected an integer, got 0.5");
  EXPECT_EQ(error_of([&] { http.string("count"); }),
            "/etc/r.toml:4: http.count: expected a string, got 3");
  EXPECT_EQ(error_of([&] { http.duration("name"); }),
            "/etc/r.toml:3: http.name: expected a duration like \"15m\", got \"n\"");
  EXPECT_EQ(error_of([&] { http.string_map("bad_headers"); }),
            "/etc/r.toml:12: http.bad_headers.Accept: expected a string, got 1");
  EXPECT_EQ(error_of([&] { http.require_string("absent"); }),
            "/etc/r.toml:2: http.absent: is required");
  EXPECT_EQ(error_of([&] { http.table("inner").fail("deep", "no good"); }),
            "/etc/r.toml:14: http.inner.deep: no good");
}

TEST(ConfigSettings, RejectUnknownSuggestsClosestKey) {
  Config c = repwatch::parse_config(
      "state_dir = \"/x\"\n[smtp]\nhost = \"h\"\npasword_file = \"p\"\nzzz = 1\n", "u.toml");
  std::string err = error_of([&] {
    c.section("smtp").reject_unknown({"host", "port", "password", "password_file"});
  });
  EXPECT_EQ(err,
            "u.toml:4: smtp.pasword_file: unknown key; did you mean \"password_file\"?\n"
            "u.toml:5: smtp.zzz: unknown key");
  EXPECT_NO_THROW(c.section("smtp").reject_unknown({"host", "pasword_file", "zzz"}));
}

TEST(ConfigSecrets, InlineFileEnvAndCredentialsDirectory) {
  TempDir dir;
  fs::create_directories(dir.path() / "creds");
  write(dir.path() / "token.txt", "from-base-dir\n");
  write(dir.path() / "creds" / "token.txt", "from-credentials\r\n");
  write(dir.path() / "abs.txt", "absolute-secret\n");
  write(dir.path() / "repwatch.toml",
        "state_dir = \"/x\"\n[smtp]\npassword = \"inline-secret\"\n"
        "[http]\ntoken_file = \"token.txt\"\n[webhook]\ntoken_file = \"" +
            (dir.path() / "abs.txt").string() +
            "\"\n[digest]\ntoken_env = \"RW_TEST_TOKEN\"\n"
            "[daemon]\ntoken_env = \"RW_TEST_UNSET_VAR\"\n[cli]\ntoken_file = \"missing.txt\"\n");
  Config c = repwatch::load_config(dir.path() / "repwatch.toml");

  EXPECT_EQ(c.section("smtp").secret("password"), "inline-secret");
  EXPECT_FALSE(c.section("smtp").secret("token"));

  ::unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_EQ(c.section("http").secret("token"), "from-base-dir");
  ::setenv("CREDENTIALS_DIRECTORY", (dir.path() / "creds").c_str(), 1);
  EXPECT_EQ(c.section("http").secret("token"), "from-credentials");
  ::unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_EQ(c.section("webhook").secret("token"), "absolute-secret");

  ::setenv("RW_TEST_TOKEN", "env-secret", 1);
  EXPECT_EQ(c.section("digest").secret("token"), "env-secret");
  ::unsetenv("RW_TEST_TOKEN");
  std::string err = error_of([&] { c.section("digest").secret("token"); });
  EXPECT_NE(err.find(":9: digest.token_env: environment variable RW_TEST_TOKEN is not set"),
            std::string::npos)
      << err;
  err = error_of([&] { c.section("cli").secret("token"); });
  EXPECT_NE(err.find(":13: cli.token_file: cannot read"), std::string::npos) << err;
}

TEST(ConfigSecrets, NeverInMessages) {
  Config c = repwatch::parse_config(
      "state_dir = \"/x\"\n[smtp]\npassword = 12345678\n[webhook]\ntoken_env = \"\"\n", "s.toml");
  std::string err = error_of([&] { c.section("smtp").secret("password"); });
  EXPECT_EQ(err, "s.toml:3: smtp.password: expected a string (the secret), got an integer");
  EXPECT_EQ(err.find("12345678"), std::string::npos);
}

// Managers in group repwatch read the config: an inline secret is refused in a file that its
// group or others can read (0640 as well as 0644), naming the file's mode and owners and the
// fix, never the value; in a file only its owner reads (0600) it is fine.
TEST(ConfigSecrets, InlineSecretRefusedInAFileOthersCanRead) {
  TempDir dir;
  for (auto perms : {fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read,
                     fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read}) {
    write(dir.path() / "r.toml", "state_dir = \"/x\"\n[smtp]\npassword = \"hunter2\"\n", perms);
    Config c = repwatch::load_config(dir.path() / "r.toml");
    std::string err = error_of([&] { c.section("smtp").secret("password"); });
    EXPECT_NE(err.find(":3: smtp.password: a secret written in a config file that others can "
                       "read (mode 06"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("password_file = \"/etc/repwatch/secrets/password\""), std::string::npos)
        << err;
    EXPECT_EQ(err.find("hunter2"), std::string::npos);
  }
  write(dir.path() / "r.toml", "state_dir = \"/x\"\n[smtp]\npassword = \"hunter2\"\n");
  EXPECT_EQ(repwatch::load_config(dir.path() / "r.toml").section("smtp").secret("password"),
            "hunter2");
}

// A secret file its group or others can read is refused (naming the file, its mode and the
// fix); one only its owner reads is fine; systemd's credentials are trusted as they are.
TEST(ConfigSecrets, SecretFileOthersCanReadIsRefused) {
  TempDir dir;
  write(dir.path() / "repwatch.toml", "state_dir = \"/x\"\n[smtp]\npassword_file = \"pw\"\n");
  Config c = repwatch::load_config(dir.path() / "repwatch.toml");
  write(dir.path() / "pw", "s3cret-value\n",
        fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  std::string err = error_of([&] { c.section("smtp").secret("password"); });
  EXPECT_NE(err.find(":3: smtp.password_file: \"" + (dir.path() / "pw").string() +
                     "\" can be read by others (mode 0640"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("chmod 0600"), std::string::npos) << err;
  EXPECT_EQ(err.find("s3cret-value"), std::string::npos);
  fs::permissions(dir.path() / "pw", fs::perms::owner_read);
  EXPECT_EQ(c.section("smtp").secret("password"), "s3cret-value");

  fs::create_directories(dir.path() / "creds");
  write(dir.path() / "creds" / "pw", "from-systemd\n",
        fs::perms::owner_read | fs::perms::group_read);
  ::setenv("CREDENTIALS_DIRECTORY", (dir.path() / "creds").c_str(), 1);
  EXPECT_EQ(c.section("smtp").secret("password"), "from-systemd");
  ::unsetenv("CREDENTIALS_DIRECTORY");
}

// With a ConfigReport, every mistake of every key is recorded, in file order, each once: a
// mistyped value answers as absent and the "is required" that follows is not repeated.
TEST(ConfigReport, RecordsEveryMistakeOnce) {
  TempDir dir;
  write(dir.path() / "c.toml",
        "state_dir = 5\nlog_level = \"loud\"\n[[locations]]\nid = \"a\"\n"
        "[[sources]]\nid = \"s\"\ntype = \"file\"\nlocation = \"a\"\ninterval = \"fast\"\n"
        "enabled = \"yes\"\n[smtp]\ntimeout = []\nurl = 7\nbogus = 1\n");
  auto report = std::make_shared<repwatch::ConfigReport>(dir.path() / "c.toml");
  Config c = repwatch::load_config(dir.path() / "c.toml", report);
  Settings smtp = c.section("smtp");
  EXPECT_FALSE(smtp.duration("timeout"));  // recorded, answered as absent
  EXPECT_FALSE(smtp.string("url"));
  EXPECT_THROW(smtp.require_string("url"), ConfigError);  // a repeat: thrown, not recorded again
  smtp.reject_unknown({"timeout", "url"});                // recorded, not thrown
  const std::string f = (dir.path() / "c.toml").string();
  EXPECT_EQ(report->lines(),
            (std::vector<std::string>{
                f + ":1: state_dir: expected a string, got 5",
                f + ":2: log_level: expected one of trace, debug, info, warn, error, got \"loud\"",
                f + ":9: sources[0].interval: expected a duration like \"15m\", got \"fast\"",
                f + ":10: sources[0].enabled: expected true or false, got \"yes\"",
                f + ":12: smtp.timeout: expected a duration like \"15m\", got []",
                f + ":13: smtp.url: expected a string, got 7",
                f + ":14: smtp.bogus: unknown key",
            }));
}

// A file named by a key that cannot be read is a mistake of that key.
TEST(ConfigLoad, ReadablePathNamesTheKey) {
  TempDir dir;
  write(dir.path() / "c.toml", "state_dir = \"/x\"\n[sentiment]\ntaxonomy = \"nope.toml\"\n");
  Config c = repwatch::load_config(dir.path() / "c.toml");
  std::string err = error_of([&] { c.section("sentiment").readable_path("taxonomy"); });
  EXPECT_EQ(err, (dir.path() / "c.toml").string() + ":3: sentiment.taxonomy: cannot read \"" +
                     (dir.path() / "nope.toml").string() + "\": no such file or directory");
  write(dir.path() / "nope.toml", "x");
  EXPECT_EQ(c.section("sentiment").readable_path("taxonomy"), dir.path() / "nope.toml");
  err = error_of([&] { c.section("sentiment").readable_path("taxonomy", /*directory=*/true); });
  EXPECT_NE(err.find("not a directory"), std::string::npos) << err;
}

TEST(ConfigLoad, ExampleConfigIsValid) {
  fs::path example = fs::path(REPWATCH_SOURCE_DIR) / "config" / "repwatch.example.toml";
  Config c = repwatch::parse_config(
      [&] {
        std::ifstream in(example);
        return std::string(std::istreambuf_iterator<char>(in), {});
      }(),
      example);
  EXPECT_FALSE(c.sources.empty());
  EXPECT_FALSE(c.locations.empty());
}
