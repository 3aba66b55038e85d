// repwatchd - the repwatch daemon. See daemon/service.h for what it does; this file only reads
// the command line.
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "core/access.h"
#include "daemon/logging.h"
#include "daemon/service.h"
#include "daemon/signals.h"
#include "net/http.h"

#ifndef REPWATCH_VERSION
#define REPWATCH_VERSION "unknown"
#endif

using namespace repwatch::daemon;

namespace {

// The daemon's user, as the packaged unit runs it (User=repwatch).
constexpr const char* kDaemonUser = "repwatch";

// --check-config run as root checks as the daemon's user (or --as-user): every file the config
// names must be readable by that user, as it will be when systemd starts repwatchd. Returns
// the user the check runs as, or nullopt with a message printed.
std::optional<std::string> become_checking_user(const std::string& as_user) {
  const bool root = ::geteuid() == 0;
  std::string user = as_user;
  if (user.empty()) {
    if (!root) return repwatch::user_name(::geteuid());
    user = kDaemonUser;
    if (!::getpwnam(user.c_str())) {
      std::fprintf(stderr,
                   "repwatchd: note: user %s does not exist yet (the package creates it); "
                   "checking as root, who can read more than the daemon will\n",
                   user.c_str());
      return std::string("root");
    }
  }
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw) {
    std::fprintf(stderr, "repwatchd: --as-user: no user \"%s\"\n", user.c_str());
    return std::nullopt;
  }
  if (pw->pw_uid == ::geteuid()) return user;
  if (!root) {
    std::fprintf(stderr, "repwatchd: --as-user %s: only root can check as another user\n",
                 user.c_str());
    return std::nullopt;
  }
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  if (::initgroups(user.c_str(), gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
    std::fprintf(stderr, "repwatchd: cannot become user %s: %s\n", user.c_str(),
                 std::strerror(errno));
    return std::nullopt;
  }
  return user;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked signals.
  SignalWatcher signals;
  // Fixed malloc thresholds: glibc's dynamic ones rise after a big import frees large blocks
  // (up to 64 MB kept per arena); a long-running daemon should return memory to the system.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, 4 << 20);

  CLI::App app{"repwatchd - polls review sources, scores and stores reviews, sends alerts"};
  app.footer(
      "Exit codes: 0 ok, 2 database or other runtime failure, 3 (--once) some source failed,\n"
      "64 bad arguments, 78 bad config. Signals: SIGHUP reloads the config, SIGTERM stops.");
  Options options;
  std::string config_file = kDefaultConfigFile;
  std::string log_level, as_user;
  bool once = false, check = false, version = false;
  app.add_option("-c,--config", config_file, "Config file")->capture_default_str();
  app.add_flag("--once", once, "Poll every enabled source once, deliver alerts, exit");
  app.add_flag("--check-config", check,
               "Validate the config, each source's settings and the files and directories it "
               "names, report every mistake, exit. Run as root, it checks as the daemon's user");
  app.add_option("--as-user", as_user,
                 "With --check-config: check as this user (default: repwatch when run as root)");
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error (overrides log_level in the config)");
  app.add_flag("--version", version, "Print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (version) {
    std::printf("repwatchd %s\n", REPWATCH_VERSION);
    return kExitOk;
  }
  if (once && check) {
    std::fprintf(stderr, "repwatchd: --once and --check-config cannot be combined\n");
    return kExitUsage;
  }
  if (!as_user.empty() && !check) {
    std::fprintf(stderr, "repwatchd: --as-user goes with --check-config\n");
    return kExitUsage;
  }
  options.config_file = config_file;
  if (!log_level.empty()) {
    options.log_level = parse_log_level(log_level);
    if (!options.log_level) {
      std::fprintf(stderr,
                   "repwatchd: --log-level: expected trace, debug, info, warn or error, "
                   "got \"%s\"\n",
                   log_level.c_str());
      return kExitUsage;
    }
  }
  setup_logging(options.log_level.value_or(spdlog::level::info));

  if (check) {
    auto user = become_checking_user(as_user);
    if (!user) return kExitUsage;
    auto problems = check_config(options.config_file);
    if (problems.empty()) {
      std::printf("OK: %s (checked as user %s)\n", options.config_file.c_str(), user->c_str());
      return kExitOk;
    }
    std::fprintf(stderr, "%s: the configuration is not valid (checked as user %s), %zu %s:\n",
                 options.config_file.c_str(), user->c_str(), problems.size(),
                 problems.size() == 1 ? "mistake" : "mistakes");
    for (const auto& p : problems) std::fprintf(stderr, "  %s\n", p.c_str());
    return kExitConfig;
  }

  repwatch::net::global_init();  // libcurl, before the fetch threads start
  RunResult result = once ? run_once(options, signals) : run_daemon(options, signals);
  spdlog::default_logger()->flush();
  if (result.abandoned_threads) std::_Exit(result.exit_code);
  return result.exit_code;
}
