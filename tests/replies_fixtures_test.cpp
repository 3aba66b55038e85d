// The labelled reply drafts (tests/fixtures/replies, written from the OCR guidance before the
// checker) as a regression gate: recall of "unsafe" >= 0.95 at precision >= 0.90 on the whole
// set and on the held-out part alone, and every kind of disclosure caught at least once.
// bench/reply_check prints the full figures.
#include <gtest/gtest.h>

#include <array>

#include "replies/checker.h"
#include "tests/fixtures/replies/reply_drafts.h"

namespace repwatch::replies {
namespace {

struct Counts {
  int tp = 0, fp = 0, fn = 0;
  double precision() const { return tp + fp ? double(tp) / (tp + fp) : 0; }
  double recall() const { return tp + fn ? double(tp) / (tp + fn) : 0; }
};

TEST(RepliesFixtures, LabelledDraftsMeetTheTargets) {
  const Checker checker = Checker::builtin();
  auto rows = testing::load_reply_drafts(testing::reply_drafts_file());
  ASSERT_GE(rows.size(), 150u);
  Counts all, held;
  std::array<int, kKindCount> labelled{}, caught{};
  for (const auto& r : rows) {
    Check c = checker.check(r.text, r.review ? &*r.review : nullptr);
    bool flagged = !c.clean();
    for (Counts* k : {&all, r.holdout ? &held : nullptr}) {
      if (!k) continue;
      k->tp += r.unsafe && flagged;
      k->fp += !r.unsafe && flagged;
      k->fn += r.unsafe && !flagged;
    }
    for (Kind k : r.kinds) {
      ++labelled[static_cast<size_t>(k)];
      caught[static_cast<size_t>(k)] += c.has(k);
    }
  }
  EXPECT_GE(all.recall(), 0.95);
  EXPECT_GE(all.precision(), 0.90);
  EXPECT_GE(held.recall(), 0.95);
  EXPECT_GE(held.precision(), 0.90);
  for (size_t k = 0; k < kKindCount; ++k) {
    EXPECT_GE(labelled[k], 5) << to_string(static_cast<Kind>(k));
    EXPECT_GE(caught[k], 1) << to_string(static_cast<Kind>(k)) << " never named";
  }
}

}  // namespace
}  // namespace repwatch::replies
