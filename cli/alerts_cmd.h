// repwatch/cli/alerts_cmd.h - `repwatch alerts ...`: the alert outbox from the command line.
//
//   repwatch alerts [--status pending|sent|failed|batched] [--since 7d] [--limit N]
//                   [--json | --csv]             list deliveries with their last error
//   repwatch alerts retry ID                     a failed delivery: pending again, sent now
//   repwatch alerts test --to ADDR               queue and send a test message now
//
// Wiring (cli/main.cpp):
//
//   CLI::App app{"repwatch"};
//   ...  // --config and the other global options
//   repwatch::cli::add_alerts_commands(app, [&]() -> const repwatch::Config& {
//     return the_loaded_config();  // loaded lazily, when the subcommand runs
//   });
//   CLI11_PARSE(app, argc, argv);   // subcommand callbacks run inside parse()
//
// The callbacks print to stdout, errors to stderr, and on failure throw
// CLI::RuntimeError(exit code) (which CLI11_PARSE / app.exit() turn into the exit status
// without printing anything more): 1 for a failed send or unknown id, 2 for bad usage.
// Listing opens the database read-only (works for managers in group repwatch while the daemon
// runs); retry and test open it read-write.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "config/config.h"

namespace repwatch::cli {

using ConfigProvider = std::function<const Config&()>;

void add_alerts_commands(CLI::App& app, ConfigProvider config);

}  // namespace repwatch::cli
