// repwatch/cli/args.h - the pieces of the command line every command shares: dates, periods,
// and errors that suggest the closest valid name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace repwatch::cli {

// A mistake on the command line (exit code 2). The message says what was expected.
class UsageError : public Error {
 public:
  using Error::Error;
};

constexpr int64_t kDay = 86400;

// A point in time on the command line, resolved against `now` (UTC epoch seconds):
//   2026-01-31              that day at 00:00 UTC (or the end of it when end_of_day)
//   2026-01-31T10:00:00Z    RFC 3339, as is
//   30d, 2w, 12h, 1d12h     that long before now
//   today, yesterday        00:00 UTC of that day (end of it when end_of_day)
// Throws UsageError naming `option` otherwise.
int64_t parse_when(std::string_view text, int64_t now, bool end_of_day, std::string_view option);

// A half-open time range [since, until).
struct Range {
  int64_t since = 0;
  int64_t until = 0;
  int64_t length() const { return until - since; }
  Range previous() const { return {since - length(), since}; }
  bool contains(int64_t t) const { return t >= since && t < until; }
};

// --period: "30d", "4w", "90d" (that long, ending at `until`), or a calendar month "2026-01"
// (then `until` is ignored). Throws UsageError.
Range parse_period(std::string_view text, int64_t until);

// "2026-01-01 .. 2026-01-31" (until is exclusive: the last day shown is until - 1s).
std::string describe(const Range& range);

// Levenshtein distance (bytes).
size_t edit_distance(std::string_view a, std::string_view b);
// The candidates closest to `wrong`: a prefix/substring match or within a small edit distance,
// best first, at most `max`.
std::vector<std::string> closest(std::string_view wrong, const std::vector<std::string>& candidates,
                                 size_t max = 3);
// "unknown source \"googel\" (did you mean \"google-downtown\"?); known sources: a, b, c"
std::string unknown_name_message(std::string_view what, std::string_view wrong,
                                 const std::vector<std::string>& candidates);

}  // namespace repwatch::cli
