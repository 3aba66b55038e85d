// repwatch/core/time.h - parsing and formatting the timestamps review sources send.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace repwatch {

// RFC 3339 / ISO 8601 date-times as sources send them: "2014-10-02T15:01:23Z" with 0-9
// fractional digits, "+00:00" or "+0000" offsets (Facebook), "2024-01-04 10:00:00" and a bare
// "2024-01-04" (taken as UTC midnight). Returns UTC epoch seconds, nullopt if not a date-time.
std::optional<int64_t> parse_timestamp(std::string_view text);

// "2026-01-31T12:00:00Z"
std::string format_timestamp(int64_t epoch_seconds);
// "2026-01-31"
std::string format_date(int64_t epoch_seconds);

// Durations in config and on the command line: "90s", "15m", "2h", "1d", "1w", also combined
// ("1h30m"). Returns seconds, nullopt if not a duration.
std::optional<int64_t> parse_duration(std::string_view text);

// Current UTC epoch seconds.
int64_t now_seconds();

}  // namespace repwatch
