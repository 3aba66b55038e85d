#include "core/redact.h"

#include <algorithm>

#include "core/text.h"

namespace repwatch {

namespace {

constexpr std::string_view kRedacted = "REDACTED";

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A character that ends a URL or a query value inside running text.
bool ends_token(char c) {
  return static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '\'' || c == '<' || c == '>' ||
         c == '`' || c == '\\' || c == 0x7f;
}

// A character of a query parameter name as APIs spell them ("api_key", "fields[]", "x.sig").
bool name_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == '[' || c == ']';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls fn(name, value) for each "name=value" of a query string (no '?', no fragment).
template <typename F>
void each_parameter(std::string_view query, F&& fn) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos) fn(part.substr(0, eq), part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

struct UrlParts {
  std::string_view head;      // "https://"
  std::string_view userinfo;  // "user:pass" (without '@'), empty when absent
  bool has_userinfo = false;
  std::string_view host_and_path;  // "host:port/path"
  std::string_view query;          // after '?', before '#'
  bool has_query = false;
  std::string_view fragment;  // "#..." or empty
};

UrlParts split_url(std::string_view url) {
  UrlParts p;
  size_t scheme = url.find("://");
  size_t host_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  p.head = url.substr(0, host_start);
  size_t path_start = url.find_first_of("/?#", host_start);
  if (path_start == std::string_view::npos) path_start = url.size();
  std::string_view authority = url.substr(host_start, path_start - host_start);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos && scheme != std::string_view::npos) {
    p.has_userinfo = true;
    p.userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
  }
  std::string_view rest = url.substr(path_start);
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    p.fragment = rest.substr(hash);
    rest = rest.substr(0, hash);
  }
  size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    p.has_query = true;
    p.query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // host_and_path spans the authority (without userinfo) and the path: contiguous in `url`.
  p.host_and_path =
      std::string_view(authority.data(), rest.data() + rest.size() - authority.data());
  return p;
}

}  // namespace

bool is_secret_name(std::string_view name) {
  std::string n = lower(name);
  if (n == "code" || n == "cookie" || n == "set-cookie") return true;
  for (const char* word : {"token", "key", "secret", "pass", "sig", "auth", "credential"})
    if (n.find(word) != std::string::npos) return true;
  return false;
}

std::string url_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (is_alpha(static_cast<char>(c)) || is_digit(static_cast<char>(c)) || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::string redact_url(std::string_view url) {
  UrlParts p = split_url(url);
  std::string out(p.head);
  if (p.has_userinfo) out += std::string(kRedacted) + "@";
  out.append(p.host_and_path);
  if (p.has_query) {
    out += '?';
    std::string_view query = p.query;
    bool first = true;
    while (true) {
      size_t amp = query.find('&');
      std::string_view part = query.substr(0, amp);
      if (!first) out += '&';
      first = false;
      size_t eq = part.find('=');
      if (eq != std::string_view::npos && is_secret_name(part.substr(0, eq))) {
        out.append(part.substr(0, eq + 1));
        out += kRedacted;
      } else {
        out.append(part);
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  out.append(p.fragment);
  return out;
}

std::vector<std::string> url_secrets(std::string_view url) {
  std::vector<std::string> out;
  auto add = [&out](std::string_view raw, bool plus_is_space) {
    if (raw.empty()) return;
    out.emplace_back(raw);
    std::string decoded = url_decode(raw, plus_is_space);
    if (decoded != raw) out.push_back(std::move(decoded));
  };
  UrlParts p = split_url(url);
  if (p.has_userinfo) {
    // "user:password": the password. A user name alone is often a token ("https://TOKEN@host").
    size_t colon = p.userinfo.find(':');
    add(colon == std::string_view::npos ? p.userinfo : p.userinfo.substr(colon + 1), false);
  }
  if (p.has_query) {
    each_parameter(p.query, [&](std::string_view name, std::string_view value) {
      if (is_secret_name(url_decode(name))) add(value, true);
    });
  }
  return out;
}

std::string redact_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    // "scheme://...": the whole URL through redact_url().
    if (is_alpha(c) && (i == 0 || !(is_alpha(text[i - 1]) || is_digit(text[i - 1])))) {
      size_t j = i;
      while (j < text.size() && (is_alpha(text[j]) || is_digit(text[j]) || text[j] == '+' ||
                                 text[j] == '-' || text[j] == '.'))
        ++j;
      if (text.compare(j, 3, "://") == 0) {
        size_t end = j + 3;
        while (end < text.size() && !ends_token(text[end])) ++end;
        out += redact_url(text.substr(i, end - i));
        i = end;
        continue;
      }
      out.append(text, i, j - i);
      i = j;
      continue;
    }
    // "?name=value", "&name=value", ";name=value" outside a URL with a scheme (an echoed path).
    if (c == '?' || c == '&' || c == ';') {
      size_t j = i + 1;
      while (j < text.size() && name_char(text[j])) ++j;
      if (j > i + 1 && j < text.size() && text[j] == '=' &&
          is_secret_name(text.substr(i + 1, j - i - 1))) {
        size_t end = j + 1;
        while (end < text.size() && !ends_token(text[end]) && text[end] != '&' &&
               text[end] != '#' && text[end] != ';')
          ++end;
        out.append(text, i, j + 1 - i);
        if (end > j + 1) out += kRedacted;
        i = end;
        continue;
      }
    }
    out += c;
    ++i;
  }
  return out;
}

// ---- Redactor ----------------------------------------------------------------------------

void Redactor::add(std::string_view secret) {
  if (secret.size() < 4) return;
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  for (std::string form : {std::string(secret), url_encode(secret)}) {
    if (std::find(forms_.begin(), forms_.end(), form) == forms_.end())
      forms_.push_back(std::move(form));
  }
  // Longest first, so that a secret containing another is replaced whole.
  std::stable_sort(forms_.begin(), forms_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void Redactor::add_url(std::string_view url) {
  for (const auto& s : url_secrets(url)) add(s);
}

std::string Redactor::redact(std::string text) const {
  for (const auto& form : forms_) {
    size_t pos = 0;
    while ((pos = text.find(form, pos)) != std::string::npos) {
      text.replace(pos, form.size(), "***");
      pos += 3;
    }
  }
  return redact_text(text);
}

bool Redactor::contains_secret(std::string_view text) const {
  return std::any_of(forms_.begin(), forms_.end(),
                     [&](const std::string& f) { return text.find(f) != std::string_view::npos; });
}

}  // namespace repwatch
