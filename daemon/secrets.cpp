#include "daemon/secrets.h"

#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/access.h"
#include "core/error.h"
#include "core/redact.h"

namespace repwatch::daemon {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

uint32_t line_of(const toml::key& k, const toml::node& v) {
  if (k.source().begin.line) return k.source().begin.line;
  return v.source().begin.line;
}

void walk(const toml::node& node, const std::string& path, bool headers,
          std::vector<InlineSecret>& found);

void walk_table(const toml::table& table, const std::string& path, bool headers,
                std::vector<InlineSecret>& found) {
  for (const auto& [k, v] : table) {
    std::string key(k.str());
    std::string child = path.empty() ? key : path + "." + key;
    if (const auto* s = v.as_string(); s && !s->get().empty()) {
      if (headers && is_secret_name(key)) {
        found.push_back({child, line_of(k, v), InlineSecret::Shape::kHeader});
      } else if (is_secret_key(key)) {
        found.push_back({child, line_of(k, v), InlineSecret::Shape::kKey});
      } else if (!ends_with(key, "_file") && !ends_with(key, "_env") &&
                 s->get().find("://") != std::string::npos && !url_secrets(s->get()).empty()) {
        found.push_back({child, line_of(k, v), InlineSecret::Shape::kUrl});
      }
      continue;
    }
    walk(v, child, key == "headers", found);
  }
}

void walk(const toml::node& node, const std::string& path, bool headers,
          std::vector<InlineSecret>& found) {
  if (const auto* t = node.as_table()) {
    walk_table(*t, path, headers, found);
  } else if (const auto* a = node.as_array()) {
    for (size_t i = 0; i < a->size(); ++i) {
      walk(*a->get(i), path + "[" + std::to_string(i) + "]", false, found);
    }
  }
}

std::string message_for(const InlineSecret& s, const std::string& access) {
  std::string key = s.path.substr(s.path.find_last_of('.') + 1);
  if (size_t bracket = key.find('['); bracket != std::string::npos) key.resize(bracket);
  switch (s.shape) {
    case InlineSecret::Shape::kKey:
      return inline_secret_message(key, access);
    case InlineSecret::Shape::kUrl:
      return "a URL carrying a credential (user:password@ or a secret query parameter) written "
             "in a config file that others can read (" +
             access +
             "; managers in its group read it): take the credential out of the URL - json_http: "
             "token_file with token_param; [smtp]: username with password_file - keeping the "
             "file in /etc/repwatch/secrets/ (owner repwatch, mode 0600); or make this file "
             "readable by its owner only (mode 0600, owner repwatch)";
    case InlineSecret::Shape::kHeader:
      return "a credential header written in a config file that others can read (" + access +
             "; managers in its group read it): send it with token_file and token_header "
             "(json_http), the file in /etc/repwatch/secrets/ (owner repwatch, mode 0600); or "
             "make this file readable by its owner only (mode 0600, owner repwatch)";
  }
  return {};
}

}  // namespace

bool is_secret_key(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Where a secret lives or goes, not the secret: password_file, token_env, json_http's
  // token_param / token_header / token_prefix, google_business's token_endpoint.
  for (std::string_view suffix : {"_file", "_env", "_param", "_header", "_prefix", "_endpoint"})
    if (ends_with(k, suffix)) return false;
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

std::vector<InlineSecret> find_inline_secrets(const std::filesystem::path& file) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw ConfigError(file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                      std::string(e.description()));
  }
  std::vector<InlineSecret> found;
  walk_table(root, "", false, found);
  return found;
}

std::vector<std::string> inline_secret_keys(const std::filesystem::path& file) {
  std::vector<std::string> out;
  for (const auto& s : find_inline_secrets(file)) out.push_back(s.path);
  return out;
}

void check_secret_permissions(const std::filesystem::path& file, ConfigReport* report) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    throw ConfigError(file.string() + ": " + std::strerror(errno));
  }
  if ((st.st_mode & (S_IRGRP | S_IROTH)) == 0) return;
  const std::string access = describe_access(st);
  std::string all;
  for (const auto& s : find_inline_secrets(file)) {
    std::string line = file.string() + (s.line ? ":" + std::to_string(s.line) : "") + ": " +
                       s.path + ": " + message_for(s, access);
    if (report) {
      report->add(s.path, line);
    } else {
      all += (all.empty() ? "" : "\n") + line;
    }
  }
  if (!all.empty()) throw ConfigError(all);
}

}  // namespace repwatch::daemon
