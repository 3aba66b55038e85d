#include "alerts/message.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <random>

#include "alerts/rules.h"
#include "core/error.h"
#include "core/text.h"

namespace repwatch::alerts {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += kBase64[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool needs_encoding(std::string_view v) {
  for (char c : v)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) return true;
  return v.find("=?") != std::string_view::npos;
}

// Splits UTF-8 text into encoded-words; the first must fit `first_budget` columns, the others
// `budget` columns (and each at most 75). Returns them joined with CRLF SP.
std::string encoded_words(std::string_view v, size_t first_budget, size_t budget) {
  std::string out;
  size_t i = 0;
  bool first = true;
  while (i < v.size()) {
    size_t cols = std::min<size_t>(first ? first_budget : budget, 75);
    // "=?UTF-8?B?" + base64 + "?=": 12 + 4*ceil(n/3) <= cols
    size_t max_bytes = cols > 16 ? (cols - 12) / 4 * 3 : 3;
    size_t n = 0;
    while (i + n < v.size()) {
      uint32_t cp = 0;
      size_t len = decode_utf8(v, i + n, cp);
      if (len == 0) len = 1;  // cannot happen on sanitized input
      if (n + len > max_bytes && n > 0) break;
      n += len;
    }
    if (!first) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(v.substr(i, n)) + "?=";
    i += n;
    first = false;
  }
  return out;
}

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '-')) return false;
  }
  return true;
}

// Folds printable-ASCII `value` after "Name: " at spaces, 78 columns where possible.
std::string fold_plain(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ":";
  size_t col = out.size();
  size_t i = 0;
  bool first = true;
  while (i < value.size()) {
    size_t sp = value.find(' ', i);
    if (sp == std::string_view::npos) sp = value.size();
    std::string_view word = value.substr(i, sp - i);
    if (!first && col + 1 + word.size() > 78) {
      out += "\r\n";
      col = 0;
    }
    out += ' ';
    out += word;
    col += 1 + word.size();
    i = sp + 1;
    first = false;
  }
  return out;
}

void add_line(std::string& out, std::string_view line) {
  out += line;
  out += "\r\n";
}

// Unicode's Bidi_Control characters: the embeddings, overrides and isolates (U+202A..U+202E,
// U+2066..U+2069), which make text display in another order than it is written in (a
// reviewer's name can then spoof the rest of a subject line), and the marks U+061C, U+200E,
// U+200F.
bool is_bidi_control(uint32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061C ||
         cp == 0x200E || cp == 0x200F;
}

}  // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t len = decode_utf8(s, i, cp);
    if (len == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  return out;
}

std::string sanitize_header(std::string_view text) {
  std::string v = valid_utf8(text);
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  size_t i = 0;
  while (i < v.size()) {
    uint32_t cp = 0;
    size_t len = decode_utf8(v, i, cp);
    std::string_view piece(v.data() + i, len);
    i += len;
    if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == 0x2028 || cp == 0x2029 ||
        cp == 0x85 || cp == 0xA0) {
      pending_space = !out.empty();
      continue;
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || is_bidi_control(cp)) continue;
    if (pending_space) out += ' ';
    pending_space = false;
    out += piece;
  }
  return out;
}

std::string sanitize_body(std::string_view text) {
  std::string v = valid_utf8(text);
  std::string out;
  out.reserve(v.size());
  size_t i = 0;
  while (i < v.size()) {
    uint32_t cp = 0;
    size_t len = decode_utf8(v, i, cp);
    std::string_view piece(v.data() + i, len);
    i += len;
    if (cp == '\r') {
      out += '\n';
      if (i < v.size() && v[i] == '\n') ++i;
      continue;
    }
    if (cp == '\n' || cp == '\t') {
      out += piece;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      out += '\n';
      continue;
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) continue;
    out += piece;
  }
  return out;
}

std::string encode_header(std::string_view name, std::string_view value) {
  if (!valid_header_name(name))
    throw Error("email header name \"" + std::string(name) + "\" is invalid");
  std::string v = sanitize_header(value);
  // Plain folding breaks only at spaces: a word too long for one line (a reviewer "named" with
  // 1,000 letters) would make a line over RFC 5322's 998-byte limit, which SMTP servers
  // refuse. Encoded-words can be split anywhere (found by fuzz/fuzz_email).
  size_t longest = 0;
  for (size_t i = 0, sp; i < v.size(); i = sp + 1) {
    sp = v.find(' ', i);
    if (sp == std::string::npos) sp = v.size();
    longest = std::max(longest, sp - i);
  }
  if (!needs_encoding(v) && name.size() + 2 + longest <= 78) return fold_plain(name, v);
  std::string out(name);
  out += ": ";
  size_t used = out.size();
  out += encoded_words(v, used < 78 ? 78 - used : 20, 77);
  return out;
}

std::string format_mailbox(std::string_view display_name, std::string_view address) {
  std::string addr(address);
  if (!is_valid_address(addr))
    throw Error("\"" + sanitize_header(address) + "\" is not a valid email address");
  std::string name = sanitize_header(display_name);
  if (name.empty()) return addr;
  // A long name is encoded too: encoded-words fold, a quoted string would make one line longer
  // than RFC 5322 allows (found by fuzz/fuzz_email).
  if (needs_encoding(name) || name.size() > 60)
    return encoded_words(name, 60, 77) + " <" + addr + ">";
  // Words of atext (RFC 5322 3.2.3) need no quotes: repwatch <a@b.example>.
  static const std::string_view kAtext = "!#$%&'*+-/=?^_`{|}~ ";
  if (std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               kAtext.find(c) != std::string_view::npos;
      }))
    return name + " <" + addr + ">";
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += "\"";
  return quoted + " <" + addr + ">";
}

std::string quoted_printable(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 11 / 10 + 16);
  // Split into lines on LF (a preceding CR is dropped: hard breaks are always CRLF).
  size_t pos = 0;
  bool first_line = true;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!first_line) out += "\r\n";
    first_line = false;

    size_t col = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(line[i]);
      bool last = i + 1 == line.size();
      std::string token;
      bool escape = c == '=' || c > 126 || (c < 32 && c != '\t') ||
                    ((c == ' ' || c == '\t') && last) || (c == '.' && col == 0) ||
                    (c == 'F' && col == 0 && line.substr(i, 5) == "From ");
      if (escape) {
        token = {'=', kHex[c >> 4], kHex[c & 15]};
      } else {
        token = std::string(1, static_cast<char>(c));
      }
      // Keep room for the soft break '=' (76 columns at most).
      if (col + token.size() > 75) {
        out += "=\r\n";
        col = 0;
        if (token == ".") token = "=2E";
        if (token == "F" && line.substr(i, 5) == "From ") token = "=46";
      }
      out += token;
      col += token.size();
    }
    if (nl == text.size()) break;
    pos = nl + 1;
  }
  return out;
}

std::string rfc5322_date(int64_t epoch) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string make_message_id(std::string_view domain, int64_t now) {
  std::string d;
  for (char c : domain) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '.' || c == '-') d += c;
  }
  if (d.empty()) d = "localhost";
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%016llx", static_cast<long long>(now),
                static_cast<unsigned long long>(r));
  return "<rw." + std::string(buf) + "@" + d + ">";
}

std::string to_mime(const Email& e) {
  if (e.to.empty()) throw Error("email without recipients");
  if (e.message_id.size() < 5 || e.message_id.front() != '<' || e.message_id.back() != '>' ||
      needs_encoding(e.message_id) || e.message_id.find(' ') != std::string::npos)
    throw Error("email Message-ID \"" + sanitize_header(e.message_id) + "\" is not <token@domain>");

  // The boundary starts with "=_": quoted-printable output never contains that sequence.
  std::string boundary = "=_repwatch_";
  for (char c : e.message_id)
    if (std::isalnum(static_cast<unsigned char>(c))) boundary += c;
  if (boundary.size() > 60) boundary.resize(60);

  std::string out;
  add_line(out, "Date: " + rfc5322_date(e.date));
  add_line(out, "From: " + format_mailbox(e.from_name, e.from_address));
  std::string to = "To:";
  size_t col = to.size();
  for (size_t i = 0; i < e.to.size(); ++i) {
    std::string mailbox = format_mailbox("", e.to[i]) + (i + 1 < e.to.size() ? "," : "");
    if (col + 1 + mailbox.size() > 78 && i > 0) {
      to += "\r\n";
      col = 0;
    }
    to += " " + mailbox;
    col += 1 + mailbox.size();
  }
  add_line(out, to);
  add_line(out, encode_header("Subject", e.subject));
  add_line(out, "Message-ID: " + e.message_id);
  add_line(out, "MIME-Version: 1.0");
  add_line(out, "Auto-Submitted: auto-generated");
  add_line(out, "X-Auto-Response-Suppress: All");
  for (const auto& [name, value] : e.headers) add_line(out, encode_header(name, value));

  const std::string text = quoted_printable(sanitize_body(e.text));
  if (e.html.empty()) {
    add_line(out, "Content-Type: text/plain; charset=UTF-8");
    add_line(out, "Content-Transfer-Encoding: quoted-printable");
    add_line(out, "");
    add_line(out, text);
    return out;
  }
  add_line(out, "Content-Type: multipart/alternative;");
  add_line(out, " boundary=\"" + boundary + "\"");
  add_line(out, "");
  add_line(out, "This is a MIME message: a text and an HTML version of the same content.");
  add_line(out, "");
  add_line(out, "--" + boundary);
  add_line(out, "Content-Type: text/plain; charset=UTF-8");
  add_line(out, "Content-Transfer-Encoding: quoted-printable");
  add_line(out, "");
  add_line(out, text);
  add_line(out, "--" + boundary);
  add_line(out, "Content-Type: text/html; charset=UTF-8");
  add_line(out, "Content-Transfer-Encoding: quoted-printable");
  add_line(out, "");
  add_line(out, quoted_printable(valid_utf8(e.html)));
  add_line(out, "--" + boundary + "--");
  return out;
}

}  // namespace repwatch::alerts
