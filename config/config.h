// repwatch/config/config.h - the one TOML file that describes a repwatch installation.
//
//   state_dir = "/var/lib/repwatch"       # database and alert spool live here
//   [[locations]]  id = "downtown" ...
//   [[sources]]    id = "google-downtown", type = "google_business", location = "downtown",
//                  interval = "15m", plus the connector's own keys
//   [sentiment], [http], [alerts], [smtp], ...: sections each module reads for itself
//
// load_config() validates the structure every module shares (state dir, locations, sources)
// and hands each module its own section as `Settings`, which reads typed values and reports
// mistakes with file, line and key: "repwatch.toml:14: sources[2].interval: expected a duration
// like \"15m\", got \"fast\"". See config/repwatch.example.toml for every option.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace repwatch {

// Every mistake of a config file, for repwatchd's start, reload and --check-config, which
// report them all in one run instead of stopping at the first. Handed to load_config(), it is
// shared by the Config and every Settings taken from it, which then record instead of
// throwing where they can go on (see Settings). Lines read "file:line: key: message".
class ConfigReport {
 public:
  explicit ConfigReport(std::filesystem::path config_file = {});

  // Records `line` about the key `key_path` ("sources[2].interval"; "" when about no key).
  // A second line about a key that already has one is dropped: a mistyped value is reported
  // once, not again as "is required" by the module that then finds it absent.
  void add(const std::string& key_path, const std::string& line);
  // Records each line of a caught error's message that was not recorded or dropped before
  // (a Settings::fail() records its line and then throws it).
  void add_error(const std::string& message);

  bool empty() const { return lines_.empty(); }
  // In file order: lines without a line number of the config file first, then by line.
  std::vector<std::string> lines() const;

  // Ends collecting: from now on the Config's Settings throw again, as at run time (a secret
  // file read at every poll must fail that poll, not add a line here). Call it once the whole
  // config has been checked.
  void stop_collecting() { collecting_ = false; }
  bool collecting() const { return collecting_; }

 private:
  bool collecting_ = true;
  std::filesystem::path file_;
  std::vector<std::string> lines_;
  std::vector<std::string> keys_;     // key paths with a line
  std::vector<std::string> dropped_;  // lines dropped as repeats
};

// A read-only view of one TOML table of the config, e.g. one [[sources]] entry or [smtp].
// Every accessor throws ConfigError naming file, line and key when the value has the wrong
// type; absent keys give nullopt (or the default). When the config was loaded with a
// ConfigReport, mistakes a caller can go on from are recorded there instead of thrown: a
// mistyped value answers as if absent, reject_unknown() and a mistyped table or array element
// are recorded, and fail() records its line before throwing it.
class Settings {
 public:
  Settings();  // an empty table
  ~Settings();
  Settings(const Settings&);
  Settings& operator=(const Settings&);

  // The key path of this table, e.g. "sources[2]" or "smtp".
  const std::string& where() const;
  // The directory of the config file: relative paths are resolved against it.
  const std::filesystem::path& base_dir() const;

  bool has(std::string_view key) const;
  std::vector<std::string> keys() const;

  std::optional<std::string> string(std::string_view key) const;
  std::string string_or(std::string_view key, std::string_view fallback) const;
  std::string require_string(std::string_view key) const;
  std::optional<int64_t> integer(std::string_view key) const;
  std::optional<double> number(std::string_view key) const;  // integer or float
  std::optional<bool> boolean(std::string_view key) const;
  // A duration: "90s", "15m", "2h", "1d", "1h30m", or an integer number of seconds.
  std::optional<int64_t> duration(std::string_view key) const;
  // A path, resolved against base_dir() when relative.
  std::optional<std::filesystem::path> path(std::string_view key) const;
  // A string or an array of strings.
  std::vector<std::string> string_list(std::string_view key) const;
  // An inline table of strings, e.g. headers = { Accept = "application/json" }.
  std::map<std::string, std::string> string_map(std::string_view key) const;
  // A nested table (empty Settings when absent) or an array of tables.
  Settings table(std::string_view key) const;
  std::vector<Settings> table_array(std::string_view key) const;

  // A secret (API key, token, password), from the first of:
  //   key = "..."                 inline in the config file, which then must be readable by
  //                               its owner only (the daemon's user): managers read the
  //                               config, so a secret in a group- or other-readable file is
  //                               refused, naming the file, its mode, the key and the fix
  //   key_file = "/path"          a file (trailing newline stripped) that its group and others
  //                               cannot read; a relative name is looked up in
  //                               $CREDENTIALS_DIRECTORY first (systemd LoadCredential=,
  //                               trusted as systemd made it), then against base_dir()
  //   key_env = "VAR"             an environment variable
  // Secrets are never part of any error message.
  std::optional<std::string> secret(std::string_view key) const;

  // Where secret(key) comes from, for advice to a person ("put the new token in ..."), without
  // reading it: the key that gives it and the file (resolved as secret() resolves it), the
  // environment variable or the config file. kind kNone when no form of the key is set.
  struct SecretOrigin {
    enum class Kind { kNone, kInline, kFile, kCredential, kEnv };
    Kind kind = Kind::kNone;
    std::string key;    // "access_token_file"
    std::string where;  // "/etc/repwatch/facebook-token", "FB_TOKEN", "/etc/repwatch/repwatch.toml"
  };
  SecretOrigin secret_origin(std::string_view key) const;

  // The path of an existing file (`directory` false) or directory that this process can read,
  // resolved like path(); fails "cannot read \"...\": <reason> (as user <name>)" otherwise.
  std::optional<std::filesystem::path> readable_path(std::string_view key,
                                                     bool directory = false) const;

  // "file:line: where.key: message", the form of every config mistake, for checks that
  // report rather than throw (Connector::preflight()).
  std::string describe(std::string_view key, std::string_view message) const;

  // Throws ConfigError for any key not in `allowed` (catches typos), suggesting the closest.
  void reject_unknown(const std::vector<std::string_view>& allowed) const;

  // This table with every mistake thrown, even while a ConfigReport collects: for code that
  // tries one reading and falls back to another on ConfigError (a number, else a duration).
  Settings throwing() const;

  // Throws ConfigError "file:line: where.key: message" (line of the key when known).
  [[noreturn]] void fail(std::string_view key, std::string_view message) const;

  struct Impl;
  explicit Settings(std::shared_ptr<const Impl> impl);

 private:
  std::shared_ptr<const Impl> impl_;
};

struct LocationConfig {
  std::string id;     // short, stable: "downtown"
  std::string name;   // shown to people: "Downtown Family Practice"
  Settings settings;  // the whole [[locations]] entry (alerts/ reads its overrides here)
};

struct SourceConfig {
  std::string id;        // unique, stable: "google-downtown"
  std::string type;      // connector type: "file", "google_business", "yelp", ...
  std::string location;  // a LocationConfig id
  int64_t interval_seconds = 900;
  bool enabled = true;
  Settings settings;  // the whole [[sources]] entry, for the connector's own keys
};

struct Config {
  std::filesystem::path file;       // the file this was loaded from
  std::filesystem::path state_dir;  // absolute
  std::filesystem::path database;   // absolute; default state_dir / "repwatch.db"
  std::string log_level = "info";   // trace, debug, info, warn, error
  std::vector<LocationConfig> locations;
  std::vector<SourceConfig> sources;
  Settings root;  // the whole file, for sections other modules own

  // A top-level section such as "smtp", "alerts", "http", "sentiment" (empty when absent).
  Settings section(std::string_view name) const { return root.table(name); }
  const LocationConfig* find_location(std::string_view id) const;
  const SourceConfig* find_source(std::string_view id) const;
};

// What is wrong with a secret written inline, as `key`, in a config file others can read
// (`access`: "mode 0640, root:repwatch"), and the fix. Settings::secret() and repwatchd's
// check of the whole file (daemon/secrets.h) say the same.
std::string inline_secret_message(std::string_view key, std::string_view access);

// The keys every [[sources]] entry may have (id, type, location, interval, enabled): a
// connector passes these plus its own keys to settings.reject_unknown().
const std::vector<std::string_view>& common_source_keys();

// Reads and validates a config file. Throws ConfigError with every problem found, one per
// line, each naming file, line and key.
Config load_config(const std::filesystem::path& file);
// The same, recording every problem in `report` (which the Config and its Settings keep, see
// ConfigReport) instead of throwing; throws ConfigError only when the file cannot be read or
// is not TOML. The Config holds what could be read.
Config load_config(const std::filesystem::path& file, std::shared_ptr<ConfigReport> report);
// The same from text (`name` is used in messages and as base for relative paths).
Config parse_config(std::string_view toml_text, const std::filesystem::path& name);

}  // namespace repwatch
