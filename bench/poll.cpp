// bench/poll - one poll cycle of many HTTP sources, the way repwatchd runs it.
//
// Starts the fixture server (tests/fixtures/http/fixture_server.py) on 127.0.0.1, configures
// N json_http sources on its /synthetic feed (each P pages of K reviews, every page answered
// after D ms), and polls all of them once through daemon::FetchPool (the daemon's worker pool,
// at most C fetches at once) with pipeline::fetch_and_score (fetch, normalize, sentiment).
// Prints the cycle's wall time next to the ideal, N * P * D / C, as a ratio, and the peak RSS
// of this process (getrusage; the Python server is a separate process).
//
//   build*/bench/poll [--sources=500] [--pages=3] [--per-page=10] [--delay-ms=50]
//                     [--concurrency=16] [--no-score]
//
// Target (issue 3): within 1.5x of the ideal, peak RSS under 50 MB.
#include <poll.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/connector.h"
#include "daemon/fetch_pool.h"
#include "net/http.h"
#include "pipeline/pipeline.h"
#include "sentiment/analyzer.h"
#include "tests/fixtures/http/fixture_server.h"

using namespace repwatch;

namespace {

long flag(int argc, char** argv, const std::string& name, long fallback) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--" + name + "=", 0) == 0) return std::atol(a.c_str() + name.size() + 3);
  }
  return fallback;
}

bool has_flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i)
    if (argv[i] == "--" + name) return true;
  return false;
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
  const long sources = flag(argc, argv, "sources", 500);
  const long pages = flag(argc, argv, "pages", 3);
  const long per_page = flag(argc, argv, "per-page", 10);
  const long delay_ms = flag(argc, argv, "delay-ms", 50);
  const long concurrency = flag(argc, argv, "concurrency", 16);
  const bool score = !has_flag(argc, argv, "no-score");

  net::global_init();
  testing::FixtureServer server;

  std::string toml =
      "state_dir = \"/tmp/repwatch-bench-poll\"\n"
      "[[locations]]\nid = \"clinic\"\nname = \"Bench Clinic\"\n"
      "[http]\ntimeout = \"30s\"\nretries = 0\nproxy = \"\"\n";
  for (long i = 0; i < sources; ++i) {
    toml += "[[sources]]\nid = \"s" + std::to_string(i) +
            "\"\ntype = \"json_http\"\nlocation = \"clinic\"\n"
            "url = \"" +
            server.base_url() + "/synthetic/s" + std::to_string(i) +
            "?pages=" + std::to_string(pages) + "&per=" + std::to_string(per_page) +
            "&delay_ms=" + std::to_string(delay_ms) +
            "\"\n"
            "reviews_pointer = \"/data/reviews\"\nnext_pointer = \"/meta/next\"\n"
            "fields = { external_id = \"/id\", rating = \"/stars\", text = \"/text\", "
            "author = \"/author\", created_at = \"/created\" }\n";
  }
  Config config = parse_config(toml, "/tmp/repwatch-bench-poll/repwatch.toml");
  std::map<std::string, std::shared_ptr<connectors::Connector>> connectors;
  for (const auto& s : config.sources)
    connectors[s.id] =
        std::shared_ptr<connectors::Connector>(connectors::make_connector(s, config));
  const sentiment::Analyzer analyzer = sentiment::Analyzer::builtin();
  const double rss_before = peak_rss_mb();

  daemon::FetchPool pool(static_cast<int>(concurrency));
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& s : config.sources) {
    auto connector = connectors[s.id];
    const SourceConfig* source = &s;
    pool.submit({s.id, 0, [connector, source, &analyzer, score] {
                   if (score) return pipeline::fetch_and_score(*connector, *source, "", analyzer);
                   pipeline::Fetched f;
                   f.source_id = source->id;
                   try {
                     f.result = connector->fetch("");
                   } catch (const SourceError& e) {
                     f.error = e;
                   }
                   return f;
                 }});
  }
  long done = 0, reviews = 0, failed = 0;
  std::string first_error;
  while (done < sources) {
    pollfd p{pool.fd(), POLLIN, 0};
    ::poll(&p, 1, 1000);
    for (auto& d : pool.take_done()) {
      ++done;
      if (d.fetched.error) {
        ++failed;
        if (first_error.empty()) first_error = d.fetched.error->what();
      } else if (d.fetched.result) {
        reviews += static_cast<long>(d.fetched.result->reviews.size());
      }
    }
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double ideal = static_cast<double>(sources) * pages * delay_ms / 1000.0 / concurrency;

  std::printf(
      "bench/poll: %ld sources x %ld pages x %ld reviews, %ld ms per page, "
      "concurrency %ld, %s\n",
      sources, pages, per_page, delay_ms, concurrency,
      score ? "fetch + normalize + sentiment" : "fetch only");
  std::printf("  requests       %ld\n", sources * pages);
  std::printf("  reviews        %ld (expected %ld)\n", reviews, sources * pages * per_page);
  std::printf("  failed sources %ld%s%s\n", failed, first_error.empty() ? "" : ": ",
              first_error.c_str());
  std::printf("  wall time      %.2f s\n", wall);
  std::printf("  ideal          %.2f s (sources * pages * delay / concurrency)\n", ideal);
  std::printf("  ratio          %.2fx (target <= 1.5x)\n", ideal > 0 ? wall / ideal : 0.0);
  std::printf("  peak RSS       %.1f MB (%.1f MB before polling; target < 50 MB)\n", peak_rss_mb(),
              rss_before);
  return failed == 0 && reviews == sources * pages * per_page ? 0 : 1;
}
