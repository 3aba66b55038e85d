// repwatch/core/text.h - text from outside: UTF-8 validity, other character sets, HTML
// character references.
//
//   if (auto bad = invalid_utf8_at(bytes); bad != std::string_view::npos) ...
//   Converted c = convert_to_utf8(bytes, "WINDOWS-1252");   // glibc iconv(3)
//   if (!c.ok()) ... c.bad_at is the offset in `bytes` of the first byte that is not a
//                    character of that encoding; c.text holds what came before it
//   std::string t = decode_html_entities("Tom &amp; Jerry&#39;s");   // "Tom & Jerry's"
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace repwatch {

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

}  // namespace repwatch
