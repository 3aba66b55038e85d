#include "daemon/secrets.h"

#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace repwatch::daemon {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void walk(const toml::node& node, const std::string& path, std::vector<std::string>& found);

void walk_table(const toml::table& table, const std::string& path,
                std::vector<std::string>& found) {
  for (const auto& [k, v] : table) {
    std::string key(k.str());
    std::string child = path.empty() ? key : path + "." + key;
    if (const auto* s = v.as_string(); s && is_secret_key(key) && !s->get().empty()) {
      found.push_back(child);
      continue;
    }
    walk(v, child, found);
  }
}

void walk(const toml::node& node, const std::string& path, std::vector<std::string>& found) {
  if (const auto* t = node.as_table()) {
    walk_table(*t, path, found);
  } else if (const auto* a = node.as_array()) {
    for (size_t i = 0; i < a->size(); ++i) {
      walk(*a->get(i), path + "[" + std::to_string(i) + "]", found);
    }
  }
}

}  // namespace

bool is_secret_key(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ends_with(k, "_file") || ends_with(k, "_env")) return false;
  for (std::string_view word : {"password", "passwd", "secret", "token", "apikey"}) {
    if (k.find(word) != std::string::npos) return true;
  }
  // "key" as a whole component of a snake/kebab/dotted name.
  size_t start = 0;
  while (start <= k.size()) {
    size_t end = k.find_first_of("_-.", start);
    if (end == std::string::npos) end = k.size();
    if (std::string_view(k).substr(start, end - start) == "key") return true;
    start = end + 1;
  }
  return false;
}

std::vector<std::string> inline_secret_keys(const std::filesystem::path& file) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw ConfigError(file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                      std::string(e.description()));
  }
  std::vector<std::string> found;
  walk_table(root, "", found);
  return found;
}

void check_secret_permissions(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    throw ConfigError(file.string() + ": " + std::strerror(errno));
  }
  if ((st.st_mode & S_IROTH) == 0) return;
  auto keys = inline_secret_keys(file);
  if (keys.empty()) return;
  std::string list;
  for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  throw ConfigError(file.string() + ": holds secrets (" + list + ") but is readable by others" +
                    " (mode " + mode + "); refusing to start. Fix: chmod o-rwx " + file.string() +
                    " (e.g. chown root:repwatch and chmod 0640), or move the secrets to *_file" +
                    " keys naming 0600 files or systemd credentials (LoadCredential=)");
}

}  // namespace repwatch::daemon
