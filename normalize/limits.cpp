#include "normalize/limits.h"

#include "core/text.h"

namespace repwatch {

namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// A character clean_field() keeps as it is: printable (not a C0 or C1 control, not DEL), or LF
// and TAB in a multi-line field.
bool kept_as_is(uint32_t cp, bool multiline) {
  return (cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F)) ||
         (multiline && (cp == '\n' || cp == '\t'));
}

// True when clean_field() would return `s` unchanged - the case of nearly every review.
// Printable ASCII costs one comparison per byte.
bool already_clean(std::string_view s, bool multiline) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = decode_utf8(s, i, cp);
    if (len == 0 || !kept_as_is(cp, multiline)) return false;
    i += len;
  }
  return true;
}

}  // namespace

std::string clean_field(std::string_view s, bool multiline) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = decode_utf8(s, i, cp);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    if (cp == '\r' || cp == '\n' || cp == '\t') {
      if (!multiline) {
        out += ' ';
      } else if (cp == '\r') {
        out += '\n';
        if (i + 1 < s.size() && s[i + 1] == '\n') ++i;  // CRLF -> LF
      } else {
        out += static_cast<char>(cp);
      }
    } else if (kept_as_is(cp, multiline)) {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string truncate_utf8(std::string text, size_t max_bytes, std::string_view marker) {
  if (text.size() <= max_bytes) return text;
  size_t keep = max_bytes > marker.size() ? max_bytes - marker.size() : 0;
  while (keep > 0 && is_continuation(text[keep])) --keep;  // text[keep] starts the next char
  text.resize(keep);
  if (marker.size() <= max_bytes) text += marker;
  return text;
}

bool limit_review(Review& r, std::string& why, const ReviewLimits& limits) {
  if (r.external_id.empty()) {
    why = "no external id; skipped";
    return false;
  }
  if (r.external_id.size() > limits.external_id_bytes) {
    why = "external id of " + std::to_string(r.external_id.size()) + " bytes (more than " +
          std::to_string(limits.external_id_bytes) + "); skipped";
    return false;
  }
  // Runs for every field of every review fetched: no copy when there is nothing to change.
  auto clean = [](std::string& field, size_t cap, bool multiline) {
    if (!already_clean(field, multiline)) field = clean_field(field, multiline);
    if (field.size() > cap) field = truncate_utf8(std::move(field), cap);
  };
  auto multi = [&](std::string& field, size_t cap) { clean(field, cap, true); };
  auto single = [&](std::string& field, size_t cap) { clean(field, cap, false); };
  multi(r.text, limits.text_bytes);
  multi(r.translated_text, limits.text_bytes);
  multi(r.reply_text, limits.text_bytes);
  single(r.author, limits.author_bytes);
  single(r.url, limits.url_bytes);
  single(r.language, limits.language_bytes);
  single(r.location_id, limits.location_bytes);
  return true;
}

}  // namespace repwatch
