// The real repwatchd binary under a fake systemd: a NOTIFY_SOCKET the test owns, signals sent
// by the test, a file source with sample data, and the SQLite file inspected afterwards.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "db/sqlite.h"
#include "db/store.h"
#include "pipeline/pipeline.h"
#include "tests/fixtures/daemon/daemon_harness.h"
#include "tests/fixtures/http/fixture_server.h"

namespace repwatch::testing {
namespace {

constexpr int kFixtureReviews = 6;  // rows in tests/fixtures/daemon/reviews.csv

// A first import big enough to take seconds to store, and the time allowed for it. Sanitizer
// builds run several times slower: fewer rows, more time.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kBigRows = 5000;
constexpr auto kBigTimeout = 300s;
#else
constexpr int kBigRows = 30000;
constexpr auto kBigTimeout = 60s;
#endif

// A config with one file source per entry of `sources` (id -> directory).
std::string config_text(const fs::path& state, const std::map<std::string, fs::path>& sources,
                        const std::string& extra = "") {
  std::string t = "state_dir = \"" + state.string() + "\"\n";
  t += "[[locations]]\nid = \"main\"\nname = \"Main Street Clinic\"\n";
  for (const auto& [id, dir] : sources) {
    t += "[[sources]]\nid = \"" + id + "\"\ntype = \"file\"\nlocation = \"main\"\n";
    t += "interval = \"1h\"\npath = \"" + dir.string() + "\"\n";
  }
  return t + extra;
}

// A file source whose settings the connector rejects when it is constructed.
std::string bad_source(const fs::path& dir) {
  return "[[sources]]\nid = \"clinic-c\"\ntype = \"file\"\nlocation = \"main\"\npath = \"" +
         dir.string() + "\"\nscale = \"1-6-11\"\n";
}

std::string big_csv(int rows) {
  static const char* words[] = {"great",     "friendly", "rude",  "waited",    "hours",   "billing",
                                "nightmare", "doctor",   "nurse", "clean",     "parking", "phone",
                                "never",     "called",   "back",  "insurance", "kind",    "late"};
  std::mt19937 rng(7);
  std::string out = "external_id,author,rating,text,created_at\n";
  for (int i = 0; i < rows; ++i) {
    out += "big-" + std::to_string(i) + ",Person " + std::to_string(i) + "," +
           std::to_string(1 + static_cast<int>(rng() % 5)) + ",\"";
    for (int w = 0; w < 20; ++w) out += std::string(w ? " " : "") + words[rng() % 18];
    out += "\",2025-02-" + std::string(i % 28 < 9 ? "0" : "") + std::to_string(1 + i % 28) +
           "T10:00:00Z\n";
  }
  return out;
}

// A listening socket that never accepts: connections complete, no greeting ever comes (a
// relay that accepts connections and never answers).
class HungRelay {
 public:
  HungRelay() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1");
    port_ = ntohs(addr.sin_port);
  }
  ~HungRelay() { ::close(fd_); }
  HungRelay(const HungRelay&) = delete;
  HungRelay& operator=(const HungRelay&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class DaemonServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(repwatchd_binary())) << repwatchd_binary();
    state = dir.path / "state";
    source_a = dir.path / "import-a";
    fs::create_directories(source_a);
    fs::copy_file(daemon_fixtures() / "reviews.csv", source_a / "reviews.csv");
    config = dir.path / "repwatch.toml";
    write_file(config, config_text(state, {{"clinic-a", source_a}}), 0640);
  }

  std::map<std::string, std::string> systemd_env(const std::string& watchdog_usec = "") {
    std::map<std::string, std::string> env{{"NOTIFY_SOCKET", notify.path().string()}};
    if (!watchdog_usec.empty()) env["WATCHDOG_USEC"] = watchdog_usec;
    return env;
  }

  long long reviews() {
    return DbProbe(state / "repwatch.db").integer("SELECT count(*) FROM reviews");
  }

  TempDir dir;
  NotifySocket notify{dir.path / "notify.sock"};
  fs::path state, source_a, config;
};

// READY=1 once the config is loaded and the database open, STATUS= after the first cycle,
// WATCHDOG=1 from the idle main loop, STOPPING=1 on SIGTERM - in that order - and exit 0.
TEST_F(DaemonServiceTest, NotifiesReadyStatusWatchdogStoppingInOrder) {
  DaemonProcess d({"--config", config.string()}, systemd_env("300000"), dir.path / "log");

  auto ready = notify.wait_for("READY=1", 10s);
  ASSERT_TRUE(ready) << d.log();
  EXPECT_TRUE(fs::exists(state / "repwatch.db")) << "READY=1 before the database was opened";
  EXPECT_TRUE(NotifySocket::has_line(*ready, "STATUS=")) << *ready;

  auto polled = notify.wait_for("STATUS=1 source; last cycle", 10s);
  ASSERT_TRUE(polled) << d.log();
  EXPECT_NE(polled->find("1 polled, 6 new, 0 edited"), std::string::npos) << *polled;
  EXPECT_EQ(reviews(), kFixtureReviews);

  // Idle: WATCHDOG_USEC = 300 ms -> a ping every 150 ms, without polling anything.
  int pings = 0;
  auto until = std::chrono::steady_clock::now() + 1200ms;
  while (std::chrono::steady_clock::now() < until) {
    auto m = notify.receive(200ms);
    if (m && NotifySocket::has_line(*m, "WATCHDOG=1")) ++pings;
  }
  EXPECT_GE(pings, 4) << "expected a WATCHDOG=1 about every 150 ms";

  d.signal(SIGTERM);
  auto stopping = notify.wait_for("STOPPING=1", 10s);
  ASSERT_TRUE(stopping) << d.log();
  auto code = d.wait(15s);
  ASSERT_TRUE(code) << "repwatchd did not exit after SIGTERM\n" << d.log();
  EXPECT_EQ(*code, 0) << d.log();

  // The order over the whole conversation.
  const auto& log = notify.log();
  auto index_of = [&](const std::string& prefix, size_t from = 0) {
    for (size_t i = from; i < log.size(); ++i) {
      if (NotifySocket::has_line(log[i], prefix)) return static_cast<long>(i);
    }
    return -1L;
  };
  long i_ready = index_of("READY=1");
  long i_status = index_of("STATUS=1 source; last cycle");
  long i_watchdog = index_of("WATCHDOG=1", static_cast<size_t>(i_status));
  long i_stopping = index_of("STOPPING=1");
  EXPECT_EQ(i_ready, 0) << "READY=1 must be the first message";
  EXPECT_LT(i_ready, i_status);
  EXPECT_LT(i_status, i_watchdog);
  EXPECT_LT(i_watchdog, i_stopping);
  EXPECT_EQ(index_of("READY=1", static_cast<size_t>(i_ready) + 1), -1) << "READY=1 twice";
}

// After an upgrade the database is migrated before READY=1, which on a large database can take
// longer than the unit's TimeoutStartSec=: repwatchd sends EXTEND_TIMEOUT_USEC= at once and
// every few seconds while it migrates. Here the migration waits for a write lock the test holds.
TEST_F(DaemonServiceTest, ExtendsTheStartTimeoutWhileMigrating) {
  const auto& all = db::schema_migrations();
  ASSERT_GE(all.size(), 2u);
  fs::create_directories(state);
  {
    auto old = db::Database::open(state / "repwatch.db");
    old.migrate(std::vector<db::Migration>(all.begin(), all.end() - 1));  // the release before
  }
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open((state / "repwatch.db").c_str(), &lock), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  DaemonProcess d({"--config", config.string()}, systemd_env(), dir.path / "log");
  auto first = notify.wait_for("EXTEND_TIMEOUT_USEC=", 20s);
  ASSERT_TRUE(first) << d.log();
  // Held for longer than the interval between extensions (5 s), well within SQLite's busy
  // timeout (10 s) that the migration waits in.
  auto second = notify.wait_for("EXTEND_TIMEOUT_USEC=", 7s);
  sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(lock);
  ASSERT_TRUE(second) << "one extension only\n" << d.log();
  auto ready = notify.wait_for("READY=1", 20s);
  ASSERT_TRUE(ready) << d.log();
  for (const auto& m : notify.log()) {
    if (!NotifySocket::has_line(m, "EXTEND_TIMEOUT_USEC=")) continue;
    long long usec = std::stoll(m.substr(m.find('=') + 1));
    EXPECT_GE(usec, 15'000'000) << "each extension must outlast the interval between them: " << m;
  }
  EXPECT_NE(d.log().find("migrating the database"), std::string::npos) << d.log();
  EXPECT_EQ(DbProbe(state / "repwatch.db").integer("PRAGMA user_version"),
            static_cast<long long>(all.size()));
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(15s), 0) << d.log();
}

// SIGHUP with a good config: RELOADING=1, READY=1, and the new source is polled. SIGHUP with a
// broken config (bad TOML; then a connector that rejects its settings): RELOADING=1, READY=1,
// a clear log line, and the old config stays in force.
TEST_F(DaemonServiceTest, SighupReloadsGoodConfigAndRejectsBrokenOne) {
  DaemonProcess d({"--config", config.string()}, systemd_env(), dir.path / "log");
  ASSERT_TRUE(notify.wait_for("STATUS=1 source; last cycle", 10s)) << d.log();
  ASSERT_EQ(reviews(), kFixtureReviews);

  // A good new config: a second source.
  fs::path source_b = dir.path / "import-b";
  write_file(source_b / "more.csv",
             "external_id,author,rating,text,created_at\n"
             "b-1,Sam,2,\"The receptionist was rude on the phone.\",2025-04-01T10:00:00Z\n"
             "b-2,Ida,5,\"Lovely nurses.\",2025-04-02T10:00:00Z\n");
  write_file(config, config_text(state, {{"clinic-a", source_a}, {"clinic-b", source_b}}), 0640);
  d.signal(SIGHUP);
  ASSERT_TRUE(notify.wait_for("RELOADING=1", 10s)) << d.log();
  auto ready = notify.wait_for("READY=1", 10s);
  ASSERT_TRUE(ready) << d.log();
  EXPECT_NE(ready->find("STATUS=2 sources"), std::string::npos) << *ready;
  EXPECT_TRUE(eventually([&] { return reviews() == kFixtureReviews + 2; }, 10s))
      << "the source added by the reload was not polled\n"
      << d.log();

  // Broken TOML.
  write_file(config, config_text(state, {{"clinic-a", source_a}}) + "interval = [\n", 0640);
  d.signal(SIGHUP);
  ASSERT_TRUE(notify.wait_for("RELOADING=1", 10s)) << d.log();
  ready = notify.wait_for("READY=1", 10s);
  ASSERT_TRUE(ready) << d.log();
  EXPECT_NE(ready->find("STATUS=2 sources"), std::string::npos)
      << "the old config (2 sources) must stay in force: " << *ready;

  // Valid TOML, but the file connector rejects its settings (a scale that is not one).
  write_file(config, config_text(state, {{"clinic-a", source_a}}, bad_source(source_b)), 0640);
  d.signal(SIGHUP);
  ASSERT_TRUE(notify.wait_for("RELOADING=1", 10s)) << d.log();
  ready = notify.wait_for("READY=1", 10s);
  ASSERT_TRUE(ready) << d.log();
  EXPECT_NE(ready->find("STATUS=2 sources"), std::string::npos) << *ready;

  ASSERT_TRUE(d.running()) << d.log();
  d.signal(SIGTERM);
  auto code = d.wait(15s);
  ASSERT_TRUE(code) << d.log();
  EXPECT_EQ(*code, 0) << d.log();

  std::string log = d.log();
  EXPECT_NE(log.find("configuration reloaded: 2 sources"), std::string::npos) << log;
  size_t rejected = 0;
  for (size_t at = 0; (at = log.find("reload rejected", at)) != std::string::npos; ++at) {
    ++rejected;
  }
  EXPECT_EQ(rejected, 2u) << log;
  EXPECT_NE(log.find("repwatch.toml:"), std::string::npos) << "errors must name the file\n" << log;
  EXPECT_EQ(reviews(), kFixtureReviews + 2);
}

// SIGTERM while a big first import is being fetched and stored: the poll in flight is
// finished (not torn), the database passes integrity_check, every review is there once, and a
// later --once adds nothing.
TEST_F(DaemonServiceTest, SigtermDuringPollLeavesConsistentDatabase) {
  constexpr int kRows = kBigRows;
  fs::path big = dir.path / "import-big";
  write_file(big / "big.csv", big_csv(kRows));
  write_file(config, config_text(state, {{"big", big}}), 0640);

  DaemonProcess d({"--config", config.string()}, systemd_env(), dir.path / "log");
  ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << d.log();
  std::this_thread::sleep_for(400ms);  // the import takes seconds: it is in flight now
  // Still in the middle of the poll: no cycle reported yet.
  while (auto m = notify.receive(0ms)) {
    ASSERT_FALSE(NotifySocket::has_line(*m, "STATUS=1 source; last cycle"))
        << "the import finished before SIGTERM; make it bigger";
  }
  d.signal(SIGTERM);
  auto code = d.wait(kBigTimeout);
  ASSERT_TRUE(code) << d.log();
  EXPECT_EQ(*code, 0) << d.log();
  EXPECT_TRUE(notify.wait_for("STOPPING=1", 1s) ||
              std::any_of(notify.log().begin(), notify.log().end(),
                          [](auto& m) { return NotifySocket::has_line(m, "STOPPING=1"); }));

  {
    DbProbe db(state / "repwatch.db");
    EXPECT_EQ(db.text("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(db.integer("SELECT count(*) FROM reviews"), kRows) << d.log();
    EXPECT_EQ(
        db.integer("SELECT count(*) FROM (SELECT DISTINCT source_id, external_id FROM reviews)"),
        kRows);
    EXPECT_EQ(db.integer("SELECT count(*) FROM analyses"), kRows);
    EXPECT_EQ(db.integer("SELECT count(*) FROM poll_state WHERE source_id = 'big' AND "
                         "last_success_at IS NOT NULL"),
              1);
  }
  auto [rc, out] = run_repwatchd({"--config", config.string(), "--once"}, dir.path / "once.log", {},
                                 kBigTimeout);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(reviews(), kRows);
}

// The main loop stores on its own thread, so a long store would starve the watchdog: it pings
// from inside the store too. WATCHDOG_USEC = 400 ms -> a ping every 200 ms, never a long gap.
TEST_F(DaemonServiceTest, WatchdogKeepsPingingThroughALongStore) {
  constexpr int kRows = kBigRows;
  fs::path big = dir.path / "import-big";
  write_file(big / "big.csv", big_csv(kRows));
  write_file(config, config_text(state, {{"big", big}}), 0640);

  DaemonProcess d({"--config", config.string()}, systemd_env("400000"), dir.path / "log");
  ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << d.log();
  auto last = std::chrono::steady_clock::now();
  auto deadline = last + kBigTimeout;
  std::chrono::milliseconds worst{0};
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    auto m = notify.receive(5s);
    ASSERT_TRUE(m) << "no message for 5 s\n" << d.log();
    auto now = std::chrono::steady_clock::now();
    // The silence since the last ping, measured at every message (the STATUS that ends the
    // loop too, which may come before the ping that follows a long gap).
    worst = std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(now - last));
    if (NotifySocket::has_line(*m, "WATCHDOG=1")) last = now;
    done = NotifySocket::has_line(*m, "STATUS=1 source; last cycle");
  }
  ASSERT_TRUE(done) << d.log();
  EXPECT_EQ(reviews(), kRows);
  EXPECT_LT(worst, 1200ms) << "the watchdog went quiet during the store";
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(15s), 0) << d.log();
}

// A relay that accepts connections and never answers, with the SMTP timeout at 60 s: polling
// goes on (a review added meanwhile is stored at the next poll), the main loop keeps pinging
// the watchdog, the backlog waits after one attempt (nothing failed), and SIGTERM ends the
// daemon within a few seconds, the transfer in flight aborted. (Before delivery had a thread
// of its own, each queued message held the main loop for the whole timeout.)
TEST_F(DaemonServiceTest, AHungRelayStallsNeitherPollingNorSigterm) {
  HungRelay relay;
  const int port = relay.port();

  std::string text =
      config_text(state, {{"clinic-a", source_a}},
                  "[alerts]\nmarketing = [\"marketing@clinic.example\"]\n"
                  "alert_on_first_sync = true\n"
                  "[smtp]\nurl = \"smtp://127.0.0.1:" +
                      std::to_string(port) + "\"\nstarttls = \"off\"\ntimeout = \"60s\"\n");
  text.replace(text.find("interval = \"1h\""), 15, "interval = \"10s\"");
  write_file(config, text, 0640);
  DaemonProcess d({"--config", config.string()}, systemd_env("400000"), dir.path / "log");
  ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << d.log();
  // The first poll is stored and reported at once; its two alerts go to the hung relay.
  ASSERT_TRUE(notify.wait_for("STATUS=1 source; last cycle", 10s)) << d.log();

  // A new review appears; the next poll (10 s +- 10%) stores it while the relay hangs.
  write_file(source_a / "more.csv",
             "external_id,author,rating,text,created_at\n"
             "d-7,Ann L.,4,\"Kind nurses.\",2025-03-12T10:00:00Z\n");
  auto start = std::chrono::steady_clock::now();
  auto last_ping = start;
  std::chrono::milliseconds worst{0};
  while (reviews() < kFixtureReviews + 1 && std::chrono::steady_clock::now() < start + 30s) {
    auto m = notify.receive(2s);
    auto now = std::chrono::steady_clock::now();
    worst = std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(now - last_ping));
    if (m && NotifySocket::has_line(*m, "WATCHDOG=1")) last_ping = now;
  }
  EXPECT_EQ(reviews(), kFixtureReviews + 1) << "polling stalled behind SMTP\n" << d.log();
  EXPECT_LT(worst, 1200ms) << "the watchdog went quiet";

  auto sent = std::chrono::steady_clock::now();
  d.signal(SIGTERM);
  auto code = d.wait(30s);
  auto took = std::chrono::steady_clock::now() - sent;
  ASSERT_TRUE(code) << "repwatchd did not exit\n" << d.log();
  EXPECT_EQ(*code, 0) << d.log();
  EXPECT_LT(took, 8s) << "SIGTERM waited on SMTP\n" << d.log();
  std::string log = d.log();
  EXPECT_NE(log.find("interrupted"), std::string::npos) << log;

  DbProbe db(state / "repwatch.db");
  EXPECT_EQ(db.integer("SELECT count(*) FROM alert_deliveries WHERE status = 'pending'"), 2);
  EXPECT_EQ(db.integer("SELECT count(*) FROM alert_deliveries WHERE status != 'pending'"), 0);
  EXPECT_EQ(db.integer("SELECT count(*) FROM alert_deliveries WHERE lease_until IS NOT NULL"), 0)
      << "the aborted delivery must not stay leased";
}

// repwatchd --once sends what is due before it exits; a relay that hangs does not make it deaf
// to SIGTERM meanwhile: it exits within a few seconds (the SMTP timeout is 60 s), the transfer
// aborted and the deliveries left for the next run, none counted as an attempt or leased.
TEST_F(DaemonServiceTest, OnceAnswersSigtermWhileTheRelayHangs) {
  HungRelay relay;
  write_file(
      config,
      config_text(state, {{"clinic-a", source_a}},
                  "[alerts]\nmarketing = [\"marketing@clinic.example\"]\n"
                  "alert_on_first_sync = true\n"
                  "[smtp]\nurl = \"smtp://127.0.0.1:" +
                      std::to_string(relay.port()) + "\"\nstarttls = \"off\"\ntimeout = \"60s\"\n"),
      0640);
  DaemonProcess d({"--config", config.string(), "--once"}, systemd_env(), dir.path / "log");
  // Stored and reported; the delivery thread is now waiting on the relay.
  ASSERT_TRUE(notify.wait_for("STATUS=1 source; last cycle", 15s)) << d.log();
  std::this_thread::sleep_for(1s);
  ASSERT_FALSE(d.wait(0s)) << "--once exited without waiting for the relay\n" << d.log();

  auto sent = std::chrono::steady_clock::now();
  d.signal(SIGTERM);
  auto code = d.wait(30s);
  auto took = std::chrono::steady_clock::now() - sent;
  ASSERT_TRUE(code) << "repwatchd --once did not exit\n" << d.log();
  EXPECT_EQ(*code, 0) << "every source was polled\n" << d.log();
  EXPECT_LT(took, 8s) << "SIGTERM waited on SMTP\n" << d.log();
  EXPECT_TRUE(notify.wait_for("STOPPING=1", 1s)) << d.log();
  EXPECT_NE(d.log().find("interrupted"), std::string::npos) << d.log();

  DbProbe db(state / "repwatch.db");
  EXPECT_EQ(db.integer("SELECT count(*) FROM alert_deliveries WHERE status = 'pending'"), 2);
  EXPECT_EQ(db.integer("SELECT count(*) FROM alert_deliveries WHERE status != 'pending'"), 0);
  EXPECT_EQ(db.integer("SELECT sum(attempts) FROM alert_deliveries"), 0);
  EXPECT_EQ(db.integer("SELECT count(*) FROM alert_deliveries WHERE lease_until IS NOT NULL"), 0);
}

// SIGKILL in the middle of the store (no chance to finish): SQLite's transactions keep the
// database consistent - a large import is stored in parts (pipeline::kPartSize reviews each, each
// part one transaction), so all of a part or none of it - and the next run completes it.
TEST_F(DaemonServiceTest, SigkillDuringPollLosesNothingCommitted) {
  constexpr int kRows = kBigRows;
  fs::path big = dir.path / "import-big";
  write_file(big / "big.csv", big_csv(kRows));
  write_file(config, config_text(state, {{"big", big}}), 0640);

  DaemonProcess d({"--config", config.string()}, systemd_env(), dir.path / "log");
  ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << d.log();
  std::this_thread::sleep_for(700ms);
  d.signal(SIGKILL);
  ASSERT_TRUE(d.wait(10s));
  {
    DbProbe db(state / "repwatch.db");
    EXPECT_EQ(db.text("PRAGMA integrity_check"), "ok");
    long long n = db.integer("SELECT count(*) FROM reviews");
    EXPECT_TRUE(n % pipeline::kPartSize == 0 || n == kRows) << "a part was half stored: " << n;
    EXPECT_EQ(db.integer("SELECT count(*) FROM analyses"), n);
  }
  auto [rc, out] = run_repwatchd({"--config", config.string(), "--once"}, dir.path / "once.log", {},
                                 kBigTimeout);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(reviews(), kRows);
}

// At the default log level a poll that changed nothing logs nothing, and a failing source's
// error names the source once ("source x: config error: path ... does not exist", not
// "source x: ... source x: ..."), in the log and in the stored last error.
TEST_F(DaemonServiceTest, AnUnchangedPollLogsNothingAndNoMessageRepeatsItsPrefix) {
  std::string text = config_text(state, {{"clinic-a", source_a}}) +
                     "[[sources]]\nid = \"gone\"\ntype = \"file\"\nlocation = \"main\"\n"
                     "path = \"" +
                     (dir.path / "no-such-dir").string() + "\"\n";
  write_file(config, text, 0640);
  auto [rc1, out1] = run_repwatchd({"--config", config.string(), "--once"}, dir.path / "1.log");
  EXPECT_EQ(rc1, 3) << out1;  // the "gone" source failed
  EXPECT_NE(out1.find("source clinic-a: 6 fetched, 6 new"), std::string::npos) << out1;

  auto [rc2, out2] = run_repwatchd({"--config", config.string(), "--once"}, dir.path / "2.log");
  EXPECT_EQ(rc2, 3) << out2;
  EXPECT_EQ(out2.find("source clinic-a"), std::string::npos)
      << "an unchanged poll logged at the default level:\n"
      << out2;
  // The failure, its source named once.
  const std::string failure = "source gone: config error, needs attention: path \"" +
                              (dir.path / "no-such-dir").string() + "\" does not exist";
  EXPECT_NE(out2.find(failure), std::string::npos) << out2;
  for (const std::string& out : {out1, out2}) {
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      for (const char* prefix : {"source gone:", "source clinic-a:", "alerts:"}) {
        size_t first = line.find(prefix);
        if (first == std::string::npos) continue;
        EXPECT_EQ(line.find(prefix, first + 1), std::string::npos) << "repeated prefix: " << line;
      }
    }
  }
  DbProbe db(state / "repwatch.db");
  EXPECT_EQ(
      db.text("SELECT last_error FROM poll_state WHERE source_id = 'gone'").rfind("path \"", 0), 0u)
      << db.text("SELECT last_error FROM poll_state WHERE source_id = 'gone'");
}

// --once twice on the same input stores each review once; an edited row becomes one edit
// with one revision.
TEST_F(DaemonServiceTest, OnceTwiceStoresEachReviewOnce) {
  auto [rc1, out1] = run_repwatchd({"--config", config.string(), "--once"}, dir.path / "1.log");
  ASSERT_EQ(rc1, 0) << out1;
  EXPECT_EQ(reviews(), kFixtureReviews);
  auto [rc2, out2] = run_repwatchd({"--config", config.string(), "--once"}, dir.path / "2.log");
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_EQ(reviews(), kFixtureReviews);

  std::string csv = read_file(source_a / "reviews.csv");
  auto at = csv.find("nobody explained why.");
  ASSERT_NE(at, std::string::npos);
  csv.replace(at, std::string("nobody explained why.").size(), "nobody apologised.");
  write_file(source_a / "reviews.csv", csv);
  auto [rc3, out3] = run_repwatchd({"--config", config.string(), "--once"}, dir.path / "3.log");
  ASSERT_EQ(rc3, 0) << out3;
  DbProbe db(state / "repwatch.db");
  EXPECT_EQ(db.integer("SELECT count(*) FROM reviews"), kFixtureReviews);
  EXPECT_EQ(db.integer("SELECT count(*) FROM review_revisions"), 1);
  EXPECT_EQ(db.text("SELECT text FROM reviews WHERE external_id = 'd-2'"),
            "Waited two hours past my appointment time and nobody apologised.");
}

// Alerts are queued in the poll's transaction and delivered by --once before it exits: with no
// SMTP configured, as .eml files in the state directory; a second run sends nothing again.
TEST_F(DaemonServiceTest, OnceDeliversAlertsForNegativeReviewsExactlyOnce) {
  write_file(config,
             config_text(state, {{"clinic-a", source_a}},
                         "[alerts]\nmarketing = [\"marketing@clinic.example\"]\n"
                         "alert_on_first_sync = true\n"),
             0640);
  auto [rc, out] = run_repwatchd({"--config", config.string(), "--once"}, dir.path / "1.log");
  ASSERT_EQ(rc, 0) << out;
  auto count_eml = [&] {
    int n = 0;
    if (!fs::exists(state / "outbox-eml")) return 0;
    for (auto& e : fs::directory_iterator(state / "outbox-eml"))
      n += e.path().extension() == ".eml";
    return n;
  };
  // d-2 (1 star) and d-3 (2 stars) are negative; the others are not.
  EXPECT_EQ(count_eml(), 2) << out;
  DbProbe db(state / "repwatch.db");
  EXPECT_EQ(db.integer("SELECT count(*) FROM alert_deliveries WHERE status = 'sent'"), 2);
  EXPECT_EQ(db.integer("SELECT count(*) FROM alert_deliveries WHERE status = 'pending'"), 0);

  auto [rc2, out2] = run_repwatchd({"--config", config.string(), "--once"}, dir.path / "2.log");
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_EQ(count_eml(), 2) << "a re-poll must not alert again\n" << out2;
}

// SIGTERM while an HTTP source hangs: the daemon waits a few seconds, then asks the fetch to
// stop (the transfer is aborted), records the failed poll, and exits 0 well within systemd's
// stop timeout; the other source's reviews are stored.
TEST_F(DaemonServiceTest, SigtermStopsAHangingHttpFetchAndExitsInTime) {
  FixtureServer server;
  server.data("json", "clinic",
              R"([{"id": "j1", "created": "2025-05-01T10:00:00Z", "text": "Fine."}])");
  server.fault(R"({"match": "/feed/", "kind": "slow", "seconds": 120, "times": -1})");
  std::string http_source =
      "[[sources]]\nid = \"vendor\"\ntype = \"json_http\"\n"
      "location = \"main\"\ninterval = \"1h\"\n"
      "url = \"" +
      server.base_url() +
      "/feed/clinic\"\n"
      "reviews_pointer = \"/data/reviews\"\n"
      "next_pointer = \"/meta/next\"\n"
      "[sources.fields]\nexternal_id = \"/id\"\ncreated_at = \"/created\"\n"
      "text = \"/text\"\n";
  write_file(config,
             config_text(state, {{"clinic-a", source_a}}, http_source + "[http]\nretries = 0\n"),
             0640);
  DaemonProcess d({"--config", config.string()}, systemd_env(), dir.path / "log");
  ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << d.log();
  ASSERT_TRUE(eventually([&] { return reviews() == kFixtureReviews; }, 10s)) << d.log();
  std::this_thread::sleep_for(200ms);  // the HTTP fetch is hanging in the fixture server now

  auto sent = std::chrono::steady_clock::now();
  d.signal(SIGTERM);
  auto code = d.wait(30s);
  auto took = std::chrono::steady_clock::now() - sent;
  ASSERT_TRUE(code) << "repwatchd did not exit\n" << d.log();
  EXPECT_EQ(*code, 0) << d.log();
  EXPECT_LT(took, 15s) << "must exit well within TimeoutStopSec (45s)";
  EXPECT_GE(took, 3s) << "running fetches get a few seconds to finish first";
  std::string log = d.log();
  EXPECT_NE(log.find("source vendor: asking the running fetch to stop"), std::string::npos) << log;

  DbProbe db(state / "repwatch.db");
  EXPECT_EQ(db.text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(db.integer("SELECT count(*) FROM reviews WHERE source_id = 'vendor'"), 0);
  EXPECT_EQ(db.integer("SELECT consecutive_failures FROM poll_state WHERE source_id = 'vendor'"), 1)
      << "the stopped fetch is recorded as a failed poll";
  EXPECT_EQ(db.text("SELECT cursor FROM poll_state WHERE source_id = 'vendor'"), "");
}

TEST_F(DaemonServiceTest, CheckConfigReportsOkOrEveryProblem) {
  auto [ok_rc, ok_out] =
      run_repwatchd({"--config", config.string(), "--check-config"}, dir.path / "ok.log");
  EXPECT_EQ(ok_rc, 0) << ok_out;
  EXPECT_NE(ok_out.find("OK"), std::string::npos) << ok_out;
  EXPECT_FALSE(fs::exists(state)) << "--check-config must not create the state directory";

  // Two problems at once: a connector that rejects its settings and a bad alert rule.
  fs::path bad = dir.path / "bad.toml";
  write_file(bad,
             config_text(state, {{"clinic-a", source_a}},
                         bad_source(source_a) + "[alerts]\nrules = [{ type = \"negative\" }]\n"),
             0640);
  auto [bad_rc, bad_out] =
      run_repwatchd({"--config", bad.string(), "--check-config"}, dir.path / "bad.log");
  EXPECT_EQ(bad_rc, 78) << bad_out;
  EXPECT_NE(bad_out.find("sources[1]"), std::string::npos) << bad_out;
  EXPECT_NE(bad_out.find("alerts.rules[0]"), std::string::npos) << bad_out;

  // --once with a bad config fails too, and stores nothing.
  auto [once_rc, once_out] =
      run_repwatchd({"--config", bad.string(), "--once"}, dir.path / "o.log");
  EXPECT_EQ(once_rc, 78) << once_out;
  EXPECT_FALSE(fs::exists(state / "repwatch.db"));

  auto [missing_rc, missing_out] = run_repwatchd(
      {"--config", (dir.path / "nope.toml").string(), "--check-config"}, dir.path / "m.log");
  EXPECT_EQ(missing_rc, 78) << missing_out;
  EXPECT_NE(missing_out.find("nope.toml"), std::string::npos) << missing_out;
}

// A config file holding a secret inline must be readable by its owner only (managers in the
// config's group read it): repwatchd refuses to start (exit 78, no restart), names the key and
// the fix, and never prints the secret; 0600, or the secret in a 0600 *_file, is fine.
TEST_F(DaemonServiceTest, RefusesAConfigOthersCanReadWithAnInlineSecret) {
  const std::string secret = "hunter2-very-secret";
  std::string text = config_text(state, {{"clinic-a", source_a}},
                                 "[smtp]\nurl = \"smtp://127.0.0.1:2525\"\nstarttls = \"off\"\n"
                                 "username = \"alerts\"\npassword = \"" +
                                     secret + "\"\n");
  for (mode_t mode : {0644, 0640}) {
    write_file(config, text, mode);
    auto [rc, out] = run_repwatchd({"--config", config.string()}, dir.path / "log");
    EXPECT_EQ(rc, 78) << out;
    EXPECT_NE(out.find("smtp.password: a secret written in a config file that others can read"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("password_file"), std::string::npos) << out;
    EXPECT_EQ(out.find(secret), std::string::npos) << "the secret leaked:\n" << out;
    EXPECT_FALSE(fs::exists(state / "repwatch.db"));
    auto [crc, cout] =
        run_repwatchd({"--config", config.string(), "--check-config"}, dir.path / "c");
    EXPECT_EQ(crc, 78) << cout;
    // Reported once, not again by the module that reads it.
    EXPECT_EQ(cout.find("smtp.password"), cout.rfind("smtp.password")) << cout;
  }

  ::chmod(config.c_str(), 0600);
  auto [rc2, out2] = run_repwatchd({"--config", config.string(), "--check-config"}, dir.path / "2");
  EXPECT_EQ(rc2, 0) << out2;
  write_file(dir.path / "smtp-password", secret + "\n", 0600);
  std::string with_file = config_text(state, {{"clinic-a", source_a}},
                                      "[smtp]\nurl = \"smtp://127.0.0.1:2525\"\n"
                                      "starttls = \"off\"\nusername = \"alerts\"\n"
                                      "password_file = \"smtp-password\"\n");
  write_file(config, with_file, 0640);
  auto [rc3, out3] = run_repwatchd({"--config", config.string(), "--check-config"}, dir.path / "3");
  EXPECT_EQ(rc3, 0) << out3;
  // The secret file itself must be the daemon's alone.
  ::chmod((dir.path / "smtp-password").c_str(), 0640);
  auto [rc4, out4] = run_repwatchd({"--config", config.string(), "--check-config"}, dir.path / "4");
  EXPECT_EQ(rc4, 78) << out4;
  EXPECT_NE(out4.find("smtp.password_file: \"" + (dir.path / "smtp-password").string() +
                      "\" can be read by others (mode 0640"),
            std::string::npos)
      << out4;
}

// --check-config reports every mistake in one run, each with file, line and key, in file
// order: the config's own, each source's (settings the connector rejects, an import path that
// does not exist), a taxonomy file that does not exist, the alert sections'.
TEST_F(DaemonServiceTest, CheckConfigReportsEveryMistakeInOneRun) {
  fs::path missing_import = dir.path / "no-such-import";
  std::string text = "state_dir = \"" + state.string() + "\"\nlog_level = \"loud\"\n" +
                     "[[locations]]\nid = \"main\"\n" +
                     "[[sources]]\nid = \"a\"\ntype = \"file\"\nlocation = \"main\"\n" +
                     "interval = \"fast\"\npath = \"" + source_a.string() + "\"\n" +
                     "[[sources]]\nid = \"b\"\ntype = \"file\"\nlocation = \"main\"\n" +
                     "path = \"" + missing_import.string() + "\"\n" +
                     "[[sources]]\nid = \"c\"\ntype = \"file\"\nlocation = \"main\"\n" +
                     "path = \"" + source_a.string() + "\"\nscale = \"1-6-11\"\n" +
                     "[sentiment]\ntaxonomy = \"no-such-taxonomy.toml\"\n" +
                     "[daemon]\nfetch_threads = 99\n" + "[alerts]\nmarketing = 5\n" +
                     "[smtp]\nurl = \"smtp://127.0.0.1:2525\"\ntimeout = \"soon\"\n";
  write_file(config, text, 0640);
  auto [rc, out] = run_repwatchd({"--config", config.string(), "--check-config"}, dir.path / "l");
  EXPECT_EQ(rc, 78) << out;
  const std::string f = config.string() + ":";
  const std::vector<std::string> expected = {
      f + "2: log_level: expected one of trace",
      f + "9: sources[0].interval: expected a duration",
      f + "15: sources[1].path: cannot read \"" + missing_import.string() +
          "\": no such file or directory",
      f + "21: sources[2].scale",
      f + "23: sentiment.taxonomy: cannot read \"" + (dir.path / "no-such-taxonomy.toml").string() +
          "\": no such file or directory",
      f + "25: daemon.fetch_threads: expected 1 to 16",
      f + "27: alerts.marketing",
      f + "30: smtp.timeout",
  };
  size_t at = 0;
  for (const auto& e : expected) {
    size_t p = out.find(e);
    EXPECT_NE(p, std::string::npos) << "missing: " << e << "\n" << out;
    if (p != std::string::npos) {
      EXPECT_GE(p, at) << "out of file order: " << e << "\n" << out;
      at = p;
    }
  }
  EXPECT_NE(out.find("8 mistakes"), std::string::npos) << out;
  // The daemon refuses the same config with the same list (and no restart: 78).
  auto [drc, dout] = run_repwatchd({"--config", config.string()}, dir.path / "d");
  EXPECT_EQ(drc, 78) << dout;
  EXPECT_NE(dout.find("sentiment.taxonomy: cannot read"), std::string::npos) << dout;
}

// The shipped example names import paths that do not exist until the clinic creates them:
// --check-config says so, with the key, instead of passing a config whose sources then fail.
TEST_F(DaemonServiceTest, CheckConfigCatchesTheShippedExamplesPaths) {
  fs::path example = fs::path(REPWATCH_SOURCE_DIR) / "config" / "repwatch.example.toml";
  if (fs::exists("/var/lib/repwatch/import")) GTEST_SKIP() << "this machine has the import dirs";
  write_file(config, read_file(example), 0640);
  auto [rc, out] = run_repwatchd({"--config", config.string(), "--check-config"}, dir.path / "l");
  EXPECT_EQ(rc, 78) << out;
  EXPECT_NE(out.find(": sources[0].path: cannot read \"/var/lib/repwatch/import/healthgrades\""),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(": sources[1].path: cannot read \"/var/lib/repwatch/import/survey/"),
            std::string::npos)
      << out;
}

// Run as root, --check-config checks as the daemon's user: a secret file, an import
// directory and a state directory that only root can use are each a mistake, named with the
// user; checked as root the same config passes.
TEST_F(DaemonServiceTest, CheckConfigAsTheDaemonsUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (it checks as user nobody)";
  ::chmod(dir.path.c_str(), 0755);
  fs::path root_only = dir.path / "root-only";
  fs::create_directories(root_only);
  ::chmod(root_only.c_str(), 0755);
  fs::path import = root_only / "import";
  fs::create_directories(import);
  ::chmod(import.c_str(), 0700);
  write_file(root_only / "smtp-password", "s3cret\n", 0600);
  fs::path state_dir = root_only / "state";
  fs::create_directories(state_dir);
  ::chmod(state_dir.c_str(), 0755);
  std::string text =
      "state_dir = \"" + state_dir.string() + "\"\n" + "[[locations]]\nid = \"main\"\n" +
      "[[sources]]\nid = \"a\"\ntype = \"file\"\nlocation = \"main\"\n" + "path = \"" +
      import.string() + "\"\n" + "[smtp]\nurl = \"smtp://127.0.0.1:2525\"\nstarttls = \"off\"\n" +
      "username = \"alerts\"\npassword_file = \"" + (root_only / "smtp-password").string() + "\"\n";
  write_file(config, text, 0644);
  auto [rc, out] = run_repwatchd(
      {"--config", config.string(), "--check-config", "--as-user", "nobody"}, dir.path / "l");
  EXPECT_EQ(rc, 78) << out;
  EXPECT_NE(out.find("checked as user nobody"), std::string::npos) << out;
  for (const std::string key : {"state_dir: cannot write in", "sources[0].path: cannot read",
                                "smtp.password_file: cannot read"}) {
    EXPECT_NE(out.find(key), std::string::npos) << key << "\n" << out;
  }
  EXPECT_NE(out.find("Permission denied (as user nobody)"), std::string::npos) << out;
  EXPECT_EQ(out.find("s3cret"), std::string::npos) << out;

  auto [rrc, rout] = run_repwatchd(
      {"--config", config.string(), "--check-config", "--as-user", "root"}, dir.path / "r");
  EXPECT_EQ(rrc, 0) << rout;
  EXPECT_NE(rout.find("checked as user root"), std::string::npos) << rout;
}

// Under systemd (INVOCATION_ID set, stderr not a terminal) every line carries an sd-daemon
// priority prefix and no timestamp of its own.
TEST_F(DaemonServiceTest, JournalPriorityPrefixesUnderSystemd) {
  auto [rc, out] = run_repwatchd({"--config", config.string(), "--once", "--log-level", "debug"},
                                 dir.path / "log", {{"INVOCATION_ID", "0123456789abcdef"}});
  ASSERT_EQ(rc, 0) << out;
  std::istringstream in(out);
  int lines = 0, info = 0, debug = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    ASSERT_TRUE(line.size() > 3 && line[0] == '<' && line[2] == '>') << line;
    info += line.rfind("<6>", 0) == 0;
    debug += line.rfind("<7>", 0) == 0;
  }
  EXPECT_GT(info, 0) << out;
  EXPECT_GT(debug, 0) << out;

  // Without it: timestamps, no prefixes; --log-level warn silences info.
  auto [rc2, out2] = run_repwatchd({"--config", config.string(), "--once"}, dir.path / "log2");
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_EQ(out2.find("<6>"), std::string::npos) << out2;
  EXPECT_NE(out2.find(" info "), std::string::npos) << out2;
  auto [rc3, out3] = run_repwatchd({"--config", config.string(), "--once", "--log-level", "warn"},
                                   dir.path / "log3");
  ASSERT_EQ(rc3, 0) << out3;
  EXPECT_EQ(out3.find(" info "), std::string::npos) << out3;
}

TEST_F(DaemonServiceTest, CommandLine) {
  auto [rc, out] = run_repwatchd({"--version"}, dir.path / "v");
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("repwatchd 0."), std::string::npos) << out;
  auto [rc2, out2] = run_repwatchd({"--log-level", "loud", "--once"}, dir.path / "l");
  EXPECT_EQ(rc2, 64);
  EXPECT_NE(out2.find("--log-level"), std::string::npos) << out2;
  auto [rc3, out3] = run_repwatchd({"--frobnicate"}, dir.path / "f");
  EXPECT_EQ(rc3, 64) << out3;
  auto [rc4, out4] = run_repwatchd({"--as-user", "nobody"}, dir.path / "u");
  EXPECT_EQ(rc4, 64) << out4;
  EXPECT_NE(out4.find("--check-config"), std::string::npos) << out4;
}

}  // namespace
}  // namespace repwatch::testing
