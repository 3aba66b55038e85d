// Crash consistency: repwatchd is SIGKILLed at random moments - while it reads a large export,
// stores thousands of reviews, queues alerts, writes .eml files or talks SMTP - and restarted,
// many times (REPWATCH_CRASH_KILLS, default 200, over both tests). The export is edited between
// runs (new reviews, text edits, reviews turning negative). After every kill:
//   - PRAGMA integrity_check is "ok";
//   - every stored review is there once; every negative stored review has exactly one alert
//     (new_negative, or edit_negative when it turned negative), a positive one none; every
//     alert has its deliveries (they commit together).
// At the end (one clean run after the leases of the killed senders are expired):
//   - every review of the export is stored exactly once, with its latest text and rating;
//   - every delivery is sent; .eml: exactly one file per delivery, carrying its Message-ID;
//     SMTP: every Message-ID received at least once and at most twice (the documented resend
//     when a crash falls between the server's acceptance and our commit), at most one duplicate
//     per kill.
// REPWATCH_CRASH_SEED makes a run repeatable (the seed is printed).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "db/sqlite.h"
#include "tests/fixtures/reliability/process.h"
#include "tests/fixtures/smtp/smtp_fixture.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using repwatch::testing::run_process;
using repwatch::testing::run_process_until;
using repwatch::testing::RunResult;
using repwatch::testing::TempDir;

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

uint32_t seed() {
  static const uint32_t s = [] {
    int v = env_int("REPWATCH_CRASH_SEED", 0);
    return v ? static_cast<uint32_t>(v) : std::random_device{}();
  }();
  return s;
}

// The export files as the clinic's vendor drops them (one file per 400 reviews, new reviews in
// the newest file, edits rewriting the file that holds the review), and what the database must
// end up holding. Unchanged files are not read again, so a poll costs what changed and the
// kills fall both in polls and in deliveries.
class Export {
 public:
  struct Row {
    std::string id;
    int rating = 5;
    std::string text;
  };
  static constexpr size_t kPerFile = 400;

  Export(fs::path dir, std::mt19937& rng) : dir_(std::move(dir)), rng_(rng) {}

  void add(int n) {
    for (int i = 0; i < n; ++i) {
      Row r;
      r.id = "r" + std::to_string(rows_.size());
      r.rating = (rng_() % 2 == 0) ? 1 : 5;
      r.text = phrase(r.rating) + " (review " + r.id + ")";
      dirty_.insert(rows_.size() / kPerFile);
      rows_.push_back(std::move(r));
    }
  }

  // Text edits (positive stays positive, negative stays negative) and positive reviews
  // turning negative. Never negative -> positive: its alert would depend on whether the
  // negative version was ever committed.
  void edit(int n) {
    for (int i = 0; i < n && !rows_.empty(); ++i) {
      size_t k = rng_() % rows_.size();
      Row& r = rows_[k];
      if (r.rating == 5 && rng_() % 3 == 0) r.rating = 1;
      r.text = phrase(r.rating) + " (review " + r.id + ", edit " + std::to_string(++edits_) + ")";
      dirty_.insert(k / kPerFile);
    }
  }

  // Rewrites the files that changed (each atomically: the daemon is not running anyway).
  void write() {
    for (size_t f : dirty_) {
      fs::path file = dir_ / ("export-" + std::to_string(1000 + f) + ".csv");
      fs::path tmp = dir_ / (".export-" + std::to_string(1000 + f) + ".part");
      {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << "external_id,author,rating,text,created_at\n";
        for (size_t k = f * kPerFile; k < std::min(rows_.size(), (f + 1) * kPerFile); ++k) {
          const Row& r = rows_[k];
          out << r.id << ",\"Patient " << r.id << "\"," << r.rating << ",\"" << r.text << "\","
              << created_at_ << "\n";
        }
      }
      fs::rename(tmp, file);
    }
    dirty_.clear();
  }

  const std::vector<Row>& rows() const { return rows_; }

 private:
  std::string phrase(int rating) {
    static const char* kGood[] = {"Dr. Chen was wonderful and the nurses were kind",
                                  "Front desk staff were friendly and the wait was short",
                                  "Great care, easy parking and a very clean office",
                                  "They called back the same day with my results, thank you"};
    static const char* kBad[] = {"Waited two hours and the front desk was rude",
                                 "Billing was a nightmare, they charged me twice",
                                 "Nobody ever called back with my results",
                                 "The nurse was dismissive and the room was dirty"};
    return rating <= 2 ? kBad[rng_() % 4] : kGood[rng_() % 4];
  }

  fs::path dir_;
  std::mt19937& rng_;
  std::vector<Row> rows_;
  std::set<size_t> dirty_;
  int edits_ = 0;
  int64_t created_at_ = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
};

std::string config_text(const fs::path& dir, const std::string& smtp_url) {
  std::string t = "state_dir = \"" + (dir / "state").string() + "\"\n" +
                  "[[locations]]\nid = \"downtown\"\nname = \"Downtown Family Practice\"\n"
                  "[[sources]]\nid = \"export\"\ntype = \"file\"\nlocation = \"downtown\"\n"
                  "path = \"" +
                  (dir / "import").string() +
                  "\"\n"
                  "[alerts]\nmarketing = [\"marketing@clinic.example\"]\n"
                  "alert_on_first_sync = true\nmax_emails_per_hour = 0\n";
  if (!smtp_url.empty())
    t += "[smtp]\nurl = \"" + smtp_url + "\"\nstarttls = \"off\"\ntimeout = \"10s\"\n";
  return t;
}

int64_t scalar(const repwatch::db::Database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  return st.step() ? st.column_int(0) : 0;
}

// The invariants that must hold after every kill (see the header comment).
void check_after_kill(const fs::path& db_file, int cycle) {
  if (!fs::exists(db_file)) return;  // killed before the database was created
  SCOPED_TRACE("after kill in cycle " + std::to_string(cycle));
  auto db = repwatch::db::Database::open(db_file);
  {
    auto st = db.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.column_text(0), "ok");
  }
  if (scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'alert_deliveries'") == 0)
    return;  // killed during the migrations
  EXPECT_EQ(scalar(db,
                   "SELECT count(*) FROM (SELECT 1 FROM reviews GROUP BY source_id, "
                   "external_id HAVING count(*) > 1)"),
            0);
  // Negative reviews: exactly one alert; positive ones: none.
  EXPECT_EQ(scalar(db,
                   "SELECT count(*) FROM reviews r WHERE (SELECT count(*) FROM alerts a WHERE "
                   "a.review_id = r.id) != (CASE WHEN r.rating <= 2 THEN 1 ELSE 0 END)"),
            0);
  EXPECT_EQ(scalar(db,
                   "SELECT count(*) FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM "
                   "alert_deliveries d WHERE d.alert_id = a.id)"),
            0);
  EXPECT_EQ(scalar(db,
                   "SELECT count(*) FROM (SELECT 1 FROM alerts GROUP BY dedupe_key "
                   "HAVING count(*) > 1)"),
            0);
}

// The final state against the export.
void check_reviews_match(const fs::path& db_file, const Export& exp) {
  auto db = repwatch::db::Database::open(db_file, repwatch::db::Database::Mode::kReadOnly);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM reviews"), static_cast<int64_t>(exp.rows().size()));
  auto st = db.prepare("SELECT text, raw_rating FROM reviews WHERE external_id = ?1");
  int wrong = 0;
  for (const auto& row : exp.rows()) {
    st.reset();
    st.bind(1, row.id);
    if (!st.step()) {
      if (++wrong < 5) ADD_FAILURE() << "review " << row.id << " is missing";
      continue;
    }
    if (st.column_text(0) != row.text || st.column_double(1) != row.rating) {
      if (++wrong < 5)
        ADD_FAILURE() << "review " << row.id << " is \"" << st.column_text(0) << "\" ("
                      << st.column_double(1) << "), expected \"" << row.text << "\" (" << row.rating
                      << ")";
    }
  }
  EXPECT_EQ(wrong, 0);
  int negative = 0;
  for (const auto& row : exp.rows()) negative += row.rating <= 2;
  EXPECT_EQ(scalar(db, "SELECT count(DISTINCT review_id) FROM alerts"), negative);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM alerts"), negative);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM alert_deliveries WHERE status != 'sent'"), 0);
}

// Deliveries claimed by a killed sender stay leased until the lease runs out (5 minutes and
// more, see alerts/sender.cpp); the test does not wait that long: it expires them, as the
// clock would.
void expire_leases(const fs::path& db_file) {
  auto db = repwatch::db::Database::open(db_file);
  db.exec("UPDATE alert_deliveries SET lease_until = NULL WHERE status = 'pending'");
}

struct KillStats {
  int kills = 0;
  int completed = 0;
  int during_sending = 0;  // killed while alerts were going out (last log line: a delivery)
  int during_poll = 0;     // killed before the poll was stored (while starting or polling)
  int other = 0;           // killed after the poll was stored, between deliveries
};

std::string describe(const KillStats& s) {
  return std::to_string(s.kills) + " kills (" + std::to_string(s.during_poll) +
         " before the poll was stored, " + std::to_string(s.other) + " after it, " +
         std::to_string(s.during_sending) + " while delivering alerts), " +
         std::to_string(s.completed) + " runs completed";
}

// Runs cycles of edit - start - (maybe) kill - check until `target` kills happened.
KillStats kill_loop(const fs::path& dir, Export& exp, int target, int initial_upper_ms,
                    std::mt19937& rng) {
  KillStats stats;
  const fs::path config = dir / "repwatch.toml";
  const fs::path db_file = dir / "state" / "repwatch.db";
  int upper_ms = initial_upper_ms;
  for (int cycle = 0; stats.kills < target && cycle < target * 4; ++cycle) {
    if (cycle > 0) {
      exp.add(static_cast<int>(rng() % 60));
      exp.edit(static_cast<int>(rng() % 4));
      exp.write();
    }
    // Half the kills anywhere in a run, half in its second half (where the alerts go out).
    int lo = rng() % 2 ? 0 : upper_ms / 2;
    auto delay = std::chrono::milliseconds(5 + lo + static_cast<int>(rng() % (upper_ms - lo)));
    RunResult r = run_process({repwatch::testing::daemon_binary().string(), "--config",
                               config.string(), "--once", "--log-level", "info"},
                              delay);
    if (r.killed) {
      ++stats.kills;
      // Where it died: after its last log line.
      std::string out = r.output;
      while (!out.empty() && out.back() == '\n') out.pop_back();
      std::string last = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n'));
      if (last.find("alert delivery ") != std::string::npos) {
        ++stats.during_sending;
      } else if (r.output.find("source export: ") == std::string::npos) {
        ++stats.during_poll;
        upper_ms = upper_ms * 5 / 4;  // runs grow while polls fail: aim later
      } else {
        ++stats.other;
      }
    } else {
      ++stats.completed;
      EXPECT_TRUE(r.exit_code == 0) << "repwatchd --once exited " << r.exit_code << "\n"
                                    << r.output.substr(0, 4000);
      // Aim the next kills inside a run of this length.
      upper_ms = std::max(50, static_cast<int>(r.took.count() * 11 / 10));
    }
    check_after_kill(db_file, cycle);
    if (::testing::Test::HasFatalFailure()) break;
  }
  return stats;
}

// Clean runs until the outbox is empty (one --once run delivers at most 500 alerts).
RunResult final_run(const fs::path& dir) {
  const fs::path db_file = dir / "state" / "repwatch.db";
  expire_leases(db_file);
  RunResult r;
  for (int i = 0; i < 50; ++i) {
    r = run_process({repwatch::testing::daemon_binary().string(), "--config",
                     (dir / "repwatch.toml").string(), "--once"});
    if (r.exit_code != 0) break;
    auto db = repwatch::db::Database::open(db_file, repwatch::db::Database::Mode::kReadOnly);
    if (scalar(db, "SELECT count(*) FROM alert_deliveries WHERE status = 'pending'") == 0) break;
  }
  return r;
}

std::string header_value(const std::string& message, const std::string& name) {
  size_t end = message.find("\r\n\r\n");
  std::string head = message.substr(0, end);
  std::string key = "\r\n" + name + ": ";
  size_t p = ("\r\n" + head).find(key);
  if (p == std::string::npos) return "";
  p += key.size() - 2;
  size_t e = head.find("\r\n", p);
  return head.substr(p, e == std::string::npos ? std::string::npos : e - p);
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(repwatch::testing::daemon_binary()))
      GTEST_SKIP() << repwatch::testing::daemon_binary() << " is not built";
    std::cout << "REPWATCH_CRASH_SEED=" << seed() << "\n";
  }
};

// A first sync large enough to come in parts drops the indexes on created_at after its first
// part and builds them when it ends (db::drop_time_indexes). Killed in between, the store has
// none of them; the next start builds them, and the import resumes without loss or duplicates.
TEST_F(CrashTest, AnImportKilledWhileItsTimeIndexesAreDroppedResumesAndBuildsThem) {
  std::mt19937 rng(seed());
  TempDir dir;
  fs::create_directories(dir.path() / "import");
  {
    std::ofstream(dir.path() / "repwatch.toml")
        << "state_dir = \"" << (dir.path() / "state").string()
        << "\"\n[[locations]]\nid = \"downtown\"\nname = \"Downtown\"\n[[sources]]\n"
           "id = \"export\"\ntype = \"file\"\nlocation = \"downtown\"\npath = \""
        << (dir.path() / "import").string() << "\"\n";
  }
  Export exp(dir.path() / "import", rng);
  exp.add(25000);  // three parts of at most 10,000
  exp.write();
  const fs::path db_file = dir.path() / "state" / "repwatch.db";
  const std::string kTimeIndexes =
      "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
      "('reviews_by_created', 'reviews_by_location', 'reviews_by_source', "
      "'reviews_unanswered_negative')";
  const std::vector<std::string> once = {repwatch::testing::daemon_binary().string(), "--config",
                                         (dir.path() / "repwatch.toml").string(), "--once"};

  // Killed as soon as the store has reviews and no time index.
  std::optional<repwatch::db::Database> watch;
  auto dropped = [&] {
    try {
      if (!watch) {
        if (!fs::exists(db_file)) return false;
        watch.emplace(
            repwatch::db::Database::open(db_file, repwatch::db::Database::Mode::kReadOnly));
      }
      return scalar(*watch, "SELECT count(*) FROM sqlite_master WHERE name = 'reviews'") == 1 &&
             scalar(*watch, kTimeIndexes) == 0;
    } catch (const std::exception&) {
      watch.reset();  // created or migrated meanwhile: look again
      return false;
    }
  };
  RunResult first = run_process_until(once, dropped);
  watch.reset();
  ASSERT_TRUE(first.killed) << "the import ended before its indexes were seen dropped:\n"
                            << first.output.substr(0, 4000);
  {
    auto db = repwatch::db::Database::open(db_file, repwatch::db::Database::Mode::kReadOnly);
    EXPECT_EQ(scalar(db, kTimeIndexes), 0);
    const int64_t stored = scalar(db, "SELECT count(*) FROM reviews");
    EXPECT_GE(stored, 10000);  // the first part, at least
    EXPECT_LT(stored, 25000);
    std::cout << "killed with " << stored << " reviews stored and no index on created_at\n";
  }

  RunResult second = run_process(once);
  ASSERT_EQ(second.exit_code, 0) << second.output.substr(0, 4000);
  auto db = repwatch::db::Database::open(db_file, repwatch::db::Database::Mode::kReadOnly);
  EXPECT_EQ(scalar(db, kTimeIndexes), 4);
  auto check = db.prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.column_text(0), "ok");
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM reviews"), 25000);
  EXPECT_EQ(scalar(db,
                   "SELECT count(*) FROM (SELECT 1 FROM reviews GROUP BY source_id, "
                   "external_id HAVING count(*) > 1)"),
            0);
  // The rebuilt index answers like the table.
  EXPECT_EQ(scalar(db,
                   "SELECT count(*) FROM reviews INDEXED BY reviews_by_source "
                   "WHERE source_id = 'export' AND created_at > 0"),
            25000);
}

TEST_F(CrashTest, KillsDuringPollsAndEmlDeliveryLoseAndDuplicateNothing) {
  const int target = env_int("REPWATCH_CRASH_KILLS", 200) * 3 / 4;
  std::mt19937 rng(seed());
  TempDir dir;
  fs::create_directories(dir.path() / "import");
  { std::ofstream(dir.path() / "repwatch.toml") << config_text(dir.path(), ""); }
  Export exp(dir.path() / "import", rng);
  exp.add(2000);
  exp.write();

  KillStats s = kill_loop(dir.path(), exp, target, 2000, rng);
  std::cout << "eml: " << describe(s) << ", " << exp.rows().size() << " reviews\n";
  EXPECT_GE(s.kills, target);

  RunResult last = final_run(dir.path());
  ASSERT_EQ(last.exit_code, 0) << last.output.substr(0, 4000);
  const fs::path db_file = dir.path() / "state" / "repwatch.db";
  check_after_kill(db_file, -1);
  check_reviews_match(db_file, exp);

  // One .eml per delivery, with that delivery's Message-ID; no temporary files left.
  auto db = repwatch::db::Database::open(db_file, repwatch::db::Database::Mode::kReadOnly);
  std::map<std::string, std::string> expected;  // file name -> message id
  auto st = db.prepare("SELECT alert_id, id, message_id FROM alert_deliveries");
  while (st.step())
    expected["alert-" + std::to_string(st.column_int(0)) + "-delivery-" +
             std::to_string(st.column_int(1)) + ".eml"] = st.column_text(2);
  std::set<std::string> ids;
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path() / "state" / "outbox-eml")) {
    std::string name = e.path().filename().string();
    EXPECT_TRUE(expected.count(name)) << "unexpected file " << name;
    if (!expected.count(name)) continue;
    ++files;
    std::string mid = header_value(repwatch::testing::slurp(e.path()), "Message-ID");
    EXPECT_EQ(mid, expected[name]) << name;
    EXPECT_TRUE(ids.insert(mid).second) << "Message-ID " << mid << " in two files";
  }
  EXPECT_EQ(files, static_cast<int>(expected.size()));
}

TEST_F(CrashTest, KillsDuringSmtpDeliveryResendAtMostOncePerMessage) {
  const int target =
      env_int("REPWATCH_CRASH_KILLS", 200) - env_int("REPWATCH_CRASH_KILLS", 200) * 3 / 4;
  std::mt19937 rng(seed() ^ 0x5eed);
  TempDir dir;
  fs::create_directories(dir.path() / "import");
  repwatch::testing::FixtureProcess smtp("smtp_server.py",
                                         {"--dir", (dir.path() / "smtp").string()});
  smtp.start();
  {
    std::ofstream(dir.path() / "repwatch.toml")
        << config_text(dir.path(), "smtp://127.0.0.1:" + std::to_string(smtp.port()));
  }
  Export exp(dir.path() / "import", rng);
  exp.add(300);
  exp.write();

  KillStats s = kill_loop(dir.path(), exp, target, 1500, rng);
  std::cout << "smtp: " << describe(s) << ", " << exp.rows().size() << " reviews\n";
  EXPECT_GE(s.kills, target);

  RunResult last = final_run(dir.path());
  ASSERT_EQ(last.exit_code, 0) << last.output.substr(0, 4000);
  const fs::path db_file = dir.path() / "state" / "repwatch.db";
  check_after_kill(db_file, -1);
  check_reviews_match(db_file, exp);

  auto db = repwatch::db::Database::open(db_file, repwatch::db::Database::Mode::kReadOnly);
  std::set<std::string> sent;
  auto st = db.prepare("SELECT message_id FROM alert_deliveries");
  while (st.step()) sent.insert(st.column_text(0));
  std::map<std::string, int> received;
  for (const auto& m : repwatch::testing::received_messages(dir.path() / "smtp")) {
    EXPECT_EQ(m.error, "") << m.file;
    received[m.message_id]++;
  }
  int duplicates = 0;
  for (const auto& id : sent) {
    int n = received.count(id) ? received[id] : 0;
    EXPECT_GE(n, 1) << id << " never arrived";
    EXPECT_LE(n, 2) << id << " arrived " << n << " times";
    duplicates += std::max(0, n - 1);
  }
  for (const auto& [id, n] : received) EXPECT_TRUE(sent.count(id)) << "unknown message " << id;
  std::cout << "smtp: " << sent.size() << " deliveries, " << duplicates
            << " resent after a kill (same Message-ID)\n";
  EXPECT_LE(duplicates, s.kills);  // at most one message in flight per kill
}

}  // namespace
