// repwatch/cli/alerts_cmd.h - `repwatch alerts ...`: the alert outbox from the command line.
//
//   repwatch alerts [--status pending|sent|failed|batched] [--since 7d|2026-01-01]
//                   [--limit N] [--json | --csv]   deliveries, newest first, with last error
//   repwatch alerts retry ID                       a failed (or waiting) delivery: sent now
//   repwatch alerts retry --all-failed             every failed delivery: queued again and sent
//                                                  now, as repwatchd would (a relay that is
//                                                  still down: they wait, repwatchd retries)
//   repwatch alerts test --to ADDR                 queue and send a test message now
//
// Wiring (cli/app.cpp), in the style of the other commands - parse, then dispatch:
//
//   AlertsCommand alerts_cmd(app);                  // before app.parse()
//   ...
//   if (alerts_cmd.selected())                      // after parse, before opening the db
//     return alerts_cmd.run({config_ptr, db_file, out, err, env.now, format, style});
//
// Listing opens the database read-only (works for managers in group repwatch while the daemon
// runs). retry and test open it read-write (run them as the repwatch user; anyone else is told
// so, cli/access.h) and need the config (--config) for the [smtp] settings; they send
// synchronously and report the outcome. Exit codes: 0 ok, 1 the send failed / no such
// delivery / database error, 2 usage.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "cli/access.h"
#include "cli/output.h"
#include "config/config.h"

namespace repwatch::cli {

struct AlertsRun {
  const Config* config = nullptr;  // null when only --db was given
  std::string db_file;
  std::ostream& out;
  std::ostream& err;
  int64_t now = 0;
  Format format = Format::kTable;
  Style style;
  std::optional<WriteCommand> writer;  // retry/test: how to run it again as the database's owner
};

class AlertsCommand {
 public:
  // Adds `alerts` with its subcommands `retry` and `test` to `app`.
  explicit AlertsCommand(CLI::App& app);

  bool selected() const;
  // retry or test: writes the database.
  bool writes() const;
  // "alerts", "alerts retry" or "alerts test".
  std::string name() const;
  int run(const AlertsRun& run) const;

 private:
  CLI::App* cmd_ = nullptr;
  CLI::App* retry_ = nullptr;
  CLI::App* test_ = nullptr;
  std::string status_;
  std::string since_;
  int limit_ = 50;
  int64_t retry_id_ = 0;
  bool all_failed_ = false;
  std::string to_;
};

}  // namespace repwatch::cli
