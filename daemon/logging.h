// repwatch/daemon/logging.h - where repwatchd's log lines go.
//
// Under systemd (stderr is the journal stream named by $JOURNAL_STREAM, or $INVOCATION_ID is
// set and stderr is not a terminal) every line goes to stderr with the sd-daemon(3) priority
// prefix ("<3>" error, "<4>" warning, "<6>" info, "<7>" debug) and no timestamp: journald adds
// its own and `journalctl -p warning -u repwatchd` filters on the prefix. Otherwise lines go to
// stderr with a timestamp and, on a terminal, colours.
#pragma once

#include <spdlog/common.h>

#include <optional>
#include <string>
#include <string_view>

namespace repwatch::daemon {

enum class LogTarget { kAuto, kJournal, kTerminal };

// True when stderr should get sd-daemon priority prefixes (see above).
bool stderr_is_journal();

// Makes the default spdlog logger write to stderr as described above, at `level`.
void setup_logging(spdlog::level::level_enum level, LogTarget target = LogTarget::kAuto);

// "trace", "debug", "info", "warn"/"warning", "error", "critical", "off"; nullopt otherwise.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);

// The sd-daemon priority (0..7) of a spdlog level.
int syslog_priority(spdlog::level::level_enum level);

}  // namespace repwatch::daemon
