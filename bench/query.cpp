// bench/query: how fast the managers' CLI answers on years of reviews.
//
// Generates (once, then reuses) a database of N reviews (default 2,000,000) over 5 years, 20
// locations and 5 sources per location (google, yelp, healthgrades, facebook, survey: 100
// source ids), with touchpoint hits and evidence, by direct SQL inserts into the store's
// schema, in arrival order (ids follow time, as years of polling store them); folds them into
// the query index (db/query_index.h); then times
//
//   repwatch trends --by month | touchpoints | summary | search "parking"
//
// each as the median of several runs, in-process (run_cli() into a string: the command as a
// user runs it, minus exec) and as a process (the repwatch binary, output to /dev/null), next
// to the bare SQL for the same answer run by the sqlite3 CLI on the same file: over the same
// aggregate tables the command reads (its overhead), and naively over the reviews table.
//
//   build-cli/bench/query [--reviews N] [--db FILE] [--runs N] [--regenerate]
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "core/time.h"
#include "db/query_index.h"
#include "db/store.h"

extern char** environ;

namespace {

using namespace repwatch;
using Clock = std::chrono::steady_clock;

struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) / double(1ULL << 53); }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

// A sentence of a review: what it says about which touchpoint, with the evidence phrase.
struct Fragment {
  const char* text;
  const char* touchpoint;  // "" for none
  const char* evidence;    // a substring of text
  double score;
  int weight;
};

const Fragment kFragments[] = {
    {"The front desk staff were rude and dismissive.", "front_desk", "front desk staff", -0.6, 6},
    {"Check-in was quick and the receptionist was friendly.", "front_desk", "receptionist", 0.6, 8},
    {"Waited over an hour past my appointment time.", "wait_time", "Waited over an hour", -0.7, 8},
    {"I was seen right on time.", "wait_time", "on time", 0.5, 8},
    {"Parking was a nightmare and the lot was always full.", "parking_access", "Parking", -0.6, 2},
    {"Plenty of free parking right by the entrance.", "parking_access", "parking", 0.4, 2},
    {"Dr. Patel listened carefully and explained everything.", "physician", "Dr. Patel", 0.8, 12},
    {"The doctor seemed rushed and barely looked at me.", "physician", "doctor", -0.6, 5},
    {"The nurses were gentle and kind with my son.", "nurses_staff", "nurses", 0.7, 8},
    {"The nurse forgot to take my blood pressure.", "nurses_staff", "nurse", -0.4, 3},
    {"Billing sent me a surprise bill months later.", "billing", "surprise bill", -0.7, 5},
    {"They sorted out my insurance question right away.", "billing", "insurance", 0.5, 4},
    {"Nobody answers the phone, I was on hold for 40 minutes.", "phone", "on hold", -0.7, 6},
    {"They called back the same day.", "phone", "called back", 0.5, 4},
    {"Could not get an appointment for three weeks.", "scheduling", "appointment", -0.5, 6},
    {"Booking online took a minute.", "scheduling", "Booking", 0.5, 4},
    {"The waiting room was clean and bright.", "facility", "waiting room", 0.5, 5},
    {"The bathroom was dirty.", "facility", "bathroom", -0.6, 2},
    {"The patient portal keeps logging me out.", "online_telehealth", "patient portal", -0.5, 3},
    {"The video visit worked well.", "online_telehealth", "video visit", 0.5, 3},
    {"Still waiting for my lab results after two weeks.", "followup_results", "lab results", -0.6,
     4},
    {"They followed up with my results the next morning.", "followup_results", "results", 0.6, 3},
    {"My prescription refill was sent to the wrong pharmacy.", "prescriptions", "prescription",
     -0.6, 3},
    {"They discussed my diagnosis loudly at the front counter.", "privacy", "loudly", -0.6, 1},
    {"Highly recommend this practice.", "", "", 0.8, 10},
    {"Would not recommend.", "", "", -0.7, 4},
    {"Overall a good experience.", "", "", 0.5, 10},
};

int64_t g_now = 0;

struct Generated {
  double seconds = 0;
  double index_seconds = 0;
};

Generated generate(const std::filesystem::path& path, int64_t n) {
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  auto t0 = Clock::now();
  db::Database d = db::open_store(path);
  d.exec("PRAGMA synchronous=OFF");
  const char* types[] = {"google_business", "yelp", "healthgrades", "facebook", "file"};
  const char* scales[] = {"1-5", "1-5", "1-5", "binary", "0-10"};
  std::vector<std::string> source_ids, location_ids;
  {
    db::Transaction tx(d);
    auto loc = d.prepare("INSERT INTO locations(id, name) VALUES (?1, ?2)");
    auto src = d.prepare(
        "INSERT INTO sources(id, type, location_id, added_at, first_sync_at) VALUES (?1, ?2, ?3, "
        "?4, ?4)");
    auto poll = d.prepare(
        "INSERT INTO poll_state(source_id, cursor, last_attempt_at, last_success_at, "
        "consecutive_failures, next_poll_at) VALUES (?1, '', ?2, ?2, 0, ?3)");
    for (int l = 0; l < 20; ++l) {
      char id[32], name[64];
      std::snprintf(id, sizeof id, "loc%02d", l + 1);
      std::snprintf(name, sizeof name, "Clinic %02d", l + 1);
      loc.bind(1, id).bind(2, name).run();
      location_ids.push_back(id);
      for (int s = 0; s < 5; ++s) {
        std::string sid = std::string(types[s]) + "-" + id;
        src.bind(1, sid)
            .bind(2, types[s])
            .bind(3, id)
            .bind(4, int64_t{g_now - int64_t{5} * 365 * 86400})
            .run();
        poll.bind(1, sid).bind(2, g_now - 600).bind(3, g_now + 300).run();
        source_ids.push_back(sid);
      }
    }
    tx.commit();
  }
  int total_weight = 0;
  for (const auto& f : kFragments) total_weight += f.weight;
  Rng rng{42};
  auto review = d.prepare(
      "INSERT INTO reviews(id, source_id, external_id, location_id, author, raw_rating, scale, "
      "rating, text, created_at, updated_at, reply_text, content_hash, first_seen_at, "
      "last_seen_at, sentiment, label, negative) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
      "?10, ?11, ?12, ?10, ?10, ?13, ?14, ?15)");
  auto hit = d.prepare(
      "INSERT INTO touchpoint_hits(review_id, ord, touchpoint, score, evidence) VALUES (?1, ?2, "
      "?3, ?4, ?5)");
  const int64_t span = int64_t{5} * 365 * 86400;
  const int64_t batch = 100000;
  for (int64_t start = 0; start < n; start += batch) {
    db::Transaction tx(d);
    for (int64_t i = start; i < std::min(n, start + batch); ++i) {
      size_t src = rng.below(source_ids.size());
      int stype = static_cast<int>(src % 5);
      // In arrival order, as a daemon polling for five years stores them (ids follow time).
      int64_t created = g_now - span + (span * i) / n + static_cast<int64_t>(rng.below(600));
      int parts = 1 + static_cast<int>(rng.below(3));
      std::string text;
      double score_sum = 0;
      struct Hit {
        const Fragment* f;
        size_t offset;
      };
      std::vector<Hit> hits;
      for (int p = 0; p < parts; ++p) {
        int w = static_cast<int>(rng.below(total_weight));
        const Fragment* f = kFragments;
        while (w >= f->weight) w -= f->weight, ++f;
        if (!text.empty()) text += " ";
        size_t at = text.size();
        text += f->text;
        score_sum += f->score;
        if (*f->touchpoint && std::none_of(hits.begin(), hits.end(), [&](const Hit& h) {
              return !std::strcmp(h.f->touchpoint, f->touchpoint);
            }))
          hits.push_back({f, at + std::string_view(f->text).find(f->evidence)});
      }
      double sentiment = std::clamp(score_sum / parts + (rng.uniform() - 0.5) * 0.2, -1.0, 1.0);
      std::optional<double> raw, rating;
      if (rng.uniform() > 0.05) {
        double stars =
            std::clamp(std::round(3.2 + sentiment * 2.2 + (rng.uniform() - 0.5) * 1.4), 1.0, 5.0);
        if (stype == 3) {
          raw = stars >= 3 ? 1 : 0;
          rating = *raw ? 5.0 : 1.0;
        } else if (stype == 4) {
          raw = std::clamp(std::round((stars - 1) * 2.5 + (rng.uniform() - 0.5) * 2), 0.0, 10.0);
          rating = 1 + *raw * 0.4;
        } else {
          raw = rating = stars;
        }
      }
      bool negative = rating ? *rating <= 2 + 1e-9 : sentiment <= -0.3;
      const char* label = sentiment <= -0.05  ? "negative"
                          : sentiment >= 0.05 ? "positive"
                                              : "neutral";
      char ext[32];
      std::snprintf(ext, sizeof ext, "r%08lld", static_cast<long long>(i));
      review.bind(1, i + 1)
          .bind(2, source_ids[src])
          .bind(3, ext)
          .bind(4, location_ids[src / 5])
          .bind(5, "Patient " + std::to_string(rng.below(5000)))
          .bind(6, raw)
          .bind(7, scales[stype])
          .bind(8, rating)
          .bind(9, text)
          .bind(10, created)
          .bind(11, rng.uniform() < 0.3 ? "Thank you for your feedback." : "")
          .bind(12, std::to_string(rng.next()))
          .bind(13, sentiment)
          .bind(14, label)
          .bind(15, int64_t{negative});
      review.run();
      int64_t ord = 0;
      for (const auto& h : hits) {
        char ev[64];  // the store's span format: [[offset, length]] into the text
        std::snprintf(ev, sizeof ev, "[[%zu,%zu]]", h.offset, std::strlen(h.f->evidence));
        hit.bind(1, i + 1).bind(2, ord++).bind(3, h.f->touchpoint).bind(4, h.f->score);
        hit.bind(5, ev).run();
      }
    }
    tx.commit();
  }
  Generated g;
  g.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  auto t1 = Clock::now();
  while (db::refresh_query_index(d, g_now, 250000) > 0) {
  }
  d.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  d.exec("ANALYZE");
  g.index_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return g;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Timing {
  double wall = -1;  // seconds
  double cpu = -1;   // user + system seconds
};

double cpu_of(const rusage& r) {
  return double(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         double(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

// Runs argv with stdout to /dev/null; its wall and CPU time (-1 if it failed).
Timing run_process(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  auto t0 = Clock::now();
  pid_t pid;
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) return {};
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  Timing t;
  t.wall = std::chrono::duration<double>(Clock::now() - t0).count();
  t.cpu = cpu_of(ru);
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
  return t;
}

struct Case {
  std::string name;
  std::vector<std::string> args;  // after --db FILE
  std::string same_sql;           // bare SQL over the tables the command reads
  std::string naive_sql;          // bare SQL over the reviews table
};

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 2000000;
  int runs = 7;
  bool regenerate = false;
  std::filesystem::path exe = std::filesystem::canonical("/proc/self/exe");
  std::filesystem::path db_path = exe.parent_path() / "query-bench.db";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--reviews" && i + 1 < argc)
      n = std::stoll(argv[++i]);
    else if (a == "--db" && i + 1 < argc)
      db_path = argv[++i];
    else if (a == "--runs" && i + 1 < argc)
      runs = std::stoi(argv[++i]);
    else if (a == "--regenerate")
      regenerate = true;
    else {
      std::cerr << "usage: query [--reviews N] [--db FILE] [--runs N] [--regenerate]\n";
      return 2;
    }
  }
  std::filesystem::path binary = exe.parent_path().parent_path() / "cli" / "repwatch";

  // The generated data ends at a fixed "now" stored next to it, so reruns see the same data.
  std::filesystem::path stamp = db_path.string() + ".now";
  bool reuse = !regenerate && std::filesystem::exists(db_path) && std::filesystem::exists(stamp);
  if (reuse) {
    FILE* f = std::fopen(stamp.c_str(), "r");
    long long t = 0;
    if (!f || std::fscanf(f, "%lld", &t) != 1) reuse = false;
    if (f) std::fclose(f);
    g_now = t;
    if (reuse) {
      db::Database d = db::Database::open(db_path, db::Database::Mode::kReadOnly);
      auto st = d.prepare("SELECT count(*) FROM reviews");
      st.step();
      reuse = st.column_int(0) == n && db::query_index_state(d).pending() == 0;
    }
  }
  if (!reuse) {
    g_now = now_seconds();
    std::cout << "generating " << n << " reviews into " << db_path << " ..." << std::flush;
    Generated g = generate(db_path, n);
    FILE* f = std::fopen(stamp.c_str(), "w");
    std::fprintf(f, "%lld\n", static_cast<long long>(g_now));
    std::fclose(f);
    std::printf(" %.1f s inserts, %.1f s refresh_query_index (aggregates + FTS5), %.0f MB\n",
                g.seconds, g.index_seconds,
                double(std::filesystem::file_size(db_path)) / (1 << 20));
  } else {
    std::cout << "reusing " << db_path << " (" << n << " reviews; --regenerate to rebuild)\n";
  }

  int64_t today = g_now / 86400;
  std::string since = std::to_string((today + 1 - 30) * 86400);
  std::string until = std::to_string((today + 1) * 86400);
  std::string psince = std::to_string((today + 1 - 60) * 86400);
  std::string since_d = std::to_string(today + 1 - 30), until_d = std::to_string(today + 1),
              psince_d = std::to_string(today + 1 - 60);
  std::vector<Case> cases = {
      {"trends --by month",
       {"trends", "--by", "month"},
       "SELECT strftime('%Y-%m', day * 86400, 'unixepoch') m, sum(reviews), "
       "sum(rating_sum) / sum(rated), sum(sentiment_sum) / sum(reviews), 1.0 * sum(negative) / "
       "sum(reviews) FROM review_daily GROUP BY m ORDER BY m;",
       "SELECT strftime('%Y-%m', created_at, 'unixepoch') m, count(*), avg(rating), "
       "avg(sentiment), avg(negative) FROM reviews GROUP BY m ORDER BY m;"},
      {"touchpoints",
       {"touchpoints"},
       // Scorecard this and last period, and the evidence phrases of this period.
       "SELECT touchpoint, sum(mentions), sum(negative_mentions), sum(score_sum) / sum(mentions), "
       "sum(rating_sum) / sum(rated) FROM touchpoint_daily WHERE touchpoint IN ('phone', "
       "'scheduling', 'front_desk', 'wait_time', 'billing', 'nurses_staff', 'physician', "
       "'facility', 'parking_access', 'online_telehealth', 'followup_results', 'prescriptions', "
       "'privacy') AND day >= " +
           since_d + " AND day < " + until_d +
           " GROUP BY touchpoint; "
           "SELECT touchpoint, sum(mentions), sum(negative_mentions), sum(score_sum) / "
           "sum(mentions) FROM touchpoint_daily WHERE touchpoint IN ('phone', 'scheduling', "
           "'front_desk', 'wait_time', 'billing', 'nurses_staff', 'physician', 'facility', "
           "'parking_access', 'online_telehealth', 'followup_results', 'prescriptions', "
           "'privacy') AND day >= " +
           psince_d + " AND day < " + since_d +
           " GROUP BY touchpoint; "
           "SELECT h.touchpoint, lower(substr(r.text, json_extract(e.value, '$[0]') + 1, "
           "json_extract(e.value, '$[1]'))) p, count(*) c FROM "
           "reviews r JOIN touchpoint_hits h ON h.review_id = r.id, json_each(h.evidence) e "
           "WHERE r.created_at >= " +
           since + " AND r.created_at < " + until + " GROUP BY 1, 2 ORDER BY 1, 3 DESC;",
       "SELECT h.touchpoint, count(*), sum(h.score < 0), avg(h.score), avg(r.rating) FROM "
       "reviews r JOIN touchpoint_hits h ON h.review_id = r.id WHERE r.created_at >= " +
           since + " AND r.created_at < " + until +
           " GROUP BY 1; SELECT h.touchpoint, count(*), sum(h.score < 0), avg(h.score) FROM "
           "reviews r JOIN touchpoint_hits h ON h.review_id = r.id WHERE r.created_at >= " +
           psince + " AND r.created_at < " + since +
           " GROUP BY 1; SELECT h.touchpoint, lower(substr(r.text, json_extract(e.value, '$[0]') + "
           "1, json_extract(e.value, '$[1]'))) p, "
           "count(*) c FROM reviews r JOIN touchpoint_hits h ON h.review_id = r.id, "
           "json_each(h.evidence) e WHERE r.created_at >= " +
           since + " AND r.created_at < " + until + " GROUP BY 1, 2 ORDER BY 1, 3 DESC;"},
      {"summary",
       {"summary"},
       // Overall, by source and by location for both periods; the touchpoints as above; the
       // unanswered negative reviews; failing sources.
       [&] {
         std::string s;
         for (const char* key : {"'all'", "source_id", "location_id"})
           for (auto [a, b] : {std::pair{since_d, until_d}, std::pair{psince_d, since_d}})
             s += std::string("SELECT ") + key +
                  ", sum(reviews), sum(rating_sum) / sum(rated), sum(sentiment_sum) / "
                  "sum(reviews), 1.0 * sum(negative) / sum(reviews) FROM review_daily WHERE day "
                  ">= " +
                  a + " AND day < " + b + " GROUP BY 1; ";
         s += "SELECT touchpoint, sum(mentions), sum(negative_mentions), sum(score_sum) FROM "
              "touchpoint_daily WHERE touchpoint IN ('phone', 'scheduling', 'front_desk', "
              "'wait_time', 'billing', 'nurses_staff', 'physician', 'facility', "
              "'parking_access', 'online_telehealth', 'followup_results', 'prescriptions', "
              "'privacy') AND day >= " +
              psince_d + " AND day < " + until_d + " GROUP BY touchpoint, day >= " + since_d + "; ";
         s += "SELECT h.touchpoint, lower(substr(r.text, json_extract(e.value, '$[0]') + 1, "
              "json_extract(e.value, '$[1]'))) p, count(*) c FROM "
              "reviews r JOIN touchpoint_hits h ON h.review_id = r.id, json_each(h.evidence) e "
              "WHERE r.created_at >= " +
              since + " AND r.created_at < " + until + " GROUP BY 1, 2 ORDER BY 1, 3 DESC; ";
         s += "SELECT count(*) FROM reviews WHERE negative = 1 AND reply_text = '' AND "
              "created_at >= " +
              since + " AND created_at < " + until + "; ";
         s += "SELECT id, text FROM reviews WHERE negative = 1 AND reply_text = '' AND "
              "created_at >= " +
              since + " AND created_at < " + until + " ORDER BY created_at DESC LIMIT 5; ";
         s += "SELECT * FROM poll_state WHERE consecutive_failures > 0 OR needs_attention;";
         return s;
       }(),
       [&] {
         std::string s;
         for (const char* key : {"'all'", "source_id", "location_id"})
           for (auto [a, b] : {std::pair{since, until}, std::pair{psince, since}})
             s += std::string("SELECT ") + key +
                  ", count(*), avg(rating), avg(sentiment), avg(negative) FROM reviews WHERE "
                  "created_at >= " +
                  a + " AND created_at < " + b + " GROUP BY 1; ";
         s += "SELECT h.touchpoint, r.created_at >= " + since +
              ", count(*), sum(h.score < 0), avg(h.score) FROM reviews r JOIN touchpoint_hits h "
              "ON h.review_id = r.id WHERE r.created_at >= " +
              psince + " AND r.created_at < " + until + " GROUP BY 1, 2; ";
         s += "SELECT h.touchpoint, lower(substr(r.text, json_extract(e.value, '$[0]') + 1, "
              "json_extract(e.value, '$[1]'))) p, count(*) c FROM "
              "reviews r JOIN touchpoint_hits h ON h.review_id = r.id, json_each(h.evidence) e "
              "WHERE r.created_at >= " +
              since + " AND r.created_at < " + until + " GROUP BY 1, 2 ORDER BY 1, 3 DESC; ";
         s += "SELECT count(*) FROM reviews WHERE negative = 1 AND reply_text = '' AND "
              "created_at >= " +
              since + " AND created_at < " + until + "; ";
         s += "SELECT id, text FROM reviews WHERE negative = 1 AND reply_text = '' AND "
              "created_at >= " +
              since + " AND created_at < " + until + " ORDER BY created_at DESC LIMIT 5; ";
         s += "SELECT * FROM poll_state WHERE consecutive_failures > 0 OR needs_attention;";
         return s;
       }()},
      {"search parking",
       {"search", "parking"},
       "SELECT r.id, r.created_at, r.source_id, r.location_id, r.rating, snippet(reviews_fts, 0, "
       "'[', ']', '…', 20) FROM reviews_fts JOIN reviews r ON r.id = reviews_fts.rowid WHERE "
       "reviews_fts MATCH '\"parking\"' ORDER BY rank LIMIT 20;",
       "SELECT id, created_at, source_id, location_id, rating, text FROM reviews WHERE text LIKE "
       "'%parking%' ORDER BY created_at DESC LIMIT 20;"},
  };

  cli::Environment env;
  env.now = g_now;
  double load[3] = {0, 0, 0};
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
    std::fclose(f);
  }
  std::printf(
      "\nload average %.2f on %ld cores while measuring; wall times include waiting for "
      "a core, CPU times (user+sys) do not\n",
      load[0], sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("\n%-18s | %21s | %21s | %21s | %21s | %15s | %s\n", "", "in-process",
              "repwatch process", "same SQL (sqlite3)", "naive SQL (sqlite3)", "repwatch/same", "");
  std::printf("%-18s | %10s %10s | %10s %10s | %10s %10s | %10s %10s | %7s %7s | %s\n", "command",
              "wall ms", "cpu ms", "wall ms", "cpu ms", "wall ms", "cpu ms", "wall ms", "cpu ms",
              "wall", "cpu", "target (<150 ms, <=1.5x)");
  bool all_ok = true;
  for (const auto& c : cases) {
    std::vector<std::string> args = {"--db", db_path.string()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    std::vector<double> ip_w, ip_c, pr_w, pr_c, sq_w, sq_c, nv_w, nv_c;
    // One warm-up of each, so every figure is with the file in the page cache.
    {
      std::ostringstream out, err;
      if (cli::run_cli(args, out, err, env) != 0) {
        std::cerr << c.name << " failed: " << err.str();
        return 1;
      }
    }
    std::vector<std::string> pargs = {binary.string()};
    pargs.insert(pargs.end(), args.begin(), args.end());
    // The process sees the real clock: pin the period to the data with --until.
    if (c.name == "touchpoints" || c.name == "summary")
      pargs.insert(pargs.end(), {"--until", repwatch::format_date(g_now)});
    std::vector<std::string> same_args = {"sqlite3", "-readonly", db_path.string(), c.same_sql};
    std::vector<std::string> naive_args = {"sqlite3", "-readonly", db_path.string(), c.naive_sql};
    if (run_process(pargs).wall < 0 || run_process(same_args).wall < 0 ||
        run_process(naive_args).wall < 0) {
      std::cerr << c.name << ": a process failed (is " << binary << " built?)\n";
      return 1;
    }
    for (int r = 0; r < runs; ++r) {
      std::ostringstream out, err;
      rusage a{}, b{};
      getrusage(RUSAGE_SELF, &a);
      auto t0 = Clock::now();
      cli::run_cli(args, out, err, env);
      ip_w.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      getrusage(RUSAGE_SELF, &b);
      ip_c.push_back(cpu_of(b) - cpu_of(a));
      Timing p = run_process(pargs), s = run_process(same_args), n = run_process(naive_args);
      pr_w.push_back(p.wall), pr_c.push_back(p.cpu);
      sq_w.push_back(s.wall), sq_c.push_back(s.cpu);
      nv_w.push_back(n.wall), nv_c.push_back(n.cpu);
    }
    double pw = median(pr_w) * 1e3, pc = median(pr_c) * 1e3, sw = median(sq_w) * 1e3,
           sc = median(sq_c) * 1e3;
    bool wall_ok = pw < 150 && pw <= 1.5 * sw;
    bool cpu_ok = pc < 150 && pc <= 1.5 * std::max(sc, 1.0);
    all_ok = all_ok && cpu_ok;
    std::printf(
        "%-18s | %10.1f %10.1f | %10.1f %10.1f | %10.1f %10.1f | %10.1f %10.1f | %7.2f %7.2f "
        "| wall %s, cpu %s\n",
        c.name.c_str(), median(ip_w) * 1e3, median(ip_c) * 1e3, pw, pc, sw, sc, median(nv_w) * 1e3,
        median(nv_c) * 1e3, pw / sw, pc / std::max(sc, 1.0), wall_ok ? "ok" : "MISSED",
        cpu_ok ? "ok" : "MISSED");
  }
  std::printf(
      "\nmedians of %d runs. in-process: run_cli() here (the command minus exec); repwatch "
      "process: the binary with --db, output to /dev/null;\nsame SQL: the sqlite3 CLI running "
      "the bare SQL for the same figures over the tables the command reads (review_daily,\n"
      "touchpoint_daily, reviews_fts, indexes); naive SQL: the same figures straight from the "
      "reviews table.\n",
      runs);
  return all_ok ? 0 : 1;
}
