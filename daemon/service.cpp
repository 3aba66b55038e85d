#include "daemon/service.h"

#include <malloc.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "alerts/rules.h"
#include "alerts/service.h"
#include "core/access.h"
#include "core/error.h"
#include "core/time.h"
#include "daemon/fetch_pool.h"
#include "daemon/logging.h"
#include "daemon/notify.h"
#include "daemon/scheduler.h"
#include "daemon/secrets.h"
#include "db/query_index.h"
#include "db/store.h"
#include "pipeline/pipeline.h"
#include "sentiment/from_config.h"

namespace repwatch::daemon {

using db::PollEvent;
using db::ReviewHook;
using db::StoredEvent;
using pipeline::fetch_and_score_streamed;
using pipeline::kPartSize;
using pipeline::PollOutcome;
using pipeline::store_poll;

namespace {

constexpr auto kMaxSleep = std::chrono::hours(1);

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

// "15m", "2h30m", "45s": a wait for people to read.
std::string human_duration(std::chrono::milliseconds d) {
  int64_t s = std::max<int64_t>(0, (d.count() + 500) / 1000);
  if (s < 60) return std::to_string(s) + "s";
  std::string out;
  if (s >= 86400) out += std::to_string(s / 86400) + "d", s %= 86400;
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
  if (s > 0 && out.size() < 4) out += std::to_string(s) + "s";
  return out;
}

// Local wall-clock time of day, "14:03:27".
std::string clock_time(int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

int64_t ms_until(Clock::time_point t, Clock::time_point now) {
  if (t <= now) return 0;
  // Round up so that we never wake a hair before the deadline and spin.
  return std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
}

// Calls `beat` from a helper thread every `every` for at most `cap`, until destroyed: keeps
// systemd informed while the main loop is inside a call that may legitimately block for long.
class Heartbeat {
 public:
  Heartbeat(std::chrono::microseconds every, std::chrono::minutes cap, std::function<void()> beat) {
    thread_ = std::thread([this, every, cap, beat = std::move(beat)] {
      std::unique_lock lock(mu_);
      auto until = Clock::now() + cap;
      while (Clock::now() < until) {
        if (cv_.wait_for(lock, every, [this] { return done_; })) return;
        beat();
      }
    });
  }
  ~Heartbeat() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// WATCHDOG=1 from a helper thread during a call that may block for long - storing a big
// import (whose commit alone can take seconds), folding it into the query index - for at most
// `cap`: a call stuck longer than that still trips the watchdog. Does nothing without a
// watchdog. (Alert delivery, which waits on relays, has a thread of its own.)
class WatchdogKeeper {
 public:
  WatchdogKeeper(const Notifier& notifier, std::chrono::minutes cap) {
    if (auto interval = notifier.watchdog_interval())
      beat_.emplace(*interval, cap, [&notifier] { notifier.ping(); });
  }

 private:
  std::optional<Heartbeat> beat_;
};

// While the database is migrated before READY=1 (an upgrade's migration can take minutes on a
// large database, longer than the unit's TimeoutStartSec=): EXTEND_TIMEOUT_USEC= at once and
// then every kExtendEvery, each asking for kExtendBy more, for at most kMigrationCap. Does
// nothing outside systemd.
constexpr auto kExtendEvery = std::chrono::seconds(5);
constexpr auto kExtendBy = std::chrono::seconds(30);
constexpr auto kMigrationCap = std::chrono::hours(4);

class StartTimeoutExtender {
 public:
  explicit StartTimeoutExtender(const Notifier& notifier) {
    if (!notifier.enabled()) return;
    notifier.extend_timeout(kExtendBy);
    beat_.emplace(kExtendEvery, std::chrono::duration_cast<std::chrono::minutes>(kMigrationCap),
                  [&notifier] { notifier.extend_timeout(kExtendBy); });
  }

 private:
  std::optional<Heartbeat> beat_;
};

constexpr auto kLongCallWatchdogCap = std::chrono::minutes(15);
// --once sends what is due before it exits, for this long at most.
constexpr auto kOnceDeliveryLimit = std::chrono::minutes(15);
// How often the end of --once's delivery is checked for while waiting for signals.
constexpr auto kFlushSignalCheck = std::chrono::milliseconds(200);

}  // namespace

// ---------------------------------------------------------------------------------------------
// Building a setup from a config file.

sentiment::Analyzer make_analyzer(const Config& config) {
  config.section("sentiment").reject_unknown({"lexicon", "taxonomy"});
  return sentiment::analyzer_for(config);
}

AlertsRuntime make_alerts(const Config& config, const sentiment::Analyzer& analyzer) {
  // Validates [alerts], [smtp], [webhook], [digest] and the locations' alert routing.
  auto service = std::make_shared<alerts::AlertService>(
      alerts::load_alerts_config(config, analyzer.touchpoints()));
  AlertsRuntime rt;
  rt.negative = alerts::negative_rule(service->config());
  // Each function holds the service, so it lives as long as the setup that holds them.
  rt.hook = [service, hook = service->hook()](const StoredEvent& e) { return hook(e); };
  rt.poll_hook = [service, hook = service->poll_hook()](const PollEvent& e) { return hook(e); };
  rt.deliver = [service](const db::Database& db, int64_t now, const alerts::Round& round) {
    return service->deliver(db, now, round);
  };
  rt.pending = [service](const db::Database& db) { return service->pending(db); };
  rt.next_attempt = [service](const db::Database& db, int64_t now) {
    return service->next_attempt(db, now);
  };
  return rt;
}

namespace {

// build_setup() with every mistake recorded in `report` rather than thrown: the config, the
// file's permissions, [daemon], the analyzer, each enabled source's connector and the alerts
// are all checked whatever failed before them. Throws ConfigError only for a file that cannot
// be read or is not TOML. `preflight` also asks each connector what a poll would run into.
std::shared_ptr<Setup> build_checked(const std::filesystem::path& config_file,
                                     const std::shared_ptr<ConfigReport>& report, bool preflight) {
  auto setup = std::make_shared<Setup>();
  setup->config = load_config(config_file, report);
  const Config& config = setup->config;
  auto collect = [&report](auto&& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      report->add_error(e.what());
    }
  };

  // First, so that each inline secret is reported once, with its fix, whichever module reads it.
  collect([&] { check_secret_permissions(config.file, report.get()); });

  collect([&] {
    Settings d = config.section("daemon");
    d.reject_unknown({"fetch_threads"});
    if (auto n = d.integer("fetch_threads")) {
      if (*n < 1 || *n > 16) d.fail("fetch_threads", "expected 1 to 16, got " + std::to_string(*n));
      setup->fetch_threads = static_cast<int>(*n);
    }
  });

  collect([&] {
    setup->analyzer = std::make_shared<const sentiment::Analyzer>(make_analyzer(config));
  });

  for (const auto& source : config.sources) {
    if (!source.enabled) continue;
    collect([&] {
      auto connector = connectors::make_connector(source, config);
      if (preflight) {
        for (const auto& problem : connector->preflight()) report->add_error(problem);
      }
      setup->connectors[source.id] = std::move(connector);
    });
  }

  // The alert sections are checked against the taxonomy's touchpoints; when the taxonomy did
  // not load (reported above), against none, so that the rest of them is still checked.
  if (setup->analyzer) {
    collect([&] { setup->alerts = make_alerts(config, *setup->analyzer); });
  } else {
    collect([&] { alerts::load_alerts_config(config, {}); });
  }
  if (!setup->alerts.hook) setup->alerts.hook = [](const StoredEvent&) { return 0; };
  return setup;
}

// Whether this process's user can create or write the database and its directory (the WAL
// and shared-memory files live next to it).
void check_database_access(const Config& config, ConfigReport& report) {
  if (config.database.empty()) return;  // no state_dir: reported already
  namespace fs = std::filesystem;
  const std::string key = config.root.has("database") ? "database" : "state_dir";
  const fs::path dir = config.database.parent_path();
  auto problem = [&](const std::string& msg) {
    report.add(key, config.root.describe(key, msg + "; repwatchd could not open its database"));
  };
  std::error_code ec;
  fs::path existing = dir;
  while (!existing.empty() && existing != existing.root_path() && !fs::exists(existing, ec))
    existing = existing.parent_path();
  if (existing != dir) {
    // systemd creates the unit's StateDirectory= itself, as the daemon's user.
    if (dir == "/var/lib/repwatch") return;
    if (::access(existing.c_str(), W_OK | X_OK) != 0)
      problem("\"" + dir.string() + "\" does not exist, and \"" + existing.string() +
              "\" does not let it be created: " + unreadable_reason(errno));
    return;
  }
  if (!fs::is_directory(dir, ec)) return problem("\"" + dir.string() + "\" is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return problem("cannot write in \"" + dir.string() + "\": " + unreadable_reason(errno));
  if (fs::exists(config.database, ec) && ::access(config.database.c_str(), R_OK | W_OK) != 0)
    problem("cannot write \"" + config.database.string() + "\": " + unreadable_reason(errno));
}

}  // namespace

std::shared_ptr<const Setup> build_setup(const std::filesystem::path& config_file) {
  auto report = std::make_shared<ConfigReport>(config_file);
  auto setup = build_checked(config_file, report, /*preflight=*/false);
  report->stop_collecting();  // the setup's Settings throw again, as its connectors expect
  if (!report->empty()) throw ConfigError(join_lines(report->lines()));
  return setup;
}

std::vector<std::string> check_config(const std::filesystem::path& config_file) {
  auto report = std::make_shared<ConfigReport>(config_file);
  try {
    auto setup = build_checked(config_file, report, /*preflight=*/true);
    check_database_access(setup->config, *report);
  } catch (const std::exception& e) {
    report->add_error(e.what());
  }
  return report->lines();
}

// ---------------------------------------------------------------------------------------------
// The service.

namespace {

class Service {
 public:
  Service(const Options& options, SignalWatcher& signals, bool once)
      : options_(options), signals_(signals), once_(once) {}

  RunResult run();

 private:
  int start();
  bool open_database(const Config& config);
  void register_sources();
  void configure_schedule();
  void apply_log_level();

  void submit(const std::string& source_id);
  void start_due();
  void collect();
  void store_one(FetchPool::Done& done);
  DeliveryJob delivery_job() const;
  // Ends the delivery thread before the exit, after it sent what is due (see run()).
  void finish_delivery();
  void release_memory();
  void refresh_query_index();
  void reload();
  void begin_stop(const char* why);
  int timeout_ms(Clock::time_point now) const;
  std::string status_line() const;
  void pet_watchdog();

  Options options_;
  SignalWatcher& signals_;
  const bool once_;
  Notifier notifier_;

  std::shared_ptr<const Setup> setup_;
  uint64_t generation_ = 1;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<db::ReviewStore> store_;
  Schedule schedule_;
  std::unique_ptr<FetchPool> pool_;
  // Sources with a job in the pool (any generation), with the connector it runs on.
  std::map<std::string, std::shared_ptr<connectors::Connector>> running_;
  std::set<std::string> remaining_;  // --once: sources not yet stored

  bool stopping_ = false;
  bool abandoned_ = false;
  Clock::time_point stop_deadline_{};    // abandon what still runs
  Clock::time_point stop_fetches_at_{};  // ask running fetches to give up
  bool fetches_told_to_stop_ = false;
  Clock::time_point delivery_deadline_{};  // set by begin_stop()
  int once_failed_ = 0;
  // Sends the outbox on its own thread and connection (daemon/delivery.h).
  std::unique_ptr<DeliveryThread> delivery_;

  // For STATUS=.
  std::optional<int64_t> last_cycle_at_;
  int cycle_polled_ = 0, cycle_inserted_ = 0, cycle_edited_ = 0, cycle_alerts_ = 0;
  int64_t total_polls_ = 0;
};

int Service::start() {
  try {
    setup_ = build_setup(options_.config_file);
  } catch (const Error& e) {
    spdlog::error("{}: the configuration is not valid:", options_.config_file.string());
    for (const auto& line : split_lines(e.what())) spdlog::error("  {}", line);
    return kExitConfig;
  }
  apply_log_level();
  for (const auto& [id, connector] : setup_->connectors) {
    for (const auto& problem : connector->preflight()) spdlog::warn("source {}: {}", id, problem);
  }
  if (!open_database(setup_->config)) return kExitRuntime;
  try {
    register_sources();
  } catch (const std::exception& e) {
    spdlog::error("cannot register sources in {}: {}", db_->path().string(), e.what());
    return kExitRuntime;
  }
  configure_schedule();
  pool_ = std::make_unique<FetchPool>(setup_->fetch_threads);
  return kExitOk;
}

void Service::apply_log_level() {
  auto level = options_.log_level
                   ? *options_.log_level
                   : parse_log_level(setup_->config.log_level).value_or(spdlog::level::info);
  spdlog::set_level(level);
}

bool Service::open_database(const Config& config) {
  try {
    std::error_code ec;
    std::filesystem::create_directories(config.database.parent_path(), ec);
    std::optional<StartTimeoutExtender> extender;
    {
      // Migrations to run (an upgrade): say so, and keep systemd's start timeout from
      // running out while they run. (Creating a database takes milliseconds.)
      const int target = static_cast<int>(db::schema_migrations().size());
      const int have = db::Database::open(config.database).user_version();
      if (have == 0) {
        spdlog::info("creating the database {}", config.database.string());
      } else if (have < target) {
        spdlog::info(
            "migrating the database {} from schema version {} to {}; this may take "
            "a while on a large database",
            config.database.string(), have, target);
        extender.emplace(notifier_);
      }
    }
    auto db = std::make_unique<db::Database>(db::open_store(config.database));
    extender.reset();
    auto store = std::make_unique<db::ReviewStore>(*db, setup_->alerts.negative);
    store_ = std::move(store);
    db_ = std::move(db);
  } catch (const std::exception& e) {
    spdlog::error("cannot open the database {}: {}", config.database.string(), e.what());
    return false;
  }
  spdlog::debug("database {} open", config.database.string());
  return true;
}

void Service::register_sources() {
  const Config& config = setup_->config;
  int64_t now = now_seconds();
  db::Transaction tx(*db_);
  for (const auto& loc : config.locations) store_->ensure_location(loc.id, loc.name);
  for (const auto& src : config.sources) store_->ensure_source(src.id, src.type, src.location, now);
  tx.commit();
}

void Service::configure_schedule() {
  std::map<std::string, Schedule::Recorded> recorded;
  if (!once_) {
    for (const auto& st : store_->all_poll_states()) {
      recorded[st.source_id] = {st.next_poll_at, st.consecutive_failures, st.last_error_kind};
    }
  }
  schedule_.configure(setup_->config.sources, recorded, Clock::now(), now_seconds());
}

void Service::submit(const std::string& source_id) {
  // A fetch of this source started under an older config is still running: this one starts
  // when that one comes back (collect() marks the source due again).
  if (running_.count(source_id)) return;
  auto conn = setup_->connectors.find(source_id);
  if (conn == setup_->connectors.end()) return;  // not enabled
  std::string cursor = store_->poll_state(source_id).cursor;
  std::shared_ptr<const Setup> setup = setup_;
  std::shared_ptr<connectors::Connector> connector = conn->second;
  // In parts (a first sync of a large export is never held whole): the first part comes back
  // through the pool, the rest through its Fetched::more while store_one() stores them.
  FetchPool::Job job;
  job.source_id = source_id;
  job.generation = generation_;
  pool_->submit(std::move(job), [setup, connector, source_id,
                                 cursor](const FetchPool::HandOver& hand_over) {
    const SourceConfig& source = *setup->config.find_source(source_id);
    fetch_and_score_streamed(*connector, source, cursor, *setup->analyzer, kPartSize, hand_over);
  });
  running_.emplace(source_id, connector);
  spdlog::debug("source {}: fetching", source_id);
}

void Service::start_due() {
  for (const auto& id : schedule_.take_due(Clock::now())) submit(id);
}

void Service::collect() {
  {
    auto done = pool_->take_done();
    if (done.empty()) return;
    cycle_polled_ = cycle_inserted_ = cycle_edited_ = cycle_alerts_ = 0;
    for (auto& d : done) store_one(d);
  }  // the fetched reviews are freed here, before release_memory()
  last_cycle_at_ = now_seconds();
  // Always, not only when this cycle queued alerts: a cycle is also when deliveries that
  // another process reset (`repwatch alerts retry`) are noticed.
  if (delivery_) delivery_->nudge();
  refresh_query_index();
  notifier_.status(status_line());
  release_memory();
}

void Service::refresh_query_index() {
  // Fold what the polls stored into the CLI's daily aggregates and search index
  // (db/query_index.h): in batches, each its own transaction, after the poll committed and the
  // alerts went out, so neither waits for it. The CLI is exact without it, only slower.
  try {
    WatchdogKeeper keeper(notifier_, kLongCallWatchdogCap);
    int64_t pending = 1;
    while (pending > 0) pending = db::refresh_query_index(*db_, now_seconds());
  } catch (const std::exception& e) {
    spdlog::error("query index: {}", e.what());
  }
}

void Service::release_memory() {
  // A big import leaves the connection's page cache full (the store sizes it for ingest
  // speed) and megabytes of freed memory in the workers' malloc arenas; an idle daemon gives
  // them back rather than sitting on them until the next poll.
  sqlite3_db_release_memory(db_->handle());
  malloc_trim(0);
}

void Service::store_one(FetchPool::Done& done) {
  const std::string id = done.source_id;
  running_.erase(id);
  const SourceConfig* source = setup_->config.find_source(id);
  if (done.generation != generation_ || source == nullptr || !source->enabled) {
    spdlog::info("source {}: dropping a fetch started under the previous configuration", id);
    schedule_.abandoned(id, Clock::now());
    return;
  }
  remaining_.erase(id);

  const bool fetch_ok = !done.fetched.error.has_value();
  SourceError::Kind kind = SourceError::Kind::kTransient;
  int retry_after = 0;
  if (!fetch_ok) {
    kind = done.fetched.error->kind();
    retry_after = done.fetched.error->retry_after_seconds();
  }
  auto now = Clock::now();
  int64_t wall = now_seconds();
  Clock::time_point next =
      fetch_ok ? schedule_.succeeded(id, now) : schedule_.failed(id, now, kind, retry_after);

  const ReviewHook& inner = setup_->alerts.hook;
  ReviewHook hook = [&](const StoredEvent& ev) {
    if (ev.db) return inner(ev);
    StoredEvent with_db = ev;  // hooks need the connection of the poll's transaction
    with_db.db = &store_->database();
    return inner(with_db);
  };

  PollOutcome out;
  try {
    WatchdogKeeper keeper(notifier_, kLongCallWatchdogCap);  // a first import can take a while
    out = store_poll(*store_, *source, std::move(done.fetched), hook, wall,
                     Schedule::wall_time(next, now, wall), setup_->alerts.poll_hook);
  } catch (const std::exception& e) {
    out.source_id = id;
    out.ok = false;
    out.error = std::string("storing the poll failed, nothing was stored: ") + e.what();
    spdlog::error("source {}: {}", id, out.error);
  }
  // The fetch worked but the transaction did not (and rolled back): back off like a failure.
  if (fetch_ok && !out.ok) next = schedule_.failed(id, now, SourceError::Kind::kTransient, 0);
  ++total_polls_;
  ++cycle_polled_;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
  // store_poll() logs the outcome, the failure and each problem; add what only we know.
  if (out.ok) {
    cycle_inserted_ += out.inserted;
    cycle_edited_ += out.edited;
    cycle_alerts_ += out.alerts_queued;
    spdlog::debug("source {}: fetch took {} ms{}", id, done.took.count(),
                  once_ ? "" : "; next poll in " + human_duration(wait));
  } else {
    if (once_) ++once_failed_;
    if (!once_) {
      spdlog::info("source {}: retry in {} ({} failures in a row)", id, human_duration(wait),
                   schedule_.failures(id));
    }
  }
}

void Service::finish_delivery() {
  if (!delivery_) return;
  // What is due goes out before the exit. After SIGTERM, until delivery_grace after it: a relay
  // that does not answer delays the exit by that much at most.
  if (!stopping_) {
    // --once: for kOnceDeliveryLimit at most (a relay that is down is tried once, and holds
    // the backlog for the next run), still answering SIGTERM/SIGINT (then as above) and
    // keeping the watchdog fed.
    const auto limit = Clock::now() + kOnceDeliveryLimit;
    delivery_->finish_by(limit);
    for (;;) {
      auto check = std::min(limit, Clock::now() + kFlushSignalCheck);
      if (auto ping = notifier_.watchdog_deadline()) check = std::min(check, *ping);
      if (delivery_->wait_until(check) || Clock::now() >= limit) break;
      pollfd fd{signals_.fd(), POLLIN, 0};
      if (::poll(&fd, 1, 0) > 0) {
        for (int sig : signals_.read()) {
          // SIGHUP: the config no longer matters, the run is ending.
          if (sig != SIGHUP)
            begin_stop(sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal");
        }
      }
      if (stopping_) break;
      pet_watchdog();
    }
  }
  delivery_->finish(stopping_ ? delivery_deadline_ : Clock::now());
  delivery_.reset();
}

DeliveryJob Service::delivery_job() const {
  return {setup_->alerts.deliver, setup_->alerts.next_attempt, setup_->config.database};
}

void Service::reload() {
  if (once_) {
    spdlog::info("SIGHUP ignored in --once mode");
    return;
  }
  notifier_.reloading();
  spdlog::info("reloading the configuration from {}", options_.config_file.string());
  std::shared_ptr<const Setup> next;
  try {
    next = build_setup(options_.config_file);
  } catch (const Error& e) {
    spdlog::error("reload rejected, the running configuration stays in force; {} is not valid:",
                  options_.config_file.string());
    for (const auto& line : split_lines(e.what())) spdlog::error("  {}", line);
    notifier_.ready(status_line());
    return;
  }
  auto old = setup_;
  setup_ = next;
  if (next->config.database != old->config.database ||
      next->alerts.negative.max_rating != old->alerts.negative.max_rating ||
      next->alerts.negative.max_sentiment != old->alerts.negative.max_sentiment) {
    // Keep the old database open (and the old setup) if the new one cannot be opened.
    auto old_db = std::move(db_);
    auto old_store = std::move(store_);
    if (!open_database(next->config)) {
      spdlog::error("reload rejected, the running configuration stays in force");
      setup_ = old;
      db_ = std::move(old_db);
      store_ = std::move(old_store);
      notifier_.ready(status_line());
      return;
    }
    old_store.reset();
    old_db.reset();
  }
  ++generation_;
  apply_log_level();
  try {
    register_sources();
  } catch (const std::exception& e) {
    spdlog::error("cannot register sources: {}", e.what());
  }
  configure_schedule();
  if (delivery_) delivery_->reconfigure(delivery_job());
  if (next->fetch_threads != old->fetch_threads) {
    spdlog::warn("daemon.fetch_threads changes take effect at the next restart");
  }
  spdlog::info("configuration reloaded: {} sources ({} enabled)", next->config.sources.size(),
               next->connectors.size());
  notifier_.ready(status_line());
}

void Service::begin_stop(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  for (const auto& id : pool_->cancel_queued()) running_.erase(id);
  int running = pool_->outstanding();
  notifier_.stopping("Stopping (" + std::string(why) + "), " + std::to_string(running) +
                     " fetches to finish");
  stop_deadline_ = Clock::now() + options_.stop_grace;
  delivery_deadline_ = Clock::now() + options_.delivery_grace;
  // Let running fetches finish for a while (their work is stored); then ask them to stop.
  stop_fetches_at_ = Clock::now() + std::min<std::chrono::milliseconds>(options_.stop_grace / 2,
                                                                        std::chrono::seconds(5));
  if (running > 0) {
    spdlog::info("{}: stopping; waiting up to {} for {} running fetches", why,
                 human_duration(options_.stop_grace), running);
  } else {
    spdlog::info("{}: stopping", why);
  }
}

void Service::pet_watchdog() {
  auto now = Clock::now();
  if (notifier_.watchdog_due(now)) notifier_.watchdog(now);
}

int Service::timeout_ms(Clock::time_point now) const {
  std::optional<Clock::time_point> wake;
  auto consider = [&wake](std::optional<Clock::time_point> t) {
    if (t && (!wake || *t < *wake)) wake = t;
  };
  if (stopping_) {
    consider(stop_deadline_);
    if (!fetches_told_to_stop_) consider(stop_fetches_at_);
  } else if (!once_) {
    consider(schedule_.next_due());
  }
  consider(notifier_.watchdog_deadline());
  consider(now + kMaxSleep);
  return static_cast<int>(ms_until(*wake, now));
}

std::string Service::status_line() const {
  std::string s;
  int enabled = static_cast<int>(setup_->connectors.size());
  int failing = 0;
  for (const auto& [id, _] : setup_->connectors) {
    if (schedule_.failures(id) > 0) ++failing;
  }
  s = std::to_string(enabled) + (enabled == 1 ? " source" : " sources");
  if (failing > 0) s += " (" + std::to_string(failing) + " failing)";
  if (last_cycle_at_) {
    s += "; last cycle " + clock_time(*last_cycle_at_) + ": " + std::to_string(cycle_polled_) +
         " polled, " + std::to_string(cycle_inserted_) + " new, " + std::to_string(cycle_edited_) +
         " edited";
  } else {
    s += "; waiting for the first poll";
  }
  s += "; " + std::to_string(total_polls_) + " polls since start";
  if (setup_->alerts.pending && db_) {
    try {
      if (auto p = setup_->alerts.pending(*db_)) s += "; " + std::to_string(*p) + " alerts pending";
    } catch (const std::exception&) {
      // The status line is best effort.
    }
  }
  return s;
}

RunResult Service::run() {
  RunResult result;
  if (int rc = start(); rc != kExitOk) {
    result.exit_code = rc;
    return result;
  }
  spdlog::info("repwatchd {}: {} sources ({} enabled), database {}", once_ ? "--once" : "started",
               setup_->config.sources.size(), setup_->connectors.size(), db_->path().string());
  notifier_.ready(status_line());
  notifier_.watchdog();
  // Its first round sends what was pending at start.
  if (setup_->alerts.deliver) delivery_ = std::make_unique<DeliveryThread>(delivery_job());

  if (once_) {
    for (const auto& [id, _] : setup_->connectors) remaining_.insert(id);
    for (const auto& id : schedule_.take_due(Clock::now() + std::chrono::hours(24 * 365))) {
      submit(id);
    }
  }

  for (;;) {
    auto now = Clock::now();
    if (!stopping_ && !once_) start_due();
    if (once_ && !stopping_ && remaining_.empty()) break;
    if (stopping_ && pool_->outstanding() == 0) break;
    if (stopping_ && !fetches_told_to_stop_ && now >= stop_fetches_at_) {
      fetches_told_to_stop_ = true;
      for (auto& [id, connector] : running_) {
        spdlog::info("source {}: asking the running fetch to stop", id);
        connector->stop();
      }
    }
    if (stopping_ && now >= stop_deadline_) {
      spdlog::warn(
          "{} fetches did not finish within {}; abandoning them (nothing of theirs "
          "was stored, their cursors did not move)",
          pool_->outstanding(), human_duration(options_.stop_grace));
      pool_->abandon();
      abandoned_ = true;
      break;
    }

    pollfd fds[2] = {{signals_.fd(), POLLIN, 0}, {pool_->fd(), POLLIN, 0}};
    int n = ::poll(fds, 2, timeout_ms(now));
    if (n < 0 && errno != EINTR) {
      spdlog::critical("poll: {}", std::strerror(errno));
      result.exit_code = kExitRuntime;
      begin_stop("internal error");
    }
    if (n > 0 && (fds[0].revents & POLLIN)) {
      for (int sig : signals_.read()) {
        if (sig == SIGHUP) {
          reload();
        } else {
          begin_stop(sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal");
        }
      }
    }
    if (n > 0 && (fds[1].revents & POLLIN)) collect();
    pet_watchdog();
  }

  finish_delivery();
  if (once_ && result.exit_code == kExitOk) {
    int unpolled = static_cast<int>(remaining_.size());
    if (once_failed_ > 0 || unpolled > 0) {
      spdlog::warn("--once: {} sources failed, {} not polled", once_failed_, unpolled);
      result.exit_code = kExitSourcesFailed;
    }
  }
  std::string bye = "Stopped after " + std::to_string(total_polls_) + " polls";
  if (stopping_) {
    notifier_.status(bye);
  } else {
    notifier_.stopping(bye);
  }
  spdlog::info("repwatchd stopped after {} polls", total_polls_);
  result.abandoned_threads = abandoned_;
  return result;
}

}  // namespace

RunResult run_once(const Options& options, SignalWatcher& signals) {
  Service service(options, signals, /*once=*/true);
  return service.run();
}

RunResult run_daemon(const Options& options, SignalWatcher& signals) {
  Service service(options, signals, /*once=*/false);
  return service.run();
}

}  // namespace repwatch::daemon
