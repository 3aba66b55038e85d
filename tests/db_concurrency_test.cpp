// db/: the CLI reads while the daemon writes (WAL) without "database is locked".
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "core/error.h"
#include "db/store.h"
#include "tests/fixtures/temp_dir.h"

using namespace repwatch;
using namespace repwatch::db;
namespace fs = std::filesystem;

namespace {

using repwatch::testing::TempDir;

Review make_review(int n) {
  Review r;
  r.source_id = "google-downtown";
  r.external_id = "r" + std::to_string(n);
  r.location_id = "downtown";
  r.author = "Patient " + std::to_string(n);
  r.raw_rating = 1 + n % 5;
  r.rating = r.raw_rating;
  r.text = "The front desk was " + std::string(n % 2 ? "rude" : "friendly") +
           " and the wait was long, visit number " + std::to_string(n);
  r.created_at = 1700000000 + n * 3600;
  r.updated_at = r.created_at;
  return r;
}

Analysis make_analysis(int n) {
  Analysis a;
  a.score = n % 2 ? -0.5 : 0.5;
  a.label = n % 2 ? Label::kNegative : Label::kPositive;
  a.touchpoints = {{"front_desk", a.score, {{"front desk", 4, 10}}},
                   {"wait_time", -0.3, {{"wait was long", 38, 13}}}};
  return a;
}

}  // namespace

TEST(Concurrency, ReaderQueriesWhileWriterCommitsWithoutLocking) {
  TempDir dir;
  fs::path file = dir.path() / "repwatch.db";
  Database writer_db = open_store(file);
  ReviewStore store(writer_db);
  store.ensure_source("google-downtown", "google_business", "downtown", 1);

  constexpr int kTransactions = 150;
  constexpr int kPerTransaction = 20;
  std::atomic<bool> writer_done{false};
  std::atomic<int> committed{0};
  std::string reader_error;
  int reads = 0, reads_during_writes = 0;

  std::thread reader([&] {
    try {
      Database db = Database::open(file, Database::Mode::kReadOnly);
      // No busy waiting: under a rollback journal the writer's lock would fail this at once
      // with SQLITE_BUSY; under WAL a reader never waits for the writer.
      sqlite3_busy_timeout(db.handle(), 0);
      Statement count = db.prepare("SELECT count(*) FROM reviews");
      Statement recent = db.prepare(
          "SELECT r.id, r.text, r.rating, a.score FROM reviews r JOIN analyses a ON a.review_id "
          "= r.id WHERE r.location_id = 'downtown' ORDER BY r.created_at DESC LIMIT 50");
      Statement touch = db.prepare(
          "SELECT touchpoint, count(*), avg(score) FROM touchpoint_hits GROUP BY touchpoint");
      int64_t last = 0;
      // Bounded: stops when the writer is done, or after a generous number of rounds.
      for (int i = 0; i < 200000 && !writer_done.load(); ++i) {
        int before = committed.load();
        // A read transaction spanning several queries sees one consistent snapshot.
        db.exec("BEGIN");
        ASSERT_TRUE(count.step());
        int64_t n = count.column_int(0);
        count.reset();
        while (recent.step()) {
        }
        recent.reset();
        int64_t hits = 0;
        while (touch.step()) hits += touch.column_int(1);
        touch.reset();
        db.exec("COMMIT");
        ASSERT_EQ(n % kPerTransaction, 0) << "saw a half-committed transaction";
        ASSERT_EQ(hits, 2 * n) << "touchpoints not in the same snapshot as their reviews";
        ASSERT_GE(n, last) << "a later read saw fewer reviews";
        ASSERT_GE(n, int64_t{before} * kPerTransaction);
        last = n;
        ++reads;
        if (before > 0 && before < kTransactions) ++reads_during_writes;
      }
    } catch (const std::exception& e) {
      reader_error = e.what();
    }
  });

  std::string writer_error;
  try {
    for (int t = 0; t < kTransactions; ++t) {
      Transaction tx(writer_db);
      for (int i = 0; i < kPerTransaction; ++i) {
        int n = t * kPerTransaction + i;
        store.upsert(make_review(n), make_analysis(n), 1000 + t);
      }
      store.record_success("google-downtown", "cursor-" + std::to_string(t), 1000 + t,
                           std::nullopt);
      tx.commit();
      committed.store(t + 1);
    }
  } catch (const std::exception& e) {
    writer_error = e.what();
  }
  writer_done.store(true);
  reader.join();

  EXPECT_EQ(writer_error, "");
  EXPECT_EQ(reader_error, "");
  EXPECT_EQ(store.count_reviews(), kTransactions * kPerTransaction);
  EXPECT_GT(reads, 0);
  EXPECT_GT(reads_during_writes, 5) << "the reader did not overlap the writer";
  std::cout << "reads: " << reads << ", while writing: " << reads_during_writes << "\n";
}
