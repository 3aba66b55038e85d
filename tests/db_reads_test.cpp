// db/'s read models (db/read_model.h): typed rows read back as the store wrote them, the
// poll state read by the same reader and into the same type as the daemon's, the FTS query.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "db/aggregate_reads.h"
#include "db/review_reads.h"
#include "db/source_reads.h"
#include "db/store.h"
#include "tests/fixtures/temp_dir.h"

using namespace repwatch;
using namespace repwatch::db;
namespace fs = std::filesystem;

namespace {

using repwatch::testing::TempDir;

Review review(const std::string& id, const std::string& text, RatingScale scale,
              std::optional<double> raw, std::optional<double> rating, int64_t at) {
  Review r;
  r.source_id = "survey";
  r.external_id = id;
  r.location_id = "downtown";
  r.author = "Patient " + id;
  r.raw_rating = raw;
  r.scale = scale;
  r.rating = rating;
  r.text = text;
  r.created_at = r.updated_at = at;
  return r;
}

Analysis analysis(double score, Label label) {
  Analysis a;
  a.score = score;
  a.label = label;
  a.lexicon_version = "lex-1";
  a.taxonomy_version = "tax-1";
  return a;
}

class ReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.emplace(open_store(dir_.path() / "repwatch.db"));
    store_.emplace(*db_);
    store_->ensure_location("downtown", "Downtown Family Practice");
    store_->ensure_source("survey", "file", "downtown", 1000);
  }
  int64_t add(const Review& r, const Analysis& a) { return store_->upsert(r, a, 5000).review_id; }

  TempDir dir_;
  std::optional<Database> db_;
  std::optional<ReviewStore> store_;
};

}  // namespace

TEST(DbReviewReads, FtsQueries) {
  EXPECT_EQ(fts_query("parking"), "\"parking\"");
  EXPECT_EQ(fts_query("front desk"), "\"front\" \"desk\"");
  EXPECT_EQ(fts_query("\"front desk\" rude"), "\"front desk\" \"rude\"");
  EXPECT_EQ(fts_query("bill* OR (phone NOT call)"), "\"bill\"* OR ( \"phone\" NOT \"call\" )");
  EXPECT_EQ(fts_query("check-in: 8:00 \"quote"), "\"check-in:\" \"8:00\" \"quote\"");
  EXPECT_EQ(fts_query("say \"\"hi"), "\"say\" \"hi\"");
  EXPECT_EQ(fts_query("   "), "");
}

TEST(CoreLabel, ParsesWhatToStringWrites) {
  for (Label l : {Label::kNegative, Label::kNeutral, Label::kPositive})
    EXPECT_EQ(parse_label(to_string(l)), l);
  EXPECT_EQ(parse_label("Negative"), std::nullopt);
  EXPECT_EQ(parse_label(""), std::nullopt);
}

TEST_F(ReadsTest, RowsAreTypedAsStored) {
  // A 0..10 survey score, a recommendation and a text-only review: each scale and label
  // comes back as the value the store was given, not as text.
  int64_t nps = add(review("a", "Long wait", RatingScale::linear(0, 10), 3, 1.8, 100),
                    analysis(-0.6, Label::kNegative));
  int64_t rec = add(review("b", "Kind staff", RatingScale::binary(), 1, 5, 200),
                    analysis(0.7, Label::kPositive));
  int64_t text =
      add(review("c", "It was fine", RatingScale::none(), std::nullopt, std::nullopt, 300),
          analysis(0, Label::kNeutral));
  ReviewReads reads(*db_);
  std::vector<ReviewRow> rows = reads.list(ReviewFilter{}, -1, {.newest_first = false});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].id, nps);
  EXPECT_EQ(rows[0].review.scale, RatingScale::linear(0, 10));
  EXPECT_EQ(rows[0].analysis.label, Label::kNegative);
  EXPECT_DOUBLE_EQ(rows[0].analysis.score, -0.6);
  EXPECT_TRUE(rows[0].negative);
  EXPECT_EQ(rows[1].id, rec);
  EXPECT_EQ(rows[1].review.scale, RatingScale::binary());
  EXPECT_EQ(rows[1].analysis.label, Label::kPositive);
  EXPECT_FALSE(rows[1].negative);
  EXPECT_EQ(rows[2].id, text);
  EXPECT_EQ(rows[2].review.scale, RatingScale::none());
  EXPECT_EQ(rows[2].review.rating, std::nullopt);
  EXPECT_EQ(rows[2].analysis.label, Label::kNeutral);

  // The same review the store reads back: one type, the same values.
  std::optional<StoredReview> stored = store_->get(rec);
  ASSERT_TRUE(stored);
  std::optional<ReviewRow> row = reads.get(rec);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->review.external_id, stored->review.external_id);
  EXPECT_EQ(row->review.scale, stored->review.scale);
  EXPECT_EQ(row->review.raw_rating, stored->review.raw_rating);
  EXPECT_EQ(row->review.rating, stored->review.rating);
  EXPECT_EQ(row->review.author, stored->review.author);
  EXPECT_EQ(row->review.text, stored->review.text);
  EXPECT_EQ(row->revision, stored->revision);
  EXPECT_EQ(row->removed_at, stored->removed_at);
  EXPECT_EQ(reads.get(text + 100), std::nullopt);
}

TEST_F(ReadsTest, RepliedReviewsLatestReplyFirstRemovedIncluded) {
  Review early = review("a", "Rude", RatingScale::stars(), 1, 1, 100);
  early.reply_text = "Sorry";
  early.reply_at = 900;
  Review late = review("b", "Great", RatingScale::stars(), 5, 5, 500);
  late.reply_text = "Thanks";  // no reply time: its creation time counts
  Review none = review("c", "Ok", RatingScale::stars(), 3, 3, 600);
  int64_t a = add(early, analysis(-0.5, Label::kNegative));
  int64_t b = add(late, analysis(0.5, Label::kPositive));
  add(none, analysis(0, Label::kNeutral));
  store_->mark_removed("survey", {b}, 7000);  // a and c are gone from the source

  std::vector<int64_t> ids;
  ReviewFilter all;
  all.include_removed = true;
  ReviewReads(*db_).each_replied(all, [&](const ReviewRow& r) { ids.push_back(r.id); });
  EXPECT_EQ(ids, (std::vector<int64_t>{a, b}));
  ids.clear();
  ReviewFilter since;
  since.since = 200;
  since.include_removed = true;
  ReviewReads(*db_).each_replied(since, [&](const ReviewRow& r) { ids.push_back(r.id); });
  EXPECT_EQ(ids, (std::vector<int64_t>{b}));
}

TEST_F(ReadsTest, SourcesCarryThePollStateTheStoreReads) {
  store_->ensure_source("never", "yelp", "downtown", 1500);
  store_->record_failure(
      "survey",
      db::PollFailure{SourceError::Kind::kAuth, "token expired", 5000, true, "Renew the token"},
      4000);
  add(review("a", "Late", RatingScale::stars(), 2, 2, 3000), analysis(-0.2, Label::kNegative));
  std::vector<SourceRow> sources = read_sources(*db_);
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0].id, "never");
  EXPECT_EQ(sources[0].poll.consecutive_failures, 0);
  EXPECT_EQ(sources[0].latest_review_at, std::nullopt);
  const SourceRow& s = sources[1];
  EXPECT_EQ(s.id, "survey");
  EXPECT_EQ(s.type, "file");
  EXPECT_EQ(s.location_id, "downtown");
  EXPECT_EQ(s.added_at, 1000);
  EXPECT_EQ(s.latest_review_at, 3000);
  PollState expected = store_->poll_state("survey");
  EXPECT_EQ(s.poll.source_id, expected.source_id);
  EXPECT_EQ(s.poll.last_error, "token expired");
  EXPECT_EQ(s.poll.last_error_kind, expected.last_error_kind);
  EXPECT_EQ(s.poll.advice, "Renew the token");
  EXPECT_EQ(s.poll.consecutive_failures, 1);
  EXPECT_EQ(s.poll.failing_since, expected.failing_since);
  EXPECT_TRUE(s.poll.needs_attention);
  std::vector<LocationRow> locations = read_locations(*db_);
  ASSERT_EQ(locations.size(), 1u);
  EXPECT_EQ(locations[0].name, "Downtown Family Practice");
}

TEST_F(ReadsTest, RescoreSelectsOutdatedAnalysesById) {
  int64_t a =
      add(review("a", "Slow", RatingScale::stars(), 2, 2, 100), analysis(-0.4, Label::kNegative));
  Analysis old = analysis(0.3, Label::kPositive);
  old.lexicon_version = "lex-0";
  int64_t b = add(review("b", "Nice", RatingScale::stars(), 4, 4, 200), old);
  RescoreSelection outdated{true, "lex-1", "tax-1"};
  std::vector<ReviewRow> rows = reviews_to_rescore(*db_, 0, 10, outdated);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, b);
  EXPECT_EQ(rows[0].review.text, "Nice");
  EXPECT_EQ(rows[0].analysis.label, Label::kPositive);
  RescoreSelection every{false, "lex-1", "tax-1"};
  rows = reviews_to_rescore(*db_, 0, 1, every);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, a);
  rows = reviews_to_rescore(*db_, a, 10, every);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, b);
}

// Search ranks by BM25 first and reads only the rows it shows, by id (in statements of at most
// a few hundred ids): a long result keeps the rank order, and every row shown has its matches
// marked, past the first statement's ids too - whether the reviews are in the query index yet
// (the temporary FTS table) or folded in.
TEST_F(ReadsTest, SearchKeepsBm25OrderAndMarksEveryRowShown) {
  constexpr int kReviews = 1200;
  Transaction tx(*db_);
  for (int i = 0; i < kReviews; ++i) {
    const int k = i % 4 + 1;  // "parking" k times in a text of the same length
    std::string text;
    for (int w = 0; w < 4; ++w) text += w < k ? "parking " : "visit ";
    text += "at the clinic";
    add(review("p" + std::to_string(i), text, RatingScale::linear(1, 5), 3, 3, 10000 + i),
        analysis(0, Label::kNeutral));
  }
  tx.commit();
  ReviewReads reads(*db_);
  for (bool indexed : {false, true}) {
    if (indexed)
      while (refresh_query_index(*db_, 20000) > 0) {
      }
    std::vector<ReviewRow> rows = reads.search("parking", {}, 1100);
    ASSERT_EQ(rows.size(), 1100u) << "indexed " << indexed;
    size_t previous = 4;
    for (size_t i = 0; i < rows.size(); ++i) {
      size_t k = 0;
      for (size_t at = rows[i].review.text.find("parking"); at != std::string::npos;
           at = rows[i].review.text.find("parking", at + 1))
        ++k;
      EXPECT_EQ(rows[i].matches.size(), k) << "row " << i << ", indexed " << indexed;
      EXPECT_LE(k, previous) << "row " << i << " ranks below fewer matches, indexed " << indexed;
      EXPECT_FALSE(rows[i].snippet.empty()) << "row " << i;
      previous = k;
    }
    EXPECT_EQ(rows.front().matches.size(), 4u);
    EXPECT_EQ(rows.back().matches.size(), 1u);
  }
  // A review removed at its source is not shown unless asked for, though the window of newest
  // matches counts it (db/review_reads.cpp, search()).
  db_->exec("UPDATE reviews SET removed_at = 30000 WHERE external_id = 'p1199'");
  auto shown = [&](bool include_removed) {
    ReviewFilter f;
    f.include_removed = include_removed;
    for (const ReviewRow& r : reads.search("parking", f, kReviews))
      if (r.review.external_id == "p1199") return true;
    return false;
  };
  EXPECT_FALSE(shown(false));
  EXPECT_TRUE(shown(true));
}
