// repwatch/daemon/secrets.h - a config file that holds secrets must be its owner's alone.
//
// Managers (group repwatch) read the config with the `repwatch` CLI, so the packaged config,
// root:repwatch 0640, must hold no secret: secrets live in files only the daemon's user can
// read (/etc/repwatch/secrets/, repwatch 0600; `*_file` keys) or in systemd credentials.
// repwatchd and --check-config refuse a config that anyone but its owner can read (mode &
// 0044) and that holds an inline secret, one line per secret naming file, line, key (never the
// value) and the fix. Settings::secret() refuses each secret a module reads; this check also
// finds those no module reads (a disabled source) and credentials in other shapes:
//   - a key whose name holds a secret (is_secret_key) with a non-empty string value;
//   - a URL carrying a credential, in any string: user:password@ or a secret query parameter
//     ("https://api.example/r?api_key=...", "smtp://alerts:pw@mail.example"), core/redact.h;
//   - a credential header in a `headers` table ("Authorization", "X-Api-Key").
// Keys that only say where a secret lives or goes (password_file, token_param) are fine in any
// file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace repwatch::daemon {

// Whether a config key's name says it holds a secret: it contains "password", "passwd",
// "secret", "token" or "apikey", or has a "key" component ("key", "api_key", "private-key";
// not "keywords"); never a key that says where a secret lives or goes ("_file", "_env",
// "_param", "_header", "_prefix", "_endpoint": token_param = "key" names a parameter).
bool is_secret_key(std::string_view key);

struct InlineSecret {
  std::string path;  // "smtp.password", "sources[1].url", "sources[0].headers.X-Api-Key"
  uint32_t line = 0;
  enum class Shape { kKey, kUrl, kHeader } shape = Shape::kKey;
};

// The inline secrets of a TOML file (rules above). Never returns the values. Throws
// ConfigError if the file cannot be read or does not parse.
std::vector<InlineSecret> find_inline_secrets(const std::filesystem::path& file);
// Their dotted paths.
std::vector<std::string> inline_secret_keys(const std::filesystem::path& file);

// When `file` can be read by anyone but its owner and holds inline secrets: one line per
// secret, "file:line: key: <what is wrong and the fix>", recorded in `report`, or thrown
// together as a ConfigError when `report` is null.
void check_secret_permissions(const std::filesystem::path& file, ConfigReport* report = nullptr);

}  // namespace repwatch::daemon
