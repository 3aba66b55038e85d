// repwatch/daemon/service.h - repwatchd: load the config, poll every source on its schedule,
// store, alert; cooperate with systemd.
//
//   int main() {
//     SignalWatcher signals;           // first: blocks SIGTERM/SIGINT/SIGHUP for every thread
//     Options opt = ...;               // from the command line
//     return run_daemon(opt, signals); // or run_once(opt, signals) / check_config(opt.config_file)
//   }
//
// Lifecycle of run_daemon():
//   1. build_setup(): load and validate the config file, construct the sentiment analyzer, one
//      connector per enabled source (which validates its settings) and the alert rules,
//      collecting every mistake (config/config.h ConfigReport). Refuse a config file that
//      anyone but its owner can read and that holds inline secrets (daemon/secrets.h).
//      Mistakes: log them all, exit 78.
//   2. Open the database (db::open_store, creating the state directory if needed; while it is
//      created or migrated, EXTEND_TIMEOUT_USEC= every few seconds so that a long migration
//      after an upgrade outlasts TimeoutStartSec=) and register locations and sources. Log
//      what each connector's preflight() finds (a missing import directory). Then READY=1.
//   3. Loop: start the fetches of the due sources on the fetch pool (fetch_and_score, no
//      database), store each finished fetch on this thread (store_poll, one transaction), and
//      nudge the delivery thread (daemon/delivery.h), which sends alerts on a connection of
//      its own: polling, storing and signals never wait on a mail relay. Sleep in poll(2) on
//      the signal fd and the pool's fd until the next due source or the next watchdog ping.
//      STATUS= after every cycle; WATCHDOG=1 at half of WATCHDOG_USEC (from a helper thread
//      during a store, for up to 15 minutes: longer than that is a hang, and systemd restarts).
//   4. SIGHUP: RELOADING=1, build a new setup from the file; if it fails the error is logged
//      and the old setup stays in force; either way READY=1 again. Fetches started under the
//      old setup finish with it; their results are dropped (the cursor did not move) and the
//      source is polled again at once under the new setup. The delivery thread takes the new
//      alert settings from its next round.
//   5. SIGTERM/SIGINT: STOPPING=1; no new fetches; the transaction in flight is always
//      finished (signals are only read between stores); fetches already running get
//      `stop_grace` to finish and be stored; alerts due go out until `delivery_grace` after
//      the signal, when a transfer still running is aborted (it is sent at the next start);
//      exit 0. A relay that never answers delays the exit by delivery_grace at most.
//
// Exit codes (the unit's RestartPreventExitStatus= names the two a restart cannot fix):
//   0 success; 2 the database or another resource could not be opened (systemd restarts,
//   within the unit's StartLimitBurst=); 3 (--once only) at least one source failed (the
//   others were stored); 64 (EX_USAGE) a bad command line; 78 (EX_CONFIG) the config has
//   mistakes (systemctl shows "status=78/CONFIG").
#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/connector.h"
#include "daemon/delivery.h"
#include "daemon/signals.h"
#include "db/events.h"
#include "sentiment/analyzer.h"

namespace repwatch::daemon {

inline constexpr const char* kDefaultConfigFile = "/etc/repwatch/repwatch.toml";

enum ExitCode : int {
  kExitOk = 0,
  kExitRuntime = 2,
  kExitSourcesFailed = 3,
  kExitUsage = 64,   // sysexits.h EX_USAGE
  kExitConfig = 78,  // sysexits.h EX_CONFIG
};

struct Options {
  std::filesystem::path config_file = kDefaultConfigFile;
  // Overrides the config's log_level when set (--log-level).
  std::optional<spdlog::level::level_enum> log_level;
  // How long running fetches may take to finish after SIGTERM.
  std::chrono::milliseconds stop_grace = std::chrono::seconds(20);
  // How long alerts may keep going out after SIGTERM (a transfer then running is aborted).
  std::chrono::milliseconds delivery_grace = std::chrono::seconds(3);
};

// What the daemon does with alerts: the hook called inside each poll's transaction, and the
// sender that delivers the outbox. Built from the config by make_alerts().
struct AlertsRuntime {
  db::ReviewHook hook;  // queues alerts atomically with the review; never null
  // Queues source-health alerts atomically with each poll's record (alerts/health.h); may be
  // null.
  db::PollHook poll_hook;
  // Delivers what is due in the outbox (on the delivery thread's connection). Null: nothing
  // to deliver.
  DeliverFn deliver;
  // Alerts waiting in the outbox (for STATUS=); nullopt when unknown.
  std::function<std::optional<int>(const db::Database& db)> pending;
  // When the next delivery attempt is due (retries, digests); nullopt: none scheduled.
  NextAttemptFn next_attempt;
  // The store's `negative` column follows the alert thresholds.
  db::NegativeRule negative;
};

// Everything built from one config file. Immutable once built, shared (shared_ptr) with the
// fetches that run under it.
struct Setup {
  Config config;
  std::shared_ptr<const sentiment::Analyzer> analyzer;
  // One connector per enabled source, by source id.
  std::map<std::string, std::shared_ptr<connectors::Connector>> connectors;
  AlertsRuntime alerts;
  int fetch_threads = 4;  // [daemon] fetch_threads: fetches running at once (1..16)
};

// Builds and validates a Setup from a config file. Throws ConfigError listing every problem
// found, one per line (config, each connector's settings, taxonomy, alerts, file permissions).
std::shared_ptr<const Setup> build_setup(const std::filesystem::path& config_file);

// The sentiment analyzer the config's [sentiment] section asks for (builtin() by default).
sentiment::Analyzer make_analyzer(const Config& config);

// The alert hook and sender for a config (alerts::AlertService), validating its alert sections.
AlertsRuntime make_alerts(const Config& config, const sentiment::Analyzer& analyzer);

// --check-config: validates everything build_setup() does, and also what a poll would run
// into (Connector::preflight(): an import path that is missing or unreadable) and whether the
// database's directory can be written, as the user this process runs as (main() runs it as
// the daemon's user when started as root). Returns every problem, one per element, in file
// order; empty means the config is good.
std::vector<std::string> check_config(const std::filesystem::path& config_file);

struct RunResult {
  int exit_code = kExitOk;
  // A fetch was still hanging after the stop grace and its thread was abandoned: the caller
  // must leave with std::_Exit(exit_code) (no static destructors while it runs).
  bool abandoned_threads = false;
};

// --once: polls every enabled source once (fetches in parallel, stores serially), delivers
// pending alerts (until nothing is due: a relay that is down holds them for the next run).
// SIGTERM/SIGINT stop it early after the store in flight (exit code 3 then, as not every
// source was polled); during the final delivery they cut it short as in the service (what is
// still due after delivery_grace waits for the next run; exit code 0).
RunResult run_once(const Options& options, SignalWatcher& signals);

// The long-running service (see the lifecycle above).
RunResult run_daemon(const Options& options, SignalWatcher& signals);

}  // namespace repwatch::daemon
