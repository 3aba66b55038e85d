// bench/reply_check - measures `repwatch reply-check` (replies/checker.h) against the labelled
// reply drafts of tests/fixtures/replies/reply_drafts.jsonl.
//
//   reply_check [--data FILE.jsonl] [--terms FILE.toml] [--errors | --list] [--explain TEXT]
//
// Prints precision and recall of "unsafe" (a reply with at least one finding) for the tuning
// part, the held-out part and both, then per kind of disclosure: how many replies labelled
// with it were caught (flagged at all) and how many had that very kind named, and how many
// safe replies got a finding of that kind (false alarms). The split is by FNV-1a of the id:
// hash % 3 == 0 is held out. Only the tuning part is ever printed reply by reply (--errors):
// tune on it, report the held-out part; --list prints every tuning reply with its findings.
// Finally the speed of the checker on the whole set.
//
// --explain TEXT: the findings of one text, with their kinds.
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "replies/checker.h"
#include "tests/fixtures/replies/reply_drafts.h"

using repwatch::replies::Check;
using repwatch::replies::Checker;
using repwatch::replies::Kind;
using repwatch::replies::kKindCount;

namespace {

struct Counts {
  long tp = 0, fp = 0, fn = 0, tn = 0;
  void add(bool gold, bool predicted) {
    if (gold && predicted) ++tp;
    if (!gold && predicted) ++fp;
    if (gold && !predicted) ++fn;
    if (!gold && !predicted) ++tn;
  }
  double precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0; }
  double recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0; }
};

struct PerKind {
  long labelled = 0, caught = 0, named = 0, false_alarms = 0;
};

std::string kinds_of(const Check& c) {
  std::string s;
  for (const auto& f : c.findings) {
    if (!s.empty()) s += "; ";
    for (size_t i = 0; i < f.kinds.size(); ++i)
      s += std::string(i ? "+" : "") + repwatch::replies::to_string(f.kinds[i]);
    s += " \"" + f.phrase + "\"";
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path data = repwatch::testing::reply_drafts_file();
  std::filesystem::path terms;
  bool errors = false, list = false;
  std::vector<std::string> explain;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) {
      data = argv[++i];
    } else if (a == "--terms" && i + 1 < argc) {
      terms = argv[++i];
    } else if (a == "--errors") {
      errors = true;
    } else if (a == "--list") {
      list = true;
    } else if (a == "--explain" && i + 1 < argc) {
      explain.push_back(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: reply_check [--data FILE.jsonl] [--terms FILE.toml] [--errors | --list] "
                   "[--explain TEXT]\n");
      return 2;
    }
  }
  std::optional<Checker> loaded;
  try {
    loaded = terms.empty() ? Checker::builtin() : Checker::load(terms);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reply_check: %s\n", e.what());
    return 1;
  }
  const Checker& checker = *loaded;
  if (!explain.empty()) {
    for (const auto& text : explain) {
      Check c = checker.check(text);
      std::printf("%s\n  %s\n", text.c_str(), c.clean() ? "(clean)" : kinds_of(c).c_str());
    }
    return 0;
  }

  std::vector<repwatch::testing::ReplyDraft> rows;
  try {
    rows = repwatch::testing::load_reply_drafts(data);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reply_check: %s\n", e.what());
    return 1;
  }
  std::array<Counts, 3> parts;  // tuning, held-out, all
  std::array<std::array<PerKind, kKindCount>, 2> kinds{};
  Counts subtle;
  std::vector<std::string> misses;
  for (const auto& r : rows) {
    Check c = checker.check(r.text, r.review ? &*r.review : nullptr);
    bool flagged = !c.clean();
    parts[r.holdout ? 1 : 0].add(r.unsafe, flagged);
    parts[2].add(r.unsafe, flagged);
    if (r.subtle) subtle.add(r.unsafe, flagged);
    auto& pk = kinds[r.holdout ? 1 : 0];
    for (Kind k : r.kinds) {
      auto& e = pk[static_cast<size_t>(k)];
      ++e.labelled;
      e.caught += flagged;
      e.named += c.has(k);
    }
    if (!r.unsafe)
      for (size_t k = 0; k < kKindCount; ++k) pk[k].false_alarms += c.has(static_cast<Kind>(k));
    if (list && !r.holdout)
      misses.push_back(std::string(r.unsafe ? "unsafe " : "safe   ") + r.id + " [" +
                       (r.unsafe == flagged ? "ok" : "WRONG") + "]: " + r.text + "\n    -> " +
                       (flagged ? kinds_of(c) : std::string("(clean)")));
    else if (errors && !r.holdout && r.unsafe != flagged)
      misses.push_back(std::string(r.unsafe ? "MISSED " : "FALSE ALARM ") + r.id + ": " + r.text +
                       (flagged ? "\n    -> " + kinds_of(c) : std::string()));
  }

  std::printf("reply_check: %zu labelled replies (%s), terms %s\n\n", rows.size(),
              data.filename().c_str(), checker.version().c_str());
  std::printf("%-9s %7s %6s %5s %4s %4s %4s %4s %9s %7s\n", "part", "replies", "unsafe", "safe",
              "TP", "FP", "FN", "TN", "precision", "recall");
  const char* names[] = {"tuning", "held-out", "all"};
  for (int p = 0; p < 3; ++p) {
    const Counts& c = parts[static_cast<size_t>(p)];
    std::printf("%-9s %7ld %6ld %5ld %4ld %4ld %4ld %4ld %9.3f %7.3f\n", names[p],
                c.tp + c.fp + c.fn + c.tn, c.tp + c.fn, c.fp + c.tn, c.tp, c.fp, c.fn, c.tn,
                c.precision(), c.recall());
  }
  std::printf("subtle    %7ld %6ld %5s %4ld %4s %4ld %4s %9s %7.3f\n\n", subtle.tp + subtle.fn,
              subtle.tp + subtle.fn, "", subtle.tp, "", subtle.fn, "", "", subtle.recall());

  std::printf("%-13s %-34s %-34s\n", "", "tuning part", "held-out part");
  std::printf("%-13s %8s %8s %8s %7s  %8s %8s %8s %7s\n", "kind", "labelled", "caught", "named",
              "alarms", "labelled", "caught", "named", "alarms");
  for (size_t k = 0; k < kKindCount; ++k) {
    std::printf("%-13s", repwatch::replies::to_string(static_cast<Kind>(k)));
    for (int p = 0; p < 2; ++p) {
      const PerKind& e = kinds[static_cast<size_t>(p)][k];
      std::printf(" %8ld %8ld %8ld %7ld ", e.labelled, e.caught, e.named, e.false_alarms);
    }
    std::printf("\n");
  }
  std::printf(
      "(caught: labelled with the kind and flagged at all; named: that kind found; alarms: safe "
      "replies with a finding of the kind)\n");

  // Speed: the whole set, a few times.
  auto t0 = std::chrono::steady_clock::now();
  size_t checked = 0, findings = 0;
  for (int round = 0; round < 20; ++round)
    for (const auto& r : rows) {
      findings += checker.check(r.text, r.review ? &*r.review : nullptr).findings.size();
      ++checked;
    }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\nspeed: %zu checks in %.3f s, %.0f replies/s (%zu findings)\n", checked, secs,
              double(checked) / secs, findings);

  if (errors || list) {
    std::printf(list ? "\ntuning part:\n" : "\ntuning part, wrong:\n");
    for (const auto& m : misses) std::printf("  %s\n", m.c_str());
  }
  return 0;
}
