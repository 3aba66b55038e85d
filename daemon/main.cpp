// repwatchd - the repwatch daemon. See daemon/service.h for what it does; this file only reads
// the command line.
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "daemon/logging.h"
#include "daemon/service.h"
#include "daemon/signals.h"
#include "net/http.h"

#ifndef REPWATCH_VERSION
#define REPWATCH_VERSION "unknown"
#endif

using namespace repwatch::daemon;

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked signals.
  SignalWatcher signals;
  // Fixed malloc thresholds: glibc's dynamic ones rise after a big import frees large blocks
  // (up to 64 MB kept per arena); a long-running daemon should return memory to the system.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, 4 << 20);

  CLI::App app{"repwatchd - polls review sources, scores and stores reviews, sends alerts"};
  app.footer(
      "Exit codes: 0 ok, 1 bad config or arguments, 2 database or other runtime failure,\n"
      "3 (--once) some source failed. Signals: SIGHUP reloads the config, SIGTERM stops.");
  Options options;
  std::string config_file = kDefaultConfigFile;
  std::string log_level;
  bool once = false, check = false, version = false;
  app.add_option("-c,--config", config_file, "Config file")->capture_default_str();
  app.add_flag("--once", once, "Poll every enabled source once, deliver alerts, exit");
  app.add_flag("--check-config", check, "Validate the config (and each source's settings), exit");
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error (overrides log_level in the config)");
  app.add_flag("--version", version, "Print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitConfig;
  }
  if (version) {
    std::printf("repwatchd %s\n", REPWATCH_VERSION);
    return kExitOk;
  }
  if (once && check) {
    std::fprintf(stderr, "repwatchd: --once and --check-config cannot be combined\n");
    return kExitConfig;
  }
  options.config_file = config_file;
  if (!log_level.empty()) {
    options.log_level = parse_log_level(log_level);
    if (!options.log_level) {
      std::fprintf(stderr,
                   "repwatchd: --log-level: expected trace, debug, info, warn or error, "
                   "got \"%s\"\n",
                   log_level.c_str());
      return kExitConfig;
    }
  }
  setup_logging(options.log_level.value_or(spdlog::level::info));

  if (check) {
    auto problems = check_config(options.config_file);
    if (problems.empty()) {
      std::printf("OK: %s\n", options.config_file.c_str());
      return kExitOk;
    }
    std::fprintf(stderr, "%s: the configuration is not valid:\n", options.config_file.c_str());
    for (const auto& p : problems) std::fprintf(stderr, "  %s\n", p.c_str());
    return kExitConfig;
  }

  repwatch::net::global_init();  // libcurl, before the fetch threads start
  RunResult result = once ? run_once(options, signals) : run_daemon(options, signals);
  spdlog::default_logger()->flush();
  if (result.abandoned_threads) std::_Exit(result.exit_code);
  return result.exit_code;
}
