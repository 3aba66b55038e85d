#include "cli/args.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/time.h"

namespace repwatch::cli {

namespace {

int64_t day_start(int64_t t) { return (t >= 0 ? t : t - (kDay - 1)) / kDay * kDay; }

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "30d", "2w", "12h", "3mo", "1y", "1d12h": seconds, or nullopt. "6m" (minutes) is refused
// with a hint because on a date option people mean months.
std::optional<int64_t> relative(std::string_view text, std::string_view option) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
  auto num_end = text.find_first_not_of("0123456789");
  if (num_end != std::string_view::npos && num_end > 0) {
    std::string_view unit = text.substr(num_end);
    std::string_view num = text.substr(0, num_end);
    if ((unit == "mo" || unit == "y") && all_digits(num) && num.size() < 6) {
      int64_t n = std::stoll(std::string(num));
      return n * (unit == "y" ? 365 : 30) * kDay;
    }
    if (unit == "m")
      throw UsageError(std::string(option) + ": \"" + std::string(text) +
                       "\" would be minutes; write " + std::string(num) + "mo for months or " +
                       std::to_string(std::stoll(std::string(num)) * 30) + "d");
  }
  return parse_duration(text);
}

}  // namespace

int64_t parse_when(std::string_view text, int64_t now, bool end_of_day, std::string_view option) {
  std::string t(text);
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto whole_day = [&](int64_t start) { return end_of_day ? start + kDay : start; };
  if (t == "today") return whole_day(day_start(now));
  if (t == "yesterday") return whole_day(day_start(now) - kDay);
  if (t == "now") return now;
  if (auto ago = relative(t, option)) {
    if (*ago <= 0)
      throw UsageError(std::string(option) + ": \"" + std::string(text) + "\" is not a time ago");
    return now - *ago;
  }
  if (auto ts = parse_timestamp(text)) {
    if (text.size() == 10) {
      // A bare date: check it is a real one (2026-02-31 is not).
      if (format_date(*ts) != text)
        throw UsageError(std::string(option) + ": \"" + std::string(text) +
                         "\" is not a calendar date");
      return whole_day(*ts);
    }
    return *ts;
  }
  throw UsageError(std::string(option) + ": expected a date like 2026-01-31 or a time ago like " +
                   "30d, 2w, 3mo, 1y (see `repwatch help dates`), got \"" + std::string(text) +
                   "\"");
}

Range parse_period(std::string_view text, int64_t until) {
  // A calendar month: 2026-01.
  if (text.size() == 7 && text[4] == '-' && all_digits(text.substr(0, 4)) &&
      all_digits(text.substr(5))) {
    int y = std::stoi(std::string(text.substr(0, 4)));
    unsigned m = static_cast<unsigned>(std::stoi(std::string(text.substr(5))));
    if (m >= 1 && m <= 12) {
      using namespace std::chrono;
      year_month_day first{year{y}, month{m}, day{1}};
      year_month ym = year_month{year{y}, month{m}} + months{1};
      year_month_day next{ym.year(), ym.month(), day{1}};
      int64_t a = sys_days(first).time_since_epoch().count() * kDay;
      int64_t b = sys_days(next).time_since_epoch().count() * kDay;
      return {a, b};
    }
  }
  std::string t(text);
  std::optional<int64_t> len;
  try {
    len = relative(t, "--period");
  } catch (const UsageError&) {
    len.reset();
  }
  if (!len || *len <= 0)
    throw UsageError(
        "--period: expected a length like 30d, 4w, 3mo or a month like 2026-01, got \"" + t + "\"");
  return {until - *len, until};
}

std::string describe(const Range& r) {
  return format_date(r.since) + " .. " + format_date(r.until - 1);
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                          std::tolower(static_cast<unsigned char>(b[j - 1]))
                                      ? 0
                                      : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<std::string> closest(std::string_view wrong, const std::vector<std::string>& candidates,
                                 size_t max) {
  std::string w(wrong);
  for (auto& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& cand : candidates) {
    std::string lc = cand;
    for (auto& c : lc) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t d = edit_distance(w, lc);
    // "parkng" is close to "parking_access": compare with each word of a compound name too.
    size_t start = 0;
    while (start < lc.size()) {
      size_t end = lc.find_first_of("_- ", start);
      if (end == std::string::npos) end = lc.size();
      if (end > start) d = std::min(d, edit_distance(w, lc.substr(start, end - start)));
      start = end + 1;
    }
    size_t limit = std::max<size_t>(2, w.size() / 3);
    if (!w.empty() && (lc.find(w) != std::string::npos || (w.size() >= 3 && w.find(lc) == 0)))
      d = std::min<size_t>(d, 1);
    if (d <= limit) scored.emplace_back(d, cand);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& s : scored) {
    if (out.size() == max) break;
    out.push_back(std::move(s.second));
  }
  return out;
}

std::string unknown_name_message(std::string_view what, std::string_view wrong,
                                 const std::vector<std::string>& candidates) {
  std::string msg = "unknown " + std::string(what) + " \"" + std::string(wrong) + "\"";
  auto near = closest(wrong, candidates);
  if (!near.empty()) {
    msg += " (did you mean ";
    for (size_t i = 0; i < near.size(); ++i) {
      if (i) msg += i + 1 == near.size() ? " or " : ", ";
      msg += "\"" + near[i] + "\"";
    }
    msg += "?)";
  }
  if (candidates.empty()) {
    msg += "; the database has none yet";
  } else {
    msg += "; known: ";
    size_t shown = std::min<size_t>(candidates.size(), 20);
    for (size_t i = 0; i < shown; ++i) msg += (i ? ", " : "") + candidates[i];
    if (shown < candidates.size())
      msg += ", ... (" + std::to_string(candidates.size() - shown) + " more)";
  }
  return msg;
}

}  // namespace repwatch::cli
