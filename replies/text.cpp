#include "replies/text.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/text.h"

namespace repwatch::replies::detail {

namespace {

struct Cp {
  uint32_t cp = 0;
  uint32_t len = 1;
};

// One code point at text[i]; an invalid or truncated sequence is U+FFFD of one byte.
Cp decode(std::string_view s, size_t i) {
  uint32_t cp = 0;
  const size_t len = decode_utf8(s, i, cp);
  if (len == 0) return {0xFFFD, 1};
  return {cp, static_cast<uint32_t>(len)};
}

bool ascii_alpha(uint32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }

bool is_letter(uint32_t c) {
  if (c < 0x80) return ascii_alpha(c);
  if (c == 0xD7 || c == 0xF7) return false;     // × ÷
  if (c >= 0xC0 && c <= 0x24F) return true;     // Latin-1, Latin Extended
  if (c >= 0x370 && c <= 0x1FFF) return true;   // Greek ... Latin Ext. Additional
  if (c >= 0x3040 && c <= 0x9FFF) return true;  // kana, CJK
  if (c >= 0xAC00 && c <= 0xD7A3) return true;  // Hangul
  return false;
}
bool is_upper(uint32_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7);
}
bool is_apostrophe(uint32_t c) { return c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x2BC; }
bool is_dash(uint32_t c) { return c == '-' || (c >= 0x2010 && c <= 0x2015) || c == 0x2212; }
bool is_space(uint32_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == 0xA0 ||
         (c >= 0x2000 && c <= 0x200B) || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

uint32_t fold(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (is_apostrophe(c)) return '\'';
  return c;
}

// Words whose following '.' abbreviates them instead of ending a sentence.
bool is_title_abbreviation(std::string_view w) {
  static constexpr std::array<std::string_view, 26> kWords = {
      "dr",   "mr",  "mrs", "ms", "mx",   "st",  "prof", "jr",  "sr",
      "vs",   "etc", "no",  "mt", "ft",   "ave", "dept", "ext", "approx",
      "appt", "inc", "co",  "rd", "blvd", "apt", "fig",  "tel"};
  return std::find(kWords.begin(), kWords.end(), w) != kWords.end();
}

bool email_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (u < 0x80 &&
          (std::isalnum(u) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'));
}
bool domain_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u < 0x80 && (std::isalnum(u) || c == '.' || c == '-');
}

// [begin, end) of the email address around the '@' at `at`, or {0, 0}.
std::pair<size_t, size_t> email_around(std::string_view s, size_t at) {
  size_t b = at;
  while (b > 0 && email_char(s[b - 1])) --b;
  size_t e = at + 1;
  while (e < s.size() && domain_char(s[e])) ++e;
  while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-')) --e;
  while (b < at && s[b] == '.') ++b;
  std::string_view domain = s.substr(at + 1, e - at - 1);
  if (b == at || domain.size() < 3 || domain.find('.') == std::string_view::npos ||
      domain.front() == '.')
    return {0, 0};
  return {b, e};
}

bool starts_url(std::string_view s, size_t i) {
  auto ci = [&](std::string_view p) {
    if (i + p.size() > s.size()) return false;
    for (size_t k = 0; k < p.size(); ++k)
      if (static_cast<char>(std::tolower(static_cast<unsigned char>(s[i + k]))) != p[k])
        return false;
    return true;
  };
  if (i > 0 && std::isalnum(static_cast<unsigned char>(s[i - 1]))) return false;
  return ci("http://") || ci("https://") || ci("www.");
}

// The tokens tokenize() has read so far, and the sentence and line they are in.
struct TokenSink {
  std::vector<Tok> out;
  uint32_t sentence = 0, line = 0;

  void push(Tok t) {
    t.sentence = sentence;
    t.line = line;
    if (t.ends_sentence) ++sentence;
    if (t.kind == TokKind::kPunct && t.mark == '\n') ++line;
    out.push_back(std::move(t));
  }
  void punct(size_t at, uint32_t len, char mark, bool ends) {
    Tok t;
    t.offset = static_cast<uint32_t>(at);
    t.length = len;
    t.kind = TokKind::kPunct;
    t.mark = mark;
    t.norm = std::string(1, mark);
    t.ends_sentence = ends;
    push(std::move(t));
  }
};

// The readers below each read one kind of token at s[i] into the sink and return where the
// next token may start; those that may find nothing there return i.

// A URL (starts_url(s, i)): up to white space or < > ", without trailing punctuation.
size_t read_url(std::string_view s, size_t i, TokenSink& sink) {
  const size_t n = s.size();
  size_t e = i;
  while (e < n && !std::isspace(static_cast<unsigned char>(s[e])) && s[e] != '<' && s[e] != '>' &&
         s[e] != '"')
    ++e;
  while (e > i && std::string_view(".,;:!?)'").find(s[e - 1]) != std::string_view::npos) --e;
  Tok t;
  t.offset = static_cast<uint32_t>(i);
  t.length = static_cast<uint32_t>(e - i);
  t.kind = TokKind::kUrl;
  t.norm = std::string(s.substr(i, e - i));
  sink.push(std::move(t));
  return e;
}

// An email address starting at i: its '@' within the run of email characters from there.
size_t read_email(std::string_view s, size_t i, TokenSink& sink) {
  const size_t n = s.size();
  if (!email_char(s[i]) || s[i] == '.' || s[i] == '-') return i;
  size_t k = i;
  while (k < n && k - i <= 64 && email_char(s[k])) ++k;
  if (k >= n || s[k] != '@') return i;
  auto [b, e] = email_around(s, k);
  if (b != i || e <= k) return i;
  Tok t;
  t.offset = static_cast<uint32_t>(b);
  t.length = static_cast<uint32_t>(e - b);
  t.kind = TokKind::kEmail;
  for (size_t m = b; m < e; ++m)
    t.norm += static_cast<char>(std::tolower(static_cast<unsigned char>(s[m])));
  sink.push(std::move(t));
  return e;
}

// A number (s[i] is a digit): digits, with . , : / - between digits, and an ordinal suffix
// ("19th") when no letter follows it.
size_t read_number(std::string_view s, size_t i, TokenSink& sink) {
  const size_t n = s.size();
  Tok t;
  t.offset = static_cast<uint32_t>(i);
  t.kind = TokKind::kNumber;
  size_t e = i;
  for (;;) {
    while (e < n && ascii_digit(static_cast<unsigned char>(s[e]))) {
      t.norm += s[e++];
      ++t.digits;
    }
    if (e + 1 < n && std::string_view(".,:/-").find(s[e]) != std::string_view::npos &&
        ascii_digit(static_cast<unsigned char>(s[e + 1]))) {
      t.norm += s[e++];
      continue;
    }
    break;
  }
  if (e + 1 < n) {
    char a = static_cast<char>(std::tolower(static_cast<unsigned char>(s[e])));
    char b = static_cast<char>(std::tolower(static_cast<unsigned char>(s[e + 1])));
    std::string_view suffix = std::string_view("stndrdth");
    bool ordinal = false;
    for (size_t k = 0; k < suffix.size(); k += 2)
      if (a == suffix[k] && b == suffix[k + 1]) ordinal = true;
    if (ordinal && (e + 2 >= n || !is_letter(decode(s, e + 2).cp))) {
      t.ordinal = true;
      t.norm += a;
      t.norm += b;
      e += 2;
    }
  }
  t.length = static_cast<uint32_t>(e - i);
  sink.push(std::move(t));
  return e;
}

// Dotted capitals at a letter c: "J.M.", "K.", "a.m.", "U.S.".
size_t read_initials(std::string_view s, size_t i, Cp c, TokenSink& sink) {
  const size_t n = s.size();
  if (c.len != 1 || i + 1 >= n || s[i + 1] != '.') return i;
  size_t e = i;
  int groups = 0;
  while (e + 1 < n && ascii_alpha(static_cast<unsigned char>(s[e])) && s[e + 1] == '.' &&
         (e + 2 >= n || !ascii_alpha(static_cast<unsigned char>(s[e + 2])) ||
          (e + 3 < n && s[e + 3] == '.'))) {
    e += 2;
    ++groups;
  }
  bool upper = is_upper(c.cp);
  if (!(groups >= 2 || (groups == 1 && upper && s[i] != 'I'))) return i;
  Tok t;
  t.offset = static_cast<uint32_t>(i);
  t.length = static_cast<uint32_t>(e - i);
  t.kind = TokKind::kInitials;
  t.cap = upper;
  for (size_t m = i; m < e; ++m)
    t.norm += static_cast<char>(std::tolower(static_cast<unsigned char>(s[m])));
  // "... review, G.N. We appreciate": a capital after the dots starts a sentence.
  size_t m = e;
  while (m < n && s[m] == ' ') ++m;
  if (m > e && m < n && is_upper(decode(s, m).cp)) t.ends_sentence = true;
  if (e >= n) t.ends_sentence = true;
  sink.push(std::move(t));
  return e;
}

// A word at a letter c: letters, digits and inner apostrophes, folded; a possessive 's or
// s' comes off. A hyphen between two letters after it is skipped ("follow-up"), and the '.'
// after a title ("Dr.") does not end the sentence.
size_t read_word(std::string_view s, size_t i, Cp c, TokenSink& sink) {
  const size_t n = s.size();
  Tok t;
  t.offset = static_cast<uint32_t>(i);
  t.kind = TokKind::kWord;
  t.cap = is_upper(c.cp);
  size_t e = i;
  int letters = 0, uppers = 0;
  while (e < n) {
    Cp d = decode(s, e);
    if (is_letter(d.cp)) {
      ++letters;
      if (is_upper(d.cp)) ++uppers;
      append_utf8(t.norm, fold(d.cp));
      e += d.len;
    } else if (ascii_digit(d.cp)) {
      t.has_digit = true;
      t.norm += static_cast<char>(d.cp);
      ++e;
    } else if (is_apostrophe(d.cp)) {
      Cp next = e + d.len < n ? decode(s, e + d.len) : Cp{0, 0};
      if (next.len && is_letter(next.cp)) {
        t.norm += '\'';
        e += d.len;
      } else if (!t.norm.empty() && t.norm.back() == 's') {  // "kids'"
        t.possessive = true;
        e += d.len;
        break;
      } else {
        break;
      }
    } else {
      break;
    }
  }
  t.all_caps = letters >= 2 && uppers == letters;
  if (t.norm.size() > 2 && t.norm.compare(t.norm.size() - 2, 2, "'s") == 0) {
    t.norm.resize(t.norm.size() - 2);
    t.possessive = true;
  }
  t.length = static_cast<uint32_t>(e - i);
  bool title = is_title_abbreviation(t.norm);
  sink.push(std::move(t));
  // A hyphen between two letters separates words silently ("follow-up").
  if (e < n) {
    Cp d = decode(s, e);
    if (is_dash(d.cp) && e + d.len < n && is_letter(decode(s, e + d.len).cp)) return e + d.len;
    if (d.cp == '.' && title) {
      sink.punct(e, 1, '.', false);
      return e + 1;
    }
  }
  return e;
}

// Punctuation and symbols (code point c at i); anything else - quotes, emoji, other symbols -
// is skipped and separates words silently.
size_t read_mark(std::string_view s, size_t i, Cp c, TokenSink& sink) {
  const size_t n = s.size();
  if (c.cp == '.' || c.cp == 0x2026) {
    size_t e = i + c.len;
    while (e < n && s[e] == '.') ++e;
    sink.punct(i, static_cast<uint32_t>(e - i), '.', true);
    return e;
  }
  if (c.cp == '!' || c.cp == '?' || c.cp == ';' || c.cp == ':') {
    sink.punct(i, 1, static_cast<char>(c.cp), true);
    return i + 1;
  }
  if (c.cp == ',' || c.cp == '(' || c.cp == ')') {
    sink.punct(i, 1, static_cast<char>(c.cp), false);
    return i + 1;
  }
  if (is_dash(c.cp)) {
    size_t e = i + c.len;
    while (e < n && is_dash(decode(s, e).cp)) e += decode(s, e).len;
    sink.punct(i, static_cast<uint32_t>(e - i), '-', false);
    return e;
  }
  if (c.cp < 0x80 && std::string_view("$#%@&/+=*<>[]{}|~^_\\\"`").find(static_cast<char>(c.cp)) !=
                         std::string_view::npos) {
    Tok t;
    t.offset = static_cast<uint32_t>(i);
    t.length = 1;
    t.kind = TokKind::kSymbol;
    t.mark = static_cast<char>(c.cp);
    t.norm = std::string(1, t.mark);
    sink.push(std::move(t));
    return i + 1;
  }
  return i + c.len;
}

}  // namespace

std::string fold_word(std::string_view word) {
  std::vector<Tok> toks = tokenize(word);
  for (const Tok& t : toks)
    if (is_wordlike(t)) return t.norm;
  return std::string();
}

std::vector<Tok> tokenize(std::string_view s) {
  TokenSink sink;
  sink.out.reserve(s.size() / 5 + 8);  // about one token per five bytes of English
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    Cp c = decode(s, i);
    if (c.cp == '\n') {
      sink.punct(i, 1, '\n', true);
      ++i;
      continue;
    }
    if (is_space(c.cp) || c.cp == 0xFFFD) {
      i += c.len;
      continue;
    }
    if (starts_url(s, i)) {
      i = read_url(s, i, sink);
      continue;
    }
    if (size_t e = read_email(s, i, sink); e != i) {
      i = e;
      continue;
    }
    if (ascii_digit(c.cp)) {
      i = read_number(s, i, sink);
      continue;
    }
    if (is_letter(c.cp)) {
      size_t e = read_initials(s, i, c, sink);
      i = e != i ? e : read_word(s, i, c, sink);
      continue;
    }
    i = read_mark(s, i, c, sink);
  }
  return std::move(sink.out);
}

}  // namespace repwatch::replies::detail
