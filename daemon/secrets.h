// repwatch/daemon/secrets.h - a config file that holds secrets must not be readable by others.
//
// A key holds a secret when its name contains "password", "passwd", "secret", "token" or
// "apikey", or has a "key" component ("key", "api_key", "private-key"; not "keywords"), and it
// has a non-empty inline value. Keys ending in "_file" or "_env" only name where the secret
// lives (see Settings::secret() in config/config.h) and are fine in any file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace repwatch::daemon {

// Whether a key name looks like it holds a secret (rules above).
bool is_secret_key(std::string_view key);

// The dotted paths ("smtp.password", "sources[1].api_key") of inline secrets in a TOML file.
// Never returns the values. Throws ConfigError if the file does not parse.
std::vector<std::string> inline_secret_keys(const std::filesystem::path& file);

// Throws ConfigError, naming the file, its mode, the keys (never the values) and the fix, when
// the file holds inline secrets and is readable by others (mode & 0004).
void check_secret_permissions(const std::filesystem::path& file);

}  // namespace repwatch::daemon
