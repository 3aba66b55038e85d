#include "config/config.h"

#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/access.h"
#include "core/error.h"
#include "core/time.h"

namespace repwatch {

namespace fs = std::filesystem;

struct Settings::Impl {
  std::shared_ptr<const toml::table> doc;  // keeps the parsed file alive; null when empty
  const toml::table* table = nullptr;      // this table inside doc; null when absent
  std::string where;                       // "sources[2]", "smtp", "" for the root
  std::string file;                        // the config file as named to the user
  fs::path base_dir;                       // absolute directory of the config file
  uint32_t line = 0;                       // line of the table header, 0 when unknown
  // The config file can be read by someone other than its owner (group or others): no
  // inline secrets then. `access` says how, for messages: "mode 0640, root:repwatch".
  bool shared_readable = false;
  std::string access;
  std::shared_ptr<ConfigReport> report;  // collecting mode when set (see ConfigReport)
};

namespace {

// ---- small helpers -----------------------------------------------------------------------

bool is_bare_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// A user's string for an error message: control characters (a line break would split the
// one-problem-per-line report) become '?', and it is shortened.
std::string printable(std::string_view text) {
  std::string s(text.substr(0, 60));
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (text.size() > 60) s += "...";
  return s;
}

// "sources[2]" + "interval" -> "sources[2].interval"; keys that are not bare get quoted.
std::string join_key(std::string_view where, std::string_view key) {
  std::string k = is_bare_key(key) ? std::string(key) : "\"" + printable(key) + "\"";
  if (where.empty()) return k;
  if (key.empty()) return std::string(where);
  return std::string(where) + "." + k;
}

const char* type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// The value as TOML would spell it ("fast" with quotes, 12, [1, 2]), shortened.
std::string show(const toml::node& node) {
  if (node.is_table()) return "a table";
  std::string s;
  if (auto str = node.as_string()) {
    s = "\"";
    for (char c : str->get()) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += "\"";
  } else {
    std::ostringstream out;
    node.visit([&out](const auto& v) { out << v; });
    s = out.str();
  }
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// "got \"fast\"" or, for tables/arrays, "got an array".
std::string got(const toml::node& node) {
  if (node.is_table()) return "got a table";
  return "got " + show(node);
}

size_t edit_distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The closest of `candidates` to `word`, or "" when none is close enough to be a typo.
std::string closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  size_t best_d = std::string::npos;
  for (auto c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  size_t limit = std::max<size_t>(2, std::max(word.size(), best.size()) / 2);
  if (best_d == 0 || best_d > limit) return "";
  return best;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id.front())) return false;
  return std::all_of(id.begin(), id.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

std::string read_file(const fs::path& path, std::string& error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    error = "is a directory";
    return {};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = unreadable_reason(errno);
    return {};
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    error = std::strerror(errno);
    return {};
  }
  return buf.str();
}

constexpr int64_t kMinInterval = 10;  // seconds; connectors for rate-limited APIs ask for more

const std::vector<std::string_view>& top_level_keys() {
  static const std::vector<std::string_view> keys = {
      // Validated here.
      "state_dir", "database", "log_level", "locations", "sources",
      // Sections other modules own and validate themselves.
      "http", "sentiment", "alerts", "smtp", "webhook", "digest", "daemon", "cli", "report",
      "replies"};
  return keys;
}

const std::vector<std::string_view>& module_sections() {
  static const std::vector<std::string_view> keys = {"http",    "sentiment", "alerts", "smtp",
                                                     "webhook", "digest",    "daemon", "cli",
                                                     "report",  "replies"};
  return keys;
}

}  // namespace

// ---- Settings ----------------------------------------------------------------------------

Settings::Settings() : impl_(std::make_shared<Impl>()) {}
Settings::~Settings() = default;
Settings::Settings(const Settings&) = default;
Settings& Settings::operator=(const Settings&) = default;
Settings::Settings(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

const std::string& Settings::where() const { return impl_->where; }
const fs::path& Settings::base_dir() const { return impl_->base_dir; }

namespace {

const toml::node* get(const Settings::Impl& impl, std::string_view key) {
  if (!impl.table) return nullptr;
  return impl.table->get(key);
}

uint32_t line_of(const Settings::Impl& impl, std::string_view key) {
  if (impl.table && !key.empty()) {
    // The first component of a dotted key ("headers.Accept") is the one in this table.
    std::string_view first = key.substr(0, key.find('.'));
    auto it = impl.table->find(first);
    if (it != impl.table->end()) {
      if (it->first.source().begin.line) return it->first.source().begin.line;
      if (it->second.source().begin.line) return it->second.source().begin.line;
    }
  }
  return impl.line;
}

// "file:line: path: msg"; `path` is the full key path ("sources[2].interval").
std::string message_at(const Settings::Impl& impl, const std::string& path, std::string_view msg,
                       uint32_t line) {
  std::string out = impl.file;
  if (line) out += ":" + std::to_string(line);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += msg;
  return out;
}

std::string message(const Settings::Impl& impl, std::string_view key, std::string_view msg,
                    uint32_t line) {
  return message_at(impl, join_key(impl.where, key), msg, line);
}

// A mistake the caller can go on from: recorded in collecting mode (the accessor then answers
// as if the key were absent), thrown otherwise. `path` is the key path it is filed under.
bool collecting(const Settings::Impl& impl) { return impl.report && impl.report->collecting(); }

void recoverable(const Settings::Impl& impl, const std::string& path, const std::string& text) {
  if (!collecting(impl)) throw ConfigError(text);
  impl.report->add(path, text);
}

void recoverable(const Settings::Impl& impl, std::string_view key, std::string_view msg) {
  recoverable(impl, join_key(impl.where, key), message(impl, key, msg, line_of(impl, key)));
}

}  // namespace

// ---- ConfigReport ------------------------------------------------------------------------

ConfigReport::ConfigReport(fs::path config_file) : file_(std::move(config_file)) {}

void ConfigReport::add(const std::string& key_path, const std::string& line) {
  bool repeat =
      std::find(lines_.begin(), lines_.end(), line) != lines_.end() ||
      (!key_path.empty() && std::find(keys_.begin(), keys_.end(), key_path) != keys_.end());
  if (repeat) {
    dropped_.push_back(line);
    return;
  }
  lines_.push_back(line);
  if (!key_path.empty()) keys_.push_back(key_path);
}

void ConfigReport::add_error(const std::string& message) {
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    std::string line = message.substr(start, end - start);
    if (!line.empty() && std::find(lines_.begin(), lines_.end(), line) == lines_.end() &&
        std::find(dropped_.begin(), dropped_.end(), line) == dropped_.end())
      lines_.push_back(line);
    start = end + 1;
  }
}

std::vector<std::string> ConfigReport::lines() const {
  // "file: ..." (no line) first, then by line number; other files' lines keep their place
  // among the first.
  const std::string prefix = file_.string() + ":";
  auto line_number = [&prefix](const std::string& e) -> unsigned long {
    if (e.compare(0, prefix.size(), prefix) != 0) return 0;
    return std::strtoul(e.c_str() + prefix.size(), nullptr, 10);
  };
  std::vector<std::string> out = lines_;
  std::stable_sort(out.begin(), out.end(),
                   [&](const auto& a, const auto& b) { return line_number(a) < line_number(b); });
  return out;
}

// ---- Settings: accessors -----------------------------------------------------------------

std::string Settings::describe(std::string_view key, std::string_view msg) const {
  return message(*impl_, key, msg, line_of(*impl_, key));
}

void Settings::fail(std::string_view key, std::string_view msg) const {
  std::string text = message(*impl_, key, msg, line_of(*impl_, key));
  if (collecting(*impl_)) impl_->report->add(join_key(impl_->where, key), text);
  throw ConfigError(text);
}

Settings Settings::throwing() const {
  auto impl = std::make_shared<Impl>(*impl_);
  impl->report = nullptr;
  return Settings(std::move(impl));
}

bool Settings::has(std::string_view key) const { return get(*impl_, key) != nullptr; }

std::vector<std::string> Settings::keys() const {
  std::vector<std::string> out;
  if (!impl_->table) return out;
  for (const auto& [k, v] : *impl_->table) out.emplace_back(k.str());
  return out;
}

std::optional<std::string> Settings::string(std::string_view key) const {
  const toml::node* n = get(*impl_, key);
  if (!n) return std::nullopt;
  if (auto s = n->as_string()) return s->get();
  recoverable(*impl_, key, std::string("expected a string, ") + got(*n));
  return std::nullopt;
}

std::string Settings::string_or(std::string_view key, std::string_view fallback) const {
  auto s = string(key);
  return s ? *s : std::string(fallback);
}

std::string Settings::require_string(std::string_view key) const {
  auto s = string(key);
  if (!s) fail(key, "is required");
  if (s->empty()) fail(key, "must not be empty");
  return *s;
}

std::optional<int64_t> Settings::integer(std::string_view key) const {
  const toml::node* n = get(*impl_, key);
  if (!n) return std::nullopt;
  if (auto i = n->as_integer()) return i->get();
  recoverable(*impl_, key, std::string("expected an integer, ") + got(*n));
  return std::nullopt;
}

std::optional<double> Settings::number(std::string_view key) const {
  const toml::node* n = get(*impl_, key);
  if (!n) return std::nullopt;
  if (auto i = n->as_integer()) return static_cast<double>(i->get());
  if (auto f = n->as_floating_point()) return f->get();
  recoverable(*impl_, key, std::string("expected a number, ") + got(*n));
  return std::nullopt;
}

std::optional<bool> Settings::boolean(std::string_view key) const {
  const toml::node* n = get(*impl_, key);
  if (!n) return std::nullopt;
  if (auto b = n->as_boolean()) return b->get();
  recoverable(*impl_, key, std::string("expected true or false, ") + got(*n));
  return std::nullopt;
}

std::optional<int64_t> Settings::duration(std::string_view key) const {
  const toml::node* n = get(*impl_, key);
  if (!n) return std::nullopt;
  if (auto i = n->as_integer()) {
    if (i->get() >= 0) return i->get();
  } else if (auto s = n->as_string()) {
    if (auto d = parse_duration(s->get())) return d;
  }
  recoverable(*impl_, key, std::string("expected a duration like \"15m\", ") + got(*n));
  return std::nullopt;
}

std::optional<fs::path> Settings::path(std::string_view key) const {
  auto s = string(key);
  if (!s) return std::nullopt;
  if (s->empty()) {
    recoverable(*impl_, key, "expected a path, got \"\"");
    return std::nullopt;
  }
  fs::path p(*s);
  if (p.is_relative()) p = impl_->base_dir / p;
  return p.lexically_normal();
}

std::vector<std::string> Settings::string_list(std::string_view key) const {
  const toml::node* n = get(*impl_, key);
  if (!n) return {};
  if (auto s = n->as_string()) return {s->get()};
  if (auto a = n->as_array()) {
    std::vector<std::string> out;
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::node& e = *a->get(i);
      if (auto s = e.as_string()) {
        out.push_back(s->get());
      } else {
        recoverable(*impl_, key,
                    "expected strings, element " + std::to_string(i) + " is " + show(e));
      }
    }
    return out;
  }
  recoverable(*impl_, key, std::string("expected a string or an array of strings, ") + got(*n));
  return {};
}

std::map<std::string, std::string> Settings::string_map(std::string_view key) const {
  const toml::node* n = get(*impl_, key);
  if (!n) return {};
  const toml::table* t = n->as_table();
  if (!t) {
    recoverable(*impl_, key, std::string("expected a table of strings, ") + got(*n));
    return {};
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : *t) {
    if (auto s = v.as_string()) {
      out.emplace(std::string(k.str()), s->get());
    } else {
      uint32_t line = k.source().begin.line ? k.source().begin.line : line_of(*impl_, key);
      std::string path = join_key(join_key(impl_->where, key), k.str());
      recoverable(*impl_, path,
                  message_at(*impl_, path, std::string("expected a string, ") + got(v), line));
    }
  }
  return out;
}

Settings Settings::table(std::string_view key) const {
  auto impl = std::make_shared<Impl>(*impl_);
  impl->where = join_key(impl_->where, key);
  impl->table = nullptr;
  impl->line = line_of(*impl_, key);
  if (const toml::node* n = get(*impl_, key)) {
    impl->table = n->as_table();
    if (!impl->table) {
      if (n->is_array_of_tables())
        recoverable(*impl_, key,
                    "expected a single table [" + std::string(key) + "], got an array of tables");
      else
        recoverable(*impl_, key, std::string("expected a table, ") + got(*n));
      return Settings(std::move(impl));  // collecting: as if absent
    }
    if (impl->table->source().begin.line) impl->line = impl->table->source().begin.line;
  }
  return Settings(std::move(impl));
}

std::vector<Settings> Settings::table_array(std::string_view key) const {
  const toml::node* n = get(*impl_, key);
  if (!n) return {};
  const toml::array* a = n->as_array();
  if (!a) {
    if (n->is_table())
      recoverable(*impl_, key,
                  "expected an array of tables [[" + std::string(key) + "]], got a single table [" +
                      std::string(key) + "]");
    else
      recoverable(*impl_, key, std::string("expected an array of tables, ") + got(*n));
    return {};
  }
  std::vector<Settings> out;
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = *a->get(i);
    auto impl = std::make_shared<Impl>(*impl_);
    impl->where = join_key(impl_->where, key) + "[" + std::to_string(i) + "]";
    impl->line = e.source().begin.line ? e.source().begin.line : line_of(*impl_, key);
    impl->table = e.as_table();
    if (!impl->table) {
      recoverable(*impl, impl->where,
                  message(*impl, "", std::string("expected a table, ") + got(e), impl->line));
      continue;
    }
    out.emplace_back(std::move(impl));
  }
  return out;
}

namespace {

// A *_file secret's path: absolute as given; relative in $CREDENTIALS_DIRECTORY (systemd
// LoadCredential=) when it exists there (second = true), else against the config's directory.
std::pair<fs::path, bool> resolve_secret_file(const Settings::Impl& impl, const std::string& name) {
  fs::path p(name);
  if (p.is_absolute()) return {p, false};
  if (const char* creds = std::getenv("CREDENTIALS_DIRECTORY"); creds && *creds) {
    fs::path c = fs::path(creds) / p;
    std::error_code ec;
    if (fs::exists(c, ec)) return {c, true};
  }
  return {(impl.base_dir / p).lexically_normal(), false};
}

}  // namespace

Settings::SecretOrigin Settings::secret_origin(std::string_view key) const {
  SecretOrigin o;
  const std::string k(key);
  if (const toml::node* n = get(*impl_, k); n && n->as_string()) {
    o.kind = SecretOrigin::Kind::kInline;
    o.key = k;
    o.where = (impl_->base_dir / fs::path(impl_->file).filename()).string();
  } else if (const toml::node* f = get(*impl_, k + "_file"); f && f->as_string()) {
    auto [path, credential] = resolve_secret_file(*impl_, f->as_string()->get());
    o.kind = credential ? SecretOrigin::Kind::kCredential : SecretOrigin::Kind::kFile;
    o.key = k + "_file";
    o.where = credential ? f->as_string()->get() : path.lexically_normal().string();
  } else if (const toml::node* e = get(*impl_, k + "_env"); e && e->as_string()) {
    o.kind = SecretOrigin::Kind::kEnv;
    o.key = k + "_env";
    o.where = e->as_string()->get();
  }
  return o;
}

std::optional<std::string> Settings::secret(std::string_view key) const {
  // Never show the value: messages name the key and what is wrong, nothing more. Mistakes in
  // any of the three forms are filed under the secret's own key, so that a module finding it
  // absent ("api_key is required") does not report it twice.
  const std::string k(key);
  const std::string filed_as = join_key(impl_->where, k);
  auto mistake = [&](const std::string& which, const std::string& msg) {
    recoverable(*impl_, filed_as, message(*impl_, which, msg, line_of(*impl_, which)));
  };
  if (const toml::node* n = get(*impl_, k)) {
    const auto* s = n->as_string();
    if (!s) {
      mistake(k, std::string("expected a string (the secret), got ") + type_name(*n));
      return std::nullopt;
    }
    if (s->get().empty()) {
      mistake(k, "is empty");
      return std::nullopt;
    }
    // The secret itself is fine: a module may go on validating with it (collecting mode).
    if (impl_->shared_readable) mistake(k, inline_secret_message(k, impl_->access));
    return s->get();
  }
  const std::string file_key = k + "_file";
  if (const toml::node* n = get(*impl_, file_key)) {
    const auto* s = n->as_string();
    if (!s || s->get().empty()) {
      mistake(file_key, std::string("expected a file name, ") + got(*n));
      return std::nullopt;
    }
    // credential: systemd made it (LoadCredential=), readable by our user alone
    const auto [resolved, credential] = resolve_secret_file(*impl_, s->get());
    std::string error;
    std::string value = read_file(resolved, error);
    if (!error.empty()) {
      mistake(file_key, "cannot read \"" + resolved.string() + "\": " + error +
                            "; the daemon's user must be able to read it, and no one else "
                            "(owner repwatch, mode 0600)");
      return std::nullopt;
    }
    struct stat st {};
    if (!credential && ::stat(resolved.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH))) {
      mistake(file_key, "\"" + resolved.string() + "\" can be read by others (" +
                            describe_access(st) +
                            "): a secret must be readable by the daemon's user only: chown "
                            "repwatch and chmod 0600 it (or load it with LoadCredential=)");
      return std::nullopt;
    }
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.empty()) {
      mistake(file_key, "\"" + resolved.string() + "\" is empty");
      return std::nullopt;
    }
    return value;
  }
  const std::string env_key = k + "_env";
  if (const toml::node* n = get(*impl_, env_key)) {
    const auto* s = n->as_string();
    if (!s || s->get().empty()) {
      mistake(env_key, std::string("expected an environment variable name, ") + got(*n));
      return std::nullopt;
    }
    const char* v = std::getenv(s->get().c_str());
    if (!v || !*v) {
      mistake(env_key, "environment variable " + s->get() + (v ? " is empty" : " is not set"));
      return std::nullopt;
    }
    return std::string(v);
  }
  return std::nullopt;
}

std::optional<fs::path> Settings::readable_path(std::string_view key, bool directory) const {
  auto p = path(key);
  if (!p) return std::nullopt;
  std::string why = cannot_read(*p, directory ? PathKind::kDirectory : PathKind::kFile);
  if (why.empty()) return p;
  recoverable(*impl_, key, "cannot read \"" + p->string() + "\": " + why);
  return std::nullopt;
}

void Settings::reject_unknown(const std::vector<std::string_view>& allowed) const {
  if (!impl_->table) return;
  std::vector<std::string> errors;
  for (const auto& [k, v] : *impl_->table) {
    std::string_view name = k.str();
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    std::string msg = "unknown key";
    std::string guess = closest(name, allowed);
    if (!guess.empty()) msg += "; did you mean \"" + guess + "\"?";
    uint32_t line = k.source().begin.line ? k.source().begin.line : impl_->line;
    std::string text = message(*impl_, name, msg, line);
    if (collecting(*impl_)) impl_->report->add(join_key(impl_->where, name), text);
    errors.push_back(std::move(text));
  }
  if (!errors.empty() && !collecting(*impl_)) throw ConfigError(join_lines(errors));
}

// ---- Config ------------------------------------------------------------------------------

std::string inline_secret_message(std::string_view key, std::string_view access) {
  const std::string k(key);
  return "a secret written in a config file that others can read (" + std::string(access) +
         "; managers in its group read it): put it in a file only the daemon's user can read "
         "and name that file instead, " +
         k + "_file = \"/etc/repwatch/secrets/" + k +
         "\" (owner repwatch, mode 0600), or use a systemd credential (LoadCredential=); or "
         "make this file readable by its owner only (mode 0600, owner repwatch)";
}

const std::vector<std::string_view>& common_source_keys() {
  static const std::vector<std::string_view> keys = {"id", "type", "location", "interval",
                                                     "enabled"};
  return keys;
}

const LocationConfig* Config::find_location(std::string_view id) const {
  for (const auto& l : locations)
    if (l.id == id) return &l;
  return nullptr;
}

const SourceConfig* Config::find_source(std::string_view id) const {
  for (const auto& s : sources)
    if (s.id == id) return &s;
  return nullptr;
}

namespace {

// Runs one check, turning a ConfigError into a line of the collected report.
// Runs one check, turning a ConfigError into lines of the report (those not recorded yet).
template <typename F>
void collect(ConfigReport& errors, F&& check) {
  try {
    check();
  } catch (const ConfigError& e) {
    errors.add_error(e.what());
  }
}

// Who can read the config file: `shared` when anyone but its owner can.
struct Access {
  bool shared = false;
  std::string text;  // "mode 0640, root:repwatch"
};

// Parses and validates; with `report`, records every mistake there (and in the Settings) and
// returns what could be read; without, throws them all at the end.
Config build(std::string_view text, const fs::path& name, const Access& access,
             std::shared_ptr<ConfigReport> report) {
  auto doc = std::make_shared<toml::table>();
  try {
    *doc = toml::parse(text, name.string());
  } catch (const toml::parse_error& e) {
    std::string where = name.string();
    const auto& b = e.source().begin;
    if (b.line) where += ":" + std::to_string(b.line) + ":" + std::to_string(b.column);
    throw ConfigError(where + ": " + std::string(e.description()));
  }

  auto root_impl = std::make_shared<Settings::Impl>();
  root_impl->doc = doc;
  root_impl->table = doc.get();
  root_impl->file = name.string();
  root_impl->base_dir = fs::absolute(name).parent_path().lexically_normal();
  root_impl->shared_readable = access.shared;
  root_impl->access = access.text;
  root_impl->report = report;

  Config config;
  config.file = name;
  config.root = Settings(root_impl);
  const Settings& root = config.root;
  auto local = report ? report : std::make_shared<ConfigReport>(name);
  ConfigReport& errors = *local;

  collect(errors, [&] { root.reject_unknown(top_level_keys()); });
  for (auto section : module_sections()) collect(errors, [&] { root.table(section); });

  collect(errors, [&] {
    auto dir = root.path("state_dir");
    if (!dir) root.fail("state_dir", "is required (the directory for the database and spool)");
    config.state_dir = *dir;
  });
  collect(errors, [&] {
    if (auto db = root.path("database")) {
      config.database = *db;
    } else if (!config.state_dir.empty()) {
      config.database = config.state_dir / "repwatch.db";
    }
  });
  collect(errors, [&] {
    static const std::vector<std::string_view> levels = {"trace", "debug", "info", "warn", "error"};
    std::string level = root.string_or("log_level", "info");
    if (std::find(levels.begin(), levels.end(), level) == levels.end()) {
      std::string guess = closest(level, levels);
      root.fail("log_level", "expected one of trace, debug, info, warn, error, got \"" +
                                 printable(level) + "\"" +
                                 (guess.empty() ? "" : "; did you mean \"" + guess + "\"?"));
    }
    config.log_level = level;
  });

  std::vector<Settings> locations;
  collect(errors, [&] { locations = root.table_array("locations"); });
  for (const Settings& loc : locations) {
    LocationConfig lc;
    lc.settings = loc;
    bool ok = true;
    collect(errors, [&] {
      ok = false;
      lc.id = loc.require_string("id");
      if (!valid_id(lc.id))
        loc.fail("id", "\"" + printable(lc.id) +
                           "\" is not a valid id (letters, digits, '-', '_', '.'; at most 64)");
      if (config.find_location(lc.id)) loc.fail("id", "duplicate location id \"" + lc.id + "\"");
      ok = true;
    });
    collect(errors, [&] { lc.name = loc.string_or("name", lc.id); });
    if (lc.name.empty()) lc.name = lc.id;
    if (ok) config.locations.push_back(std::move(lc));
  }

  std::vector<Settings> sources;
  collect(errors, [&] { sources = root.table_array("sources"); });
  for (const Settings& src : sources) {
    SourceConfig sc;
    sc.settings = src;
    bool ok = true;
    collect(errors, [&] {
      ok = false;
      sc.id = src.require_string("id");
      if (!valid_id(sc.id))
        src.fail("id", "\"" + printable(sc.id) +
                           "\" is not a valid id (letters, digits, '-', '_', '.'; at most 64)");
      if (config.find_source(sc.id)) src.fail("id", "duplicate source id \"" + sc.id + "\"");
      ok = true;
    });
    collect(errors, [&] { sc.type = src.require_string("type"); });
    collect(errors, [&] {
      sc.location = src.require_string("location");
      if (!config.find_location(sc.location)) {
        std::vector<std::string_view> ids;
        for (const auto& l : config.locations) ids.push_back(l.id);
        std::string msg = "no [[locations]] entry has id \"" + printable(sc.location) + "\"";
        std::string guess = closest(sc.location, ids);
        if (!guess.empty()) msg += "; did you mean \"" + guess + "\"?";
        src.fail("location", msg);
      }
    });
    collect(errors, [&] {
      sc.interval_seconds = src.duration("interval").value_or(900);
      if (sc.interval_seconds < kMinInterval)
        src.fail("interval", "must be at least " + std::to_string(kMinInterval) + "s, got " +
                                 std::to_string(sc.interval_seconds) + "s");
    });
    collect(errors, [&] { sc.enabled = src.boolean("enabled").value_or(true); });
    if (ok) config.sources.push_back(std::move(sc));
  }

  if (!report && !errors.empty()) throw ConfigError(join_lines(errors.lines()));
  return config;
}

}  // namespace

namespace {

Config load(const fs::path& file, std::shared_ptr<ConfigReport> report) {
  std::string error;
  std::string text = read_file(file, error);
  if (!error.empty()) throw ConfigError(file.string() + ": cannot read: " + error);
  Access access;
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) {
    access.shared = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
    access.text = describe_access(st);
  }
  return build(text, file, access, std::move(report));
}

}  // namespace

Config load_config(const fs::path& file) { return load(file, nullptr); }

Config load_config(const fs::path& file, std::shared_ptr<ConfigReport> report) {
  if (!report) report = std::make_shared<ConfigReport>(file);
  return load(file, std::move(report));
}

Config parse_config(std::string_view toml_text, const fs::path& name) {
  return build(toml_text, name, Access{}, nullptr);
}

}  // namespace repwatch
