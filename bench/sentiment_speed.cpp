// bench/sentiment_speed - throughput of the full sentiment analysis on one core.
//
//   sentiment_speed [--data FILE.jsonl] [--mb N] [--runs R]
//
// Takes the review texts of FILE (default ../shared/data/reviews/dev.jsonl; any JSONL with a
// "text" field), repeats them until they make N MB (default 64), writes them one per line to a
// temporary file, then times
//   - Analyzer::analyze on every text (tokenize, language, lexicon and touchpoint matching,
//     scoring, touchpoint attribution, evidence strings): the full Analysis a review gets;
//   - `wc -w` on the same file (the file is read once beforehand, so it is in the page cache),
// each the best of R runs (default 3), and prints MB/s, reviews/s and the ratio. Then the
// slowest of a set of pathological texts (one unpunctuated sentence of thousands of "but"s,
// tens of thousands of touchpoint mentions, one word per line...), 1 MB each - the analyzer
// is linear in its input whatever the text, so none may be far below the figure above.
#include <rapidjson/document.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sentiment/analyzer.h"

using repwatch::sentiment::Analyzer;
using Clock = std::chrono::steady_clock;

namespace {

// CPU seconds of this thread: the figure that does not move when other processes share the
// machine (wall time is printed too).
double thread_cpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// User + system CPU seconds of all waited-for children so far.
double children_cpu() {
  rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path data =
      std::filesystem::path(REPWATCH_SOURCE_DIR) / "../shared/data/reviews/dev.jsonl";
  double target_mb = 64;
  int runs = 3;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--data" && i + 1 < argc) {
      data = argv[++i];
    } else if (arg == "--mb" && i + 1 < argc) {
      target_mb = std::atof(argv[++i]);
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: sentiment_speed [--data FILE.jsonl] [--mb N] [--runs R]\n");
      return 2;
    }
  }
  std::ifstream in(data);
  if (!in) {
    std::fprintf(stderr, "sentiment_speed: cannot open %s\n", data.c_str());
    return 2;
  }
  std::vector<std::string> texts;
  std::string line;
  while (std::getline(in, line)) {
    rapidjson::Document d;
    d.Parse(line.c_str(), line.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("text") || !d["text"].IsString()) {
      continue;
    }
    std::string t = d["text"].GetString();
    for (char& c : t) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    texts.push_back(std::move(t));
  }
  if (texts.empty()) {
    std::fprintf(stderr, "sentiment_speed: no texts in %s\n", data.c_str());
    return 2;
  }
  // One buffer, one review per line, repeated to the target size.
  std::string corpus;
  std::vector<std::pair<size_t, size_t>> spans;
  const size_t target = static_cast<size_t>(target_mb * 1e6);
  while (corpus.size() < target) {
    for (const auto& t : texts) {
      spans.emplace_back(corpus.size(), t.size());
      corpus += t;
      corpus += '\n';
      if (corpus.size() >= target) break;
    }
  }
  std::filesystem::path file = std::filesystem::temp_directory_path() /
                               ("repwatch_sentiment_speed_" + std::to_string(getpid()) + ".txt");
  {
    std::ofstream out(file, std::ios::binary);
    out << corpus;
  }
  const double mb = corpus.size() / 1e6;
  std::printf("sentiment_speed: %zu reviews (%zu distinct from %s), %.1f MB\n", spans.size(),
              texts.size(), data.c_str(), mb);

  Analyzer analyzer = Analyzer::builtin();
  std::string_view all(corpus);
  double best = 1e30, best_cpu = 1e30;
  size_t checksum = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    double c0 = thread_cpu();
    for (const auto& [off, len] : spans) {
      repwatch::Analysis a = analyzer.analyze(all.substr(off, len));
      checksum += a.terms.size() + a.touchpoints.size() + (a.score < 0);
    }
    best_cpu = std::min(best_cpu, thread_cpu() - c0);
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }

  std::string cmd = "wc -w '" + file.string() + "' > /dev/null";
  if (std::system(cmd.c_str()) != 0) {  // warm the page cache
    std::fprintf(stderr, "sentiment_speed: wc -w failed\n");
  }
  double wc_best = 1e30, wc_best_cpu = 1e30;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    double c0 = children_cpu();
    if (std::system(cmd.c_str()) != 0) break;
    wc_best_cpu = std::min(wc_best_cpu, children_cpu() - c0);
    wc_best = std::min(wc_best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::filesystem::remove(file);

  std::printf(
      "  analyze (full Analysis, 1 core): CPU %6.3f s %7.1f MB/s %9.0f reviews/s"
      "  | wall %6.3f s %7.1f MB/s\n",
      best_cpu, mb / best_cpu, spans.size() / best_cpu, best, mb / best);
  std::printf(
      "  wc -w (same file, LANG=%s):   CPU %6.3f s %7.1f MB/s                    "
      "  | wall %6.3f s %7.1f MB/s\n",
      std::getenv("LANG") ? std::getenv("LANG") : "unset", wc_best_cpu, mb / wc_best_cpu, wc_best,
      mb / wc_best);
  std::printf(
      "  ratio analyze / wc -w: %.2fx by CPU time, %.2fx by wall time (target >= 0.5x)"
      "   [checksum %zu]\n",
      wc_best_cpu / best_cpu, wc_best / best, checksum);

  const char* const kPathological[] = {"but ",
                                       "although ",
                                       "however ",
                                       "good but bad ",
                                       "not ",
                                       "very ",
                                       "! ",
                                       "wait ",
                                       "billing ",
                                       "the billing and the nurse and ",
                                       ", ",
                                       "a\n",
                                       "2 hours ",
                                       "RUDE ",
                                       "never not no ",
                                       "front desk ",
                                       "... ",
                                       "\xF0\x9F\x98\xA1 ",
                                       "el la de que ",
                                       "x"};
  double slowest = 0;
  std::string slowest_unit;
  for (const char* unit : kPathological) {
    std::string text;
    while (text.size() < Analyzer::kMaxTextBytes) text += unit;
    text.resize(Analyzer::kMaxTextBytes);
    double c0 = thread_cpu();
    repwatch::Analysis a = analyzer.analyze(text);
    double took = thread_cpu() - c0;
    checksum += a.terms.size();
    if (took > slowest) {
      slowest = took;
      slowest_unit = unit;
    }
  }
  std::printf("  pathological 1 MB texts (%zu kinds): slowest %.1f MB/s (\"%s\" repeated)\n",
              std::size(kPathological), Analyzer::kMaxTextBytes / 1e6 / slowest,
              slowest_unit == "a\n" ? "a\\n" : slowest_unit.c_str());
  return 0;
}
