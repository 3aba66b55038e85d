// repwatch/core/text.h - text from outside: UTF-8 validity and decoding, other character
// sets, HTML character references and escaping, ASCII case and white space.
//
//   std::string k = lower("Content-Type");           // "content-type" (ASCII letters only)
//   std::string_view v = trim("  42 \r\n");          // "42": a view into the argument
//   uint32_t cp; size_t n = decode_utf8(s, i, cp);   // 1..4, 0 for an invalid sequence
//   std::string h = html_escape("<b>Tom & Jerry's</b>");
//   if (auto bad = invalid_utf8_at(bytes); bad != std::string_view::npos) ...
//   Converted c = convert_to_utf8(bytes, "WINDOWS-1252");   // glibc iconv(3)
//   if (!c.ok()) ... c.bad_at is the offset in `bytes` of the first byte that is not a
//                    character of that encoding; c.text holds what came before it
//   std::string t = decode_html_entities("Tom &amp; Jerry&#39;s");   // "Tom & Jerry's"
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace repwatch {

// `s` with the ASCII letters A-Z in lower case; every other byte (UTF-8 included) as it is.
std::string lower(std::string_view s);

// `s` without ASCII white space (space, \t, \n, \v, \f, \r) at either end: a view into `s`,
// so keep what it views alive (`std::string(trim(f()))` for a temporary).
std::string_view trim(std::string_view s);

// The pieces of `s` between the separators `sep`, empty ones included ("a||b" -> "a", "", "b";
// "" -> one empty piece): views into `s`, like trim().
std::vector<std::string_view> split(std::string_view s, char sep);

// Decodes the UTF-8 sequence at s[i] (i < s.size()): returns its length (1..4) and sets `cp`,
// or returns 0 (`cp` unspecified) when it is not well-formed - a byte that leads no sequence
// (0x80..0xC1, 0xF5..0xFF), a missing continuation byte, a sequence cut off at the end of `s`,
// an overlong form, a UTF-16 surrogate or a code point above U+10FFFF (RFC 3629).
inline size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t len;
  uint32_t min;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1Fu, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0Fu, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (len > s.size() - i) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Appends the UTF-8 encoding of code point `cp` (at most U+10FFFF) to `out`.
void append_utf8(std::string& out, uint32_t cp);

// The offset of the first byte of `text` that is not part of well-formed UTF-8 (RFC 3629: no
// overlong forms, no UTF-16 surrogates, nothing above U+10FFFF, no truncated sequence);
// std::string_view::npos when the whole text is valid.
size_t invalid_utf8_at(std::string_view text);

// True when iconv(3) can convert from `encoding` to UTF-8 ("WINDOWS-1252", "ISO-8859-1",
// "UTF-16LE", "MACINTOSH"... case-insensitive, as `iconv -l` lists them).
bool is_known_encoding(const std::string& encoding);

struct Converted {
  std::string text;                        // UTF-8; up to bad_at when the conversion failed
  size_t bad_at = std::string_view::npos;  // offset in the input of the first bad byte
  bool ok() const { return bad_at == std::string_view::npos; }
};

// Converts `bytes` from `encoding` to UTF-8 with iconv(3), without transliteration: a byte
// sequence that is not a character of that encoding (or is cut off at the end) stops the
// conversion and is reported in bad_at. Throws std::invalid_argument for an unknown encoding.
Converted convert_to_utf8(std::string_view bytes, const std::string& encoding);

// Decodes HTML character references: numeric ones (&#39; &#x27;), the five of XML (&amp; &lt;
// &gt; &quot; &apos;), the Latin-1 names of HTML (&nbsp; through &yuml;: &eacute; &ntilde;
// &copy;...) and its typographic ones (&ndash; &mdash; &lsquo; &rsquo; &ldquo; &rdquo;
// &hellip; &bull; &trade; &euro;...). The trailing ';' is required. Anything else - another
// name, a reference to a control character, a surrogate or a code point above U+10FFFF - is
// kept as written, so text that merely contains '&' is unchanged.
std::string decode_html_entities(std::string_view text);

// `text` safe in HTML element content and in quoted attribute values: & < > " ' become
// &amp; &lt; &gt; &quot; &#39;.
std::string html_escape(std::string_view text);

}  // namespace repwatch
