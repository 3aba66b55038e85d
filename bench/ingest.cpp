// bench/ingest - end-to-end ingest speed against sqlite3's own CSV .import.
//
//   build/bench/ingest [--n 1000000] [--dir DIR] [--keep] [--no-baseline]
//
// Generates N synthetic clinic reviews as a CSV export (a file source), then runs the same path
// as `repwatchd --once`: file connector -> normalize -> analyze -> store_poll, in parts (each
// part one transaction; a worker thread scores the next part while this one stores)
// into a fresh database, and reports reviews/second. Next to it: the time the sqlite3 CLI takes
// to .import the same CSV into a plain table, and the ratio of the two. Target: within 3x.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "connectors/connector.h"
#include "core/time.h"
#include "db/query_index.h"
#include "db/store.h"
#include "pipeline/pipeline.h"
#include "sentiment/analyzer.h"

using namespace repwatch;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- synthetic reviews ------------------------------------------------------------------

const std::vector<std::string_view> kPositive = {
    "Dr. Patel took the time to listen and explained everything clearly.",
    "The front desk staff were friendly and checked me in quickly.",
    "I was seen within ten minutes of my appointment time.",
    "The nurses were kind, gentle and very professional.",
    "Scheduling an appointment online through the portal was easy.",
    "The office is spotless and the waiting room is comfortable.",
    "They called back the same day with my lab results.",
    "Billing was straightforward and they handled my insurance without any trouble.",
    "Parking was easy and the building is accessible.",
    "The telehealth visit worked perfectly and saved me a trip.",
    "My prescription was sent to the pharmacy right away.",
    "No pain at all during the procedure, highly recommend this clinic.",
    "Best pediatric practice we have been to, the doctor is wonderful with kids.",
    "The physician assistant was thorough and answered all of my questions.",
    "Great experience overall, I would recommend them to friends and family.",
};

const std::vector<std::string_view> kNegative = {
    "We waited 2 hours past our appointment time and nobody told us why.",
    "The receptionist was extremely rude and refused to help with my paperwork.",
    "I called five times and never got a call back about my test results.",
    "The billing department charged me twice and the insurance claim was denied.",
    "The doctor seemed rushed and did not listen to my concerns.",
    "It is impossible to get an appointment, the next opening is in three months.",
    "The patient portal never works and messages go unanswered for weeks.",
    "The exam room was dirty and the restroom was out of order.",
    "Parking is a nightmare and the garage is always full.",
    "My prescription refill was lost twice and the pharmacy never received it.",
    "The nurse was not friendly and the blood draw was very painful.",
    "They shared my information with my employer without asking, a privacy violation.",
    "The referral to the specialist took six weeks and I had to follow up myself.",
    "Phone lines are always busy and the hold music goes on forever.",
    "Front desk lost my insurance card and then blamed me for it.",
};

const std::vector<std::string_view> kNeutral = {
    "I came in for my annual physical.",
    "This was my second visit to this location.",
    "The clinic is on the second floor of the medical building.",
    "I brought my daughter in for her vaccinations.",
    "We switched to this practice after moving to the area.",
    "The visit itself took about twenty minutes.",
    "They asked me to arrive fifteen minutes early to fill out forms.",
};

const std::vector<std::string_view> kFirst = {"Maria",  "James", "Linh", "Ahmed",  "Sarah",
                                              "Carlos", "Priya", "John", "Fatima", "Olga",
                                              "Kevin",  "Aisha", "Tom",  "Mei",    "Diego"};

void csv_field(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// Writes N reviews as CSV: external_id,author,rating,text,created_at,reply_text,url.
// Ratings skew positive like real review sites; texts are 0-8 sentences (about 60-700 chars).
void generate_csv(const fs::path& file, int64_t n) {
  std::mt19937_64 rng(20260301);
  std::ofstream out(file, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + file.string());
  std::string buf;
  buf.reserve(1 << 20);
  buf += "external_id,author,rating,text,created_at,reply_text,url\n";
  const int64_t start = 1640995200;  // 2022-01-01
  std::discrete_distribution<int> stars({12, 6, 8, 20, 54});
  std::discrete_distribution<int> sentences({3, 22, 25, 20, 12, 8, 5, 3, 2});
  std::string text;
  for (int64_t i = 0; i < n; ++i) {
    int rating = stars(rng) + 1;
    int count = sentences(rng);
    text.clear();
    for (int s = 0; s < count; ++s) {
      int roll = static_cast<int>(rng() % 100);
      // Mostly in line with the rating, with mixed reviews ("great doctor but billing...").
      int positive_share = rating >= 4 ? 80 : rating == 3 ? 45 : 12;
      const auto& pool = roll < 15                               ? kNeutral
                         : roll < 15 + positive_share * 85 / 100 ? kPositive
                                                                 : kNegative;
      if (!text.empty()) text += s % 3 == 2 ? " But " : " ";
      text += pool[rng() % pool.size()];
    }
    char id[32];
    std::snprintf(id, sizeof id, "hg-%09lld", static_cast<long long>(i));
    buf += id;
    buf += ',';
    buf += kFirst[rng() % kFirst.size()];
    buf += ' ';
    buf += static_cast<char>('A' + rng() % 26);
    buf += ".,";
    buf += std::to_string(rating);
    buf += ',';
    csv_field(buf, text);
    buf += ',';
    buf += format_timestamp(start + static_cast<int64_t>(rng() % (3 * 365 * 86400)));
    buf += ',';
    if (rng() % 10 == 0) csv_field(buf, "Thank you for your feedback, please call our office.");
    buf += ",https://www.healthgrades.example/review/";
    buf += id;
    buf += '\n';
    if (buf.size() > (1 << 20) - 4096) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
}

// CPU time of the calling thread (user + system).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

double cpu_seconds(int who) {
  rusage ru{};
  getrusage(who, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---- the sqlite3 .import baseline -------------------------------------------------------

// Runs `sqlite3 DB < SCRIPT`; returns its wall time in seconds, or a negative value on failure.
// `cpu` receives the child's CPU time (user + system).
double time_sqlite3_import(const fs::path& dir, const fs::path& csv, bool unique_index,
                           double& cpu) {
  fs::path db = dir / (unique_index ? "import-unique.db" : "import-plain.db");
  fs::remove(db);
  fs::path script = dir / "import.sql";
  {
    std::ofstream s(script);
    s << "CREATE TABLE reviews(external_id TEXT" << (unique_index ? " UNIQUE" : "")
      << ", author TEXT, rating REAL, text TEXT, created_at TEXT, reply_text TEXT, url TEXT);\n"
      << ".import --csv --skip 1 '" << csv.string() << "' reviews\n";
  }
  auto t0 = Clock::now();
  double cpu0 = cpu_seconds(RUSAGE_CHILDREN);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    FILE* in = std::freopen(script.c_str(), "r", stdin);
    if (!in) _exit(127);
    execlp("sqlite3", "sqlite3", "-bail", db.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  double took = seconds_since(t0);
  cpu = cpu_seconds(RUSAGE_CHILDREN) - cpu0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return took;
}

// Removes a SQLite database and its WAL and shared-memory files.
void remove_database(const fs::path& db) {
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db.string() + ext);
}

// The bytes of a SQLite database on disk with its write-ahead log, checkpointed first.
uintmax_t database_bytes(const fs::path& db) {
  {
    db::Database d = db::Database::open(db);
    d.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  uintmax_t bytes = 0;
  for (const char* ext : {"", "-wal"}) {
    std::error_code ec;
    auto n = fs::file_size(db.string() + ext, ec);
    if (!ec) bytes += n;
  }
  return bytes;
}

long peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

void usage() {
  std::cerr << "usage: ingest [--n N] [--dir DIR] [--keep] [--no-baseline]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1000000;
  fs::path dir;
  bool keep = false, baseline = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--n" && i + 1 < argc) {
      n = std::atoll(argv[++i]);
      if (n <= 0) usage();
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--no-baseline") {
      baseline = false;
    } else {
      usage();
    }
  }
  bool own_dir = dir.empty();
  if (own_dir) {
    std::string tmpl = (fs::temp_directory_path() / "rw-ingest-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  fs::create_directories(dir / "import");
  fs::create_directories(dir / "state");
  remove_database(dir / "state" / "repwatch.db");
  const fs::path csv = dir / "import" / "reviews.csv";

  try {
    auto t0 = Clock::now();
    generate_csv(csv, n);
    std::printf("generated %lld reviews (%.1f MB CSV) in %.1f s: %s\n", static_cast<long long>(n),
                fs::file_size(csv) / 1e6, seconds_since(t0), csv.c_str());

    Config config = parse_config(
        "state_dir = \"" + (dir / "state").string() +
            "\"\n"
            "[[locations]]\nid = \"northside\"\nname = \"Northside Family Medicine\"\n"
            "[[sources]]\nid = \"healthgrades\"\ntype = \"file\"\nlocation = \"northside\"\n"
            "path = \"" +
            (dir / "import").string() + "\"\nscale = \"1-5\"\n",
        dir / "bench.toml");
    const SourceConfig& source = config.sources.at(0);
    sentiment::Analyzer analyzer = sentiment::Analyzer::builtin();

    // The real path, as `repwatchd --once` runs it.
    auto start = Clock::now();
    double cpu_start = cpu_seconds(RUSAGE_SELF);
    db::Database db = db::open_store(config.database);
    db::ReviewStore store(db);
    store.ensure_location("northside", "Northside Family Medicine");
    auto connector = connectors::make_connector(source, config);
    double first_part = 0;
    long fetched_rss = 0;
    pipeline::PollOutcome out;
    double store_thread_cpu = 0, worker_thread_cpu = 0;
    {
      // As the daemon runs it: a worker thread fetches and scores the poll in parts
      // (pipeline::kPartSize reviews each), this thread stores each part as it comes.
      std::promise<pipeline::Fetched> first;
      std::thread producer([&] {
        const double c0 = thread_cpu_seconds();
        struct Account {
          double c0;
          double& out;
          ~Account() { out = thread_cpu_seconds() - c0; }
        } account{c0, worker_thread_cpu};
        try {
          pipeline::fetch_and_score_streamed(
              *connector, source, "", analyzer, pipeline::kPartSize,
              [&](pipeline::Fetched&& f) { first.set_value(std::move(f)); });
        } catch (...) {
          first.set_exception(std::current_exception());
        }
      });
      const double store_c0 = thread_cpu_seconds();
      pipeline::Fetched fetched = first.get_future().get();
      first_part = seconds_since(start);
      fetched_rss = peak_rss_mb();
      out = pipeline::store_poll(store, source, std::move(fetched), {}, now_seconds());
      store_thread_cpu = thread_cpu_seconds() - store_c0;
      producer.join();
    }
    double stored = seconds_since(start);
    double total = seconds_since(start);
    double total_cpu = cpu_seconds(RUSAGE_SELF) - cpu_start;
    if (!out.ok) {
      std::fprintf(stderr, "ingest failed: %s\n", out.error.c_str());
      return 1;
    }
    if (store.count_reviews() != n) {
      std::fprintf(stderr, "stored %lld reviews, expected %lld\n",
                   static_cast<long long>(store.count_reviews()), static_cast<long long>(n));
      return 1;
    }
    std::error_code wal_ec;
    const auto wal_bytes = fs::file_size(config.database.string() + "-wal", wal_ec);
    const double store_bytes = static_cast<double>(database_bytes(config.database));
    std::printf(
        "repwatch ingest: %lld reviews in %.2f s wall (%.2f s CPU) = %.0f reviews/s\n"
        "  in parts of %zu: the first part scored after %.2f s, the poll stored after %.2f s; "
        "%zu problems; peak RSS %ld MB (%ld MB at the first part)\n"
        "  store: %.1f MB = %.0f bytes per review (before the query index); its write-ahead "
        "log at the end of the poll: %.1f MB\n"
        "  CPU by thread: storing %.2f s (of %.2f s wall), fetching and scoring %.2f s (its "
        "own thread; scoring helpers not counted)\n",
        static_cast<long long>(n), total, total_cpu, n / total, pipeline::kPartSize, first_part,
        stored, out.problems.size(), peak_rss_mb(), fetched_rss, store_bytes / 1e6,
        store_bytes / static_cast<double>(n), wal_ec ? 0.0 : static_cast<double>(wal_bytes) / 1e6,
        store_thread_cpu, total, worker_thread_cpu);

    // Phase split, measured separately on a fresh connector, part by part (single-threaded).
    {
      auto c2 = connectors::make_connector(source, config);
      double parse = 0, analyze = 0;
      auto t = Clock::now();
      c2->fetch_parts("", pipeline::kPartSize, [&](connectors::FetchResult&& part) {
        parse += seconds_since(t);
        auto a0 = Clock::now();
        for (const Review& rv : part.reviews) {
          Analysis a = analyzer.analyze(rv.text);
          (void)a;
        }
        analyze += seconds_since(a0);
        t = Clock::now();
      });
      std::printf("  phases: parse %.2f s, analyze %.2f s (one thread each), store %.2f s\n", parse,
                  analyze, stored);
    }

    // What the daemon does after the poll, off the ingest path (db/query_index.h): fold the new
    // reviews into the CLI's aggregates and full-text index, in batches. Not part of the ingest
    // figure above (the CLI answers exactly without it, only slower); printed so that the whole
    // cost of a first sync is on the page.
    {
      auto t = Clock::now();
      double c0 = cpu_seconds(RUSAGE_SELF);
      while (db::refresh_query_index(db, now_seconds()) > 0) {
      }
      std::printf(
          "  afterwards, off the ingest path: query index (aggregates + FTS5) %.2f s wall "
          "(%.2f s CPU)\n",
          seconds_since(t), cpu_seconds(RUSAGE_SELF) - c0);
    }

    // A second poll of the unchanged directory: the file is not read again.
    {
      auto t = Clock::now();
      std::string cursor = store.poll_state(source.id).cursor;
      auto again = pipeline::store_poll(
          store, source, pipeline::fetch_and_score(*connector, source, cursor, analyzer), {},
          now_seconds());
      std::printf("  second poll (unchanged files): %d fetched, %.3f s\n", again.fetched,
                  seconds_since(t));
    }

    // The SQL floor: the very rows just stored, copied by SQL alone (INSERT ... SELECT from
    // in-memory copies) into a fresh database with repwatch's schema and settings - what SQLite
    // itself needs to keep them there, with no parsing, scoring or C++ in the way. repwatch's
    // store cannot be faster than this; the difference is what the C++ side costs.
    double floor_took = -1;
    const fs::path floor_db = dir / "state" / "floor.db";
    {
      remove_database(floor_db);
      db::Database f = db::open_store(floor_db);
      f.exec("ATTACH '" + config.database.string() + "' AS src");
      f.exec(
          "INSERT INTO locations SELECT * FROM src.locations;"
          "INSERT INTO sources SELECT * FROM src.sources;"
          "CREATE TEMP TABLE r AS SELECT * FROM src.reviews ORDER BY id;"
          "CREATE TEMP TABLE a AS SELECT * FROM src.analyses ORDER BY review_id;"
          "CREATE TEMP TABLE h AS SELECT * FROM src.touchpoint_hits ORDER BY review_id, ord;"
          "DETACH src");
      auto t = Clock::now();
      double c0 = cpu_seconds(RUSAGE_SELF);
      auto timed = [&f](const char* sql) {
        auto t0 = Clock::now();
        f.exec(sql);
        return seconds_since(t0);
      };
      f.exec("BEGIN");
      double s_reviews = timed("INSERT INTO main.reviews SELECT * FROM temp.r");
      double s_analyses = timed("INSERT INTO main.analyses SELECT * FROM temp.a");
      double s_hits = timed("INSERT INTO main.touchpoint_hits SELECT * FROM temp.h");
      double s_commit = timed("COMMIT");
      floor_took = seconds_since(t);
      std::printf(
          "SQL floor (the same rows copied by INSERT ... SELECT into repwatch's schema, no "
          "parsing or scoring): %.2f s wall (%.2f s CPU): reviews %.2f s, analyses %.2f s, "
          "touchpoint_hits %.2f s, commit %.2f s\n",
          floor_took, cpu_seconds(RUSAGE_SELF) - c0, s_reviews, s_analyses, s_hits, s_commit);
    }
    {
      const double floor_bytes = static_cast<double>(database_bytes(floor_db));
      std::printf(
          "  SQL floor's store: %.0f bytes per review; repwatch's store / the floor's: %.2fx "
          "bytes; repwatch's ingest / the floor: %.2fx wall\n",
          floor_bytes / static_cast<double>(n), store_bytes / floor_bytes, total / floor_took);
    }
    remove_database(floor_db);

    if (baseline) {
      double plain_cpu = 0, unique_cpu = 0;
      double plain = time_sqlite3_import(dir, csv, false, plain_cpu);
      double unique = time_sqlite3_import(dir, csv, true, unique_cpu);
      if (plain <= 0) {
        std::printf("sqlite3 .import baseline unavailable (is the sqlite3 CLI installed?)\n");
      } else {
        std::printf("sqlite3 .import into a plain table: %.2f s wall (%.2f s CPU) = %.0f rows/s\n",
                    plain, plain_cpu, n / plain);
        if (unique > 0)
          std::printf(
              "sqlite3 .import into a table with UNIQUE(external_id): %.2f s wall (%.2f s "
              "CPU)\n",
              unique, unique_cpu);
        double ratio = total / plain;
        std::printf("ratio repwatch / .import (plain): %.2fx wall, %.2fx CPU (target <= 3x: %s)\n",
                    ratio, total_cpu / plain_cpu, ratio <= 3.0 ? "met" : "NOT met");
        if (floor_took > 0)
          std::printf(
              "ratio SQL floor / .import (plain): %.2fx wall; repwatch / SQL floor: %.2fx wall\n",
              floor_took / plain, total / floor_took);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ingest: %s\n", e.what());
    if (own_dir && !keep) fs::remove_all(dir);
    return 1;
  }
  if (own_dir && !keep)
    fs::remove_all(dir);
  else
    std::printf("kept %s\n", dir.c_str());
  return 0;
}
