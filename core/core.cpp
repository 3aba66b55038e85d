#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>

#include "core/analysis.h"
#include "core/error.h"
#include "core/review.h"
#include "core/time.h"

namespace repwatch {

const char* to_string(SourceError::Kind kind) {
  switch (kind) {
    case SourceError::Kind::kTransient:
      return "transient";
    case SourceError::Kind::kAuth:
      return "auth";
    case SourceError::Kind::kGarbage:
      return "garbage";
    case SourceError::Kind::kConfig:
      return "config";
    case SourceError::Kind::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

std::string_view without_context(std::string_view message, std::string_view context) {
  while (!context.empty() && message.size() > context.size() + 1 &&
         message.substr(0, context.size()) == context && message[context.size()] == ':') {
    message.remove_prefix(context.size() + 1);
    while (!message.empty() && message.front() == ' ') message.remove_prefix(1);
  }
  return message;
}

std::optional<SourceError::Kind> parse_source_error_kind(std::string_view name) {
  for (auto k :
       {SourceError::Kind::kTransient, SourceError::Kind::kAuth, SourceError::Kind::kGarbage,
        SourceError::Kind::kConfig, SourceError::Kind::kUnavailable})
    if (name == to_string(k)) return k;
  return std::nullopt;
}

const char* to_string(Label label) {
  switch (label) {
    case Label::kNegative:
      return "negative";
    case Label::kNeutral:
      return "neutral";
    case Label::kPositive:
      return "positive";
  }
  return "neutral";
}

std::optional<Label> parse_label(std::string_view name) {
  for (Label l : {Label::kNegative, Label::kNeutral, Label::kPositive})
    if (name == to_string(l)) return l;
  return std::nullopt;
}

namespace {

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

RatingScale RatingScale::parse(const std::string& text) {
  if (text == "stars" || text == "1-5") return stars();
  if (text == "binary" || text == "recommend") return binary();
  if (text == "none") return none();
  if (text == "nps") return linear(0, 10);
  if (text == "percent") return linear(0, 100);
  auto dash = text.find('-', 1);
  if (dash != std::string::npos) {
    auto lo = parse_number(std::string_view(text).substr(0, dash));
    auto hi = parse_number(std::string_view(text).substr(dash + 1));
    if (lo && hi && *lo < *hi) return linear(*lo, *hi);
  }
  throw ConfigError("unknown rating scale \"" + text +
                    "\" (expected 1-5, 1-10, 0-10, 0-100, LO-HI, binary or none)");
}

std::string RatingScale::to_string() const {
  switch (kind) {
    case Kind::kNone:
      return "none";
    case Kind::kBinary:
      return "binary";
    case Kind::kLinear:
      return format_number(lo) + "-" + format_number(hi);
  }
  return "none";
}

std::string content_hash(const Review& r) {
  // FNV-1a 64 over the fields that make an edit, each terminated by a separator byte that
  // cannot occur in UTF-8 text, so ("ab","c") and ("a","bc") differ. Numbers are mixed in as
  // text (%g for the rating, decimal for times): stored hashes depend on that exact form.
  // Computed for every review of every poll, so without a heap allocation.
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  auto mix_int = [&mix](int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    mix(std::string_view(buf, static_cast<size_t>(end - buf)));
  };
  mix(r.author);
  if (r.raw_rating) {
    char buf[32];
    int n = std::snprintf(buf, sizeof buf, "%g", *r.raw_rating);
    mix(std::string_view(buf, static_cast<size_t>(std::clamp(n, 0, int(sizeof buf) - 1))));
  } else {
    mix("-");
  }
  mix(r.text);
  mix(r.reply_text);
  mix_int(r.updated_at);
  if (r.reply_at)
    mix_int(*r.reply_at);
  else
    mix("-");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kHex[h & 0xf];
  return out;
}

// ---- time -------------------------------------------------------------------------------

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

std::optional<int64_t> parse_timestamp(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  size_t pos = 10;
  int64_t offset = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!digits(s, pos, 2, h) || pos + 2 >= s.size() || s[pos + 2] != ':' ||
        !digits(s, pos + 3, 2, mi))
      return std::nullopt;
    pos += 5;
    if (pos < s.size() && s[pos] == ':') {
      if (!digits(s, pos + 1, 2, sec)) return std::nullopt;
      pos += 3;
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == start || pos - start > 9) return std::nullopt;
    }
    if (pos < s.size()) {
      char c = s[pos];
      if (c == 'Z' || c == 'z') {
        ++pos;
      } else if (c == '+' || c == '-') {
        int oh, om;
        if (!digits(s, pos + 1, 2, oh)) return std::nullopt;
        size_t p = pos + 3;
        if (p < s.size() && s[p] == ':') ++p;
        if (!digits(s, p, 2, om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset = (oh * 3600 + om * 60) * (c == '+' ? 1 : -1);
        pos = p + 2;
      } else {
        return std::nullopt;
      }
    }
    if (pos != s.size()) return std::nullopt;
  }
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return days * 86400 + h * 3600 + mi * 60 + sec - offset;
}

std::string format_timestamp(int64_t t) {
  // Clamp to years 0000..9999: a wild value (a source's bogus epoch number) must not overflow
  // the calendar arithmetic below (undefined behaviour; found by fuzz/fuzz_time).
  constexpr int64_t kMin = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  t = std::clamp(t, kMin, kMax);
  std::chrono::sys_seconds tp{std::chrono::seconds(t)};
  auto dp = std::chrono::floor<std::chrono::days>(tp);
  std::chrono::year_month_day ymd{dp};
  std::chrono::hh_mm_ss hms{tp - dp};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), long(hms.hours().count()),
                long(hms.minutes().count()), long(hms.seconds().count()));
  return buf;
}

std::string format_date(int64_t t) { return format_timestamp(t).substr(0, 10); }

std::optional<int64_t> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    int64_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      n = n * 10 + (s[pos] - '0');
      if (n > 100000000) return std::nullopt;
      ++pos;
    }
    if (pos == start || pos == s.size()) return std::nullopt;
    int64_t unit;
    switch (s[pos]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        return std::nullopt;
    }
    ++pos;
    // Many components could overflow int64 (undefined behaviour): refuse absurd totals
    // (over ~270,000 years; found by fuzz/fuzz_time).
    if (total > (int64_t{1} << 33) * 1000 - n * unit) return std::nullopt;
    total += n * unit;
  }
  return total;
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace repwatch
