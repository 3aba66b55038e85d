// The daemon's building blocks without the binary: the schedule (intervals, jitter, backoff,
// Retry-After, reloads), the fetch pool, the signal fd and the secret-key rules.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "daemon/fetch_pool.h"
#include "daemon/logging.h"
#include "daemon/scheduler.h"
#include "daemon/secrets.h"
#include "daemon/signals.h"
#include "tests/fixtures/daemon/daemon_harness.h"

namespace repwatch::daemon {
namespace {

using namespace std::chrono_literals;
using Kind = SourceError::Kind;

SourceConfig source(const std::string& id, int64_t interval_seconds, bool enabled = true) {
  SourceConfig s;
  s.id = id;
  s.type = "file";
  s.location = "main";
  s.interval_seconds = interval_seconds;
  s.enabled = enabled;
  return s;
}

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1000);

TEST(Schedule, NewSourcesAreDueAtOnceAndDisabledOnesNever) {
  Schedule s(1);
  s.configure({source("a", 900), source("b", 60), source("off", 60, false)}, {}, t0, 0);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.next_due(), t0);
  auto due = s.take_due(t0);
  EXPECT_EQ(due.size(), 2u);
  EXPECT_TRUE(s.in_flight("a"));
  EXPECT_FALSE(s.next_due()) << "sources in flight are never due";
  EXPECT_TRUE(s.take_due(t0 + 24h).empty());
}

TEST(Schedule, SuccessWaitsTheIntervalWithTenPercentJitter) {
  Schedule s(42);
  s.configure({source("a", 1000)}, {}, t0, 0);
  Duration lo = Duration::max(), hi = Duration::min();
  Clock::time_point now = t0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(s.take_due(now).size(), 1u);
    Clock::time_point next = s.succeeded("a", now);
    auto wait = std::chrono::duration_cast<Duration>(next - now);
    lo = std::min(lo, wait);
    hi = std::max(hi, wait);
    EXPECT_EQ(s.failures("a"), 0);
    EXPECT_TRUE(s.take_due(next - 1ms).empty());
    now = next;
  }
  EXPECT_GE(lo, 900s);
  EXPECT_LE(hi, 1100s);
  EXPECT_GT(hi - lo, 100s) << "jitter should spread polls, not be constant";
}

TEST(Schedule, BackoffDoublesUpToTheCapAndResetsOnSuccess) {
  // 15 min interval: base min(15m, 60s) = 60s, doubling, capped at max(15m, 6h) = 6h.
  EXPECT_EQ(Schedule::backoff(900s, 1, Kind::kTransient, 0), 60s);
  EXPECT_EQ(Schedule::backoff(900s, 2, Kind::kTransient, 0), 120s);
  EXPECT_EQ(Schedule::backoff(900s, 5, Kind::kTransient, 0), 960s);
  EXPECT_EQ(Schedule::backoff(900s, 30, Kind::kTransient, 0), 6h);
  EXPECT_EQ(Schedule::backoff(900s, 1000, Kind::kGarbage, 0), 6h);
  // A short interval starts from itself.
  EXPECT_EQ(Schedule::backoff(10s, 1, Kind::kTransient, 0), 10s);
  // Auth and config errors need a person: no quick retries.
  EXPECT_EQ(Schedule::backoff(900s, 1, Kind::kAuth, 0), 1h);
  EXPECT_EQ(Schedule::backoff(2h, 1, Kind::kConfig, 0), 2h);

  Schedule s(3);
  s.configure({source("a", 900)}, {}, t0, 0);
  Clock::time_point now = t0;
  std::vector<Duration> waits;
  for (int i = 0; i < 4; ++i) {
    s.take_due(now);
    Clock::time_point next = s.failed("a", now, Kind::kTransient, 0);
    waits.push_back(std::chrono::duration_cast<Duration>(next - now));
    now = next;
  }
  EXPECT_EQ(s.failures("a"), 4);
  for (size_t i = 1; i < waits.size(); ++i) {
    EXPECT_GT(waits[i], waits[i - 1] * 3 / 2) << "backoff should roughly double";
  }
  s.take_due(now);
  Clock::time_point next = s.succeeded("a", now);
  EXPECT_EQ(s.failures("a"), 0);
  EXPECT_GE(next - now, 810s);
}

TEST(Schedule, RetryAfterIsHonouredEvenAgainstJitter) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Schedule s(seed);
    s.configure({source("a", 60)}, {}, t0, 0);
    s.take_due(t0);
    // The first backoff would be 60s; the source asked for an hour.
    Clock::time_point next = s.failed("a", t0, Kind::kTransient, 3600);
    EXPECT_GE(next - t0, 3600s);
    EXPECT_LE(next - t0, 3960s);
  }
}

TEST(Schedule, ReloadKeepsStateAndTakesNewIntervals) {
  Schedule s(9);
  s.configure({source("a", 3600), source("b", 3600)}, {}, t0, 0);
  s.take_due(t0);
  s.succeeded("a", t0);                    // due in ~1h
  s.failed("b", t0, Kind::kTransient, 0);  // failing
  auto due_a = *s.due("a");

  // Reload: a's interval shrinks to 10 min, b is unchanged, c is new.
  s.configure({source("a", 600), source("b", 3600), source("c", 60)}, {}, t0 + 1s, 1);
  EXPECT_LE(*s.due("a"), t0 + 1s + 600s) << "a shorter interval takes effect now";
  EXPECT_LT(*s.due("a"), due_a);
  EXPECT_EQ(s.failures("b"), 1) << "a reload does not forget failures";
  EXPECT_EQ(s.due("c"), t0 + 1s);

  // In-flight marks survive a reload; removed sources are forgotten.
  s.take_due(t0 + 1s);
  EXPECT_TRUE(s.in_flight("c"));
  s.configure({source("c", 60)}, {}, t0 + 2s, 2);
  EXPECT_TRUE(s.in_flight("c"));
  EXPECT_FALSE(s.known("a"));
  s.abandoned("c", t0 + 3s);
  EXPECT_EQ(s.due("c"), t0 + 3s);
}

TEST(Schedule, RestartHonoursRecordedNextPoll) {
  Schedule s(11);
  const int64_t wall = 1'700'000'000;
  s.configure({source("soon", 900), source("past", 900), source("stale", 900), source("new", 900)},
              {{"soon", {wall + 120, 0, std::nullopt}},
               {"past", {wall - 5, 0, std::nullopt}},
               {"stale", {wall + 999'999, 0, std::nullopt}},
               {"new", {std::nullopt, 0, std::nullopt}}},
              t0, wall);
  EXPECT_EQ(s.due("soon"), t0 + 120s);
  EXPECT_EQ(s.due("past"), t0);
  EXPECT_EQ(s.due("stale"), t0 + 900s) << "never wait more than one interval for a stale record";
  EXPECT_EQ(s.due("new"), t0);
  EXPECT_EQ(Schedule::wall_time(t0 + 120s, t0, wall), wall + 120);
}

// A source the site says is unavailable for good is asked daily, not hourly; one that waits
// for a person (auth, config, unavailable) is tried at once after a reload or a restart,
// which is how the person's fix is picked up.
TEST(Schedule, UnavailableIsAskedDailyAndAReloadRetriesWhatWaitsForAPerson) {
  EXPECT_EQ(Schedule::backoff(900s, 1, Kind::kUnavailable, 0), 24h);
  EXPECT_EQ(Schedule::backoff(900s, 9, Kind::kUnavailable, 0), 24h);
  EXPECT_EQ(Schedule::backoff(48h, 1, Kind::kUnavailable, 0), 48h);
  EXPECT_TRUE(Schedule::waits_for_a_person(Kind::kAuth));
  EXPECT_TRUE(Schedule::waits_for_a_person(Kind::kConfig));
  EXPECT_TRUE(Schedule::waits_for_a_person(Kind::kUnavailable));
  EXPECT_FALSE(Schedule::waits_for_a_person(Kind::kTransient));
  EXPECT_FALSE(Schedule::waits_for_a_person(Kind::kGarbage));

  Schedule s(5);
  s.configure({source("fb", 900), source("net", 900), source("yelp", 900)}, {}, t0, 0);
  s.take_due(t0);
  Clock::time_point fb = s.failed("fb", t0, Kind::kUnavailable, 0);
  EXPECT_GE(fb - t0, 24h * 9 / 10);
  s.failed("net", t0, Kind::kTransient, 0);
  s.failed("yelp", t0, Kind::kAuth, 0);
  EXPECT_GE(*s.due("yelp") - t0, 54min);

  s.configure({source("fb", 900), source("net", 900), source("yelp", 900)}, {}, t0 + 10s, 1);
  EXPECT_EQ(s.due("fb"), t0 + 10s) << "the reload may be the fix (api_version)";
  EXPECT_EQ(s.due("yelp"), t0 + 10s) << "the reload may be the fix (a new key)";
  EXPECT_GT(*s.due("net"), t0 + 10s) << "a network error keeps its backoff";
  EXPECT_EQ(s.failures("yelp"), 1);
  s.take_due(t0 + 10s);
  s.succeeded("yelp", t0 + 11s);
  s.configure({source("fb", 900), source("net", 900), source("yelp", 900)}, {}, t0 + 20s, 2);
  EXPECT_GT(*s.due("yelp"), t0 + 20s) << "healthy again: no extra poll";

  // After a restart, from the poll state in the database.
  Schedule r(6);
  const int64_t wall = 1'700'000'000;
  r.configure(
      {source("fb", 900), source("net", 900)},
      {{"fb", {wall + 80'000, 3, Kind::kUnavailable}}, {"net", {wall + 600, 2, Kind::kTransient}}},
      t0, wall);
  EXPECT_EQ(r.due("fb"), t0);
  EXPECT_EQ(r.due("net"), t0 + 600s);
}

TEST(FetchPool, RunsJobsConcurrentlyUpToItsCapAndReportsThroughItsFd) {
  FetchPool pool(2);
  std::atomic<int> running{0}, peak{0};
  for (int i = 0; i < 6; ++i) {
    pool.submit({"s" + std::to_string(i), 1, [&, i] {
                   int now = ++running;
                   int p = peak.load();
                   while (now > p && !peak.compare_exchange_weak(p, now)) {
                   }
                   std::this_thread::sleep_for(30ms);
                   --running;
                   Fetched f;
                   f.source_id = "s" + std::to_string(i);
                   return f;
                 }});
  }
  EXPECT_EQ(pool.outstanding(), 6);
  std::vector<FetchPool::Done> all;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (all.size() < 6 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{pool.fd(), POLLIN, 0};
    ASSERT_GT(::poll(&p, 1, 5000), 0);
    for (auto& d : pool.take_done()) all.push_back(std::move(d));
  }
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(peak.load(), 2) << "at most max_threads fetches at once";
  EXPECT_LE(pool.threads(), 2);
  EXPECT_EQ(pool.outstanding(), 0);
  for (auto& d : all) EXPECT_EQ(d.fetched.source_id, d.source_id);
}

TEST(FetchPool, AnEscapingExceptionBecomesASourceError) {
  FetchPool pool(1);
  pool.submit({"boom", 7, []() -> Fetched { throw std::runtime_error("disk on fire"); }});
  pollfd p{pool.fd(), POLLIN, 0};
  ASSERT_GT(::poll(&p, 1, 5000), 0);
  auto done = pool.take_done();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].generation, 7u);
  ASSERT_TRUE(done[0].fetched.error);
  EXPECT_NE(std::string(done[0].fetched.error->what()).find("disk on fire"), std::string::npos);
  EXPECT_NE(std::string(done[0].fetched.error->what()).find("boom"), std::string::npos);
}

TEST(FetchPool, CancelQueuedDropsJobsNotStarted) {
  FetchPool pool(1);
  std::atomic<bool> release{false};
  pool.submit({"slow", 1, [&] {
                 while (!release) std::this_thread::sleep_for(1ms);
                 return Fetched{};
               }});
  pool.submit({"queued-1", 1, [] { return Fetched{}; }});
  pool.submit({"queued-2", 1, [] { return Fetched{}; }});
  std::this_thread::sleep_for(20ms);
  auto cancelled = pool.cancel_queued();
  EXPECT_EQ(cancelled, (std::vector<std::string>{"queued-1", "queued-2"}));
  EXPECT_EQ(pool.outstanding(), 1);
  release = true;
  pollfd p{pool.fd(), POLLIN, 0};
  ASSERT_GT(::poll(&p, 1, 5000), 0);
  EXPECT_EQ(pool.take_done().size(), 1u);
}

TEST(SignalWatcher, QueuesSignalsOnItsFdInsteadOfInterrupting) {
  SignalWatcher w({SIGUSR1, SIGUSR2});
  ::kill(::getpid(), SIGUSR1);  // blocked: would otherwise terminate the test
  ::kill(::getpid(), SIGUSR2);
  pollfd p{w.fd(), POLLIN, 0};
  ASSERT_GT(::poll(&p, 1, 2000), 0);
  auto got = w.read();
  EXPECT_EQ(got.size(), 2u);
  EXPECT_TRUE(w.read().empty());
}

TEST(Secrets, KeyNamesThatHoldSecrets) {
  for (const char* k : {"password", "smtp_password", "api_key", "apikey", "ApiKey", "key",
                        "access_token", "client_secret", "private-key", "passwd"}) {
    EXPECT_TRUE(is_secret_key(k)) << k;
  }
  for (const char* k : {"password_file", "api_key_file", "token_env", "keywords", "monkey",
                        "username", "url", "external_id", "keyboard", "token_param", "token_header",
                        "token_prefix", "token_endpoint"}) {
    EXPECT_FALSE(is_secret_key(k)) << k;
  }
}

TEST(Secrets, FindsInlineSecretsAnywhereAndChecksTheMode) {
  repwatch::testing::TempDir dir;
  auto file = dir.path / "r.toml";
  repwatch::testing::write_file(
      file,
      "state_dir = \"x\"\n"
      "[[sources]]\nid = \"y\"\napi_key = \"abc\"\n"
      "[[sources]]\nid = \"z\"\napi_key_file = \"k\"\ntoken = \"\"\n"
      "url = \"https://feed.example/v2/r?per_page=10&api_key=K3y\"\n"
      "[[sources]]\nid = \"w\"\nurl = \"https://feed.example/v2/r?per_page=10\"\n"
      "headers = { Accept = \"application/json\", Authorization = \"Bearer t0k\" }\n"
      "[smtp]\npassword = \"p\"\nurl = \"smtp://alerts:pw@mail.example:587\"\n"
      "[webhook.headers]\nX-Api-Key = \"h\"\n",
      0644);
  auto keys = inline_secret_keys(file);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"smtp.password", "smtp.url", "sources[0].api_key",
                                            "sources[1].url", "sources[2].headers.Authorization",
                                            "webhook.headers.X-Api-Key"}));
  // Readable by others (0644) or by the group (0640, managers): refused, one line per secret
  // with file, line, key and the fix, never a value.
  for (mode_t mode : {0644, 0640}) {
    ::chmod(file.c_str(), mode);
    try {
      check_secret_permissions(file);
      FAIL() << "a file with secrets that others can read must be refused";
    } catch (const ConfigError& e) {
      std::string m = e.what();
      EXPECT_NE(m.find(mode == 0644 ? "mode 0644" : "mode 0640"), std::string::npos) << m;
      EXPECT_NE(m.find(file.string() + ":15: smtp.password: a secret written"), std::string::npos)
          << m;
      EXPECT_NE(m.find(file.string() + ":16: smtp.url: a URL carrying a credential"),
                std::string::npos)
          << m;
      EXPECT_NE(m.find("password_file"), std::string::npos) << m;
      for (const char* value : {"\"abc\"", "K3y", "t0k", ":pw@"})
        EXPECT_EQ(m.find(value), std::string::npos) << value << " in " << m;
    }
  }
  ::chmod(file.c_str(), 0600);
  EXPECT_NO_THROW(check_secret_permissions(file));
  repwatch::testing::write_file(file, "state_dir = \"x\"\n[smtp]\npassword_file = \"p\"\n", 0644);
  EXPECT_NO_THROW(check_secret_permissions(file));
}

TEST(Logging, LevelsAndPriorities) {
  EXPECT_EQ(parse_log_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("warning"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
  EXPECT_FALSE(parse_log_level("loud"));
  EXPECT_EQ(syslog_priority(spdlog::level::err), 3);
  EXPECT_EQ(syslog_priority(spdlog::level::warn), 4);
  EXPECT_EQ(syslog_priority(spdlog::level::info), 6);
  EXPECT_EQ(syslog_priority(spdlog::level::debug), 7);
}

}  // namespace
}  // namespace repwatch::daemon
