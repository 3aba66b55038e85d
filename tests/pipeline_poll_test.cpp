// pipeline/pipeline: fetch_and_score and store_poll against a real SQLite store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/error.h"
#include "db/store.h"
#include "pipeline/pipeline.h"
#include "sentiment/analyzer.h"
#include "tests/fixtures/temp_dir.h"

using namespace repwatch;
using namespace repwatch::pipeline;
namespace fs = std::filesystem;

namespace {

using repwatch::testing::TempDir;

// A source whose reviews are a vector the test controls; it can also be told to fail.
class VectorConnector : public connectors::Connector {
 public:
  std::vector<Review> reviews;
  std::vector<Problem> problems;
  std::string next_cursor = "c1";
  bool complete = false;       // says it lists everything the source has
  std::function<void()> fail;  // throws, when set
  std::vector<std::string> cursors_seen;

  connectors::FetchResult fetch(const std::string& cursor) override {
    cursors_seen.push_back(cursor);
    if (fail) fail();
    return {reviews, next_cursor, problems, complete};
  }
};

Review raw_review(const std::string& id, const std::string& text, std::optional<double> raw,
                  RatingScale scale = RatingScale::stars()) {
  Review r;
  r.external_id = id;
  r.author = "Pat";
  r.raw_rating = raw;
  r.scale = scale;
  r.text = text;
  r.created_at = 1700000000;
  r.updated_at = 1700000000;
  return r;
}

SourceConfig source_config() {
  SourceConfig s;
  s.id = "survey";
  s.type = "file";
  s.location = "downtown";
  return s;
}

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest()
      : db_(db::open_store(dir_.path() / "repwatch.db")),
        store_(db_),
        analyzer_(sentiment::Analyzer::builtin()),
        source_(source_config()) {}

  PollOutcome poll(const ReviewHook& hook = {}, int64_t now = 5000) {
    std::string cursor = store_.poll_state(source_.id).cursor;
    return store_poll(store_, source_, fetch_and_score(conn_, source_, cursor, analyzer_), hook,
                      now, now + 900);
  }

  TempDir dir_;
  db::Database db_;
  db::ReviewStore store_;
  sentiment::Analyzer analyzer_;
  SourceConfig source_;
  VectorConnector conn_;
};

}  // namespace

TEST_F(PipelineTest, FetchAndScoreNormalizesAndAnalyzes) {
  conn_.reviews = {
      raw_review("a", "The receptionist was extremely rude and we waited 2 hours.", 2,
                 RatingScale::linear(0, 10)),
      raw_review("", "no id", 5),
      raw_review("b", "Wonderful doctor, very caring and thorough.", 1, RatingScale::binary()),
      raw_review("c", "", std::nullopt, RatingScale::none()),
  };
  conn_.problems = {{"export.csv:7", "rating: not a number"}};
  Fetched f = fetch_and_score(conn_, source_, "cur-0", analyzer_);
  ASSERT_FALSE(f.error);
  ASSERT_TRUE(f.result);
  EXPECT_EQ(conn_.cursors_seen, std::vector<std::string>{"cur-0"});
  ASSERT_EQ(f.result->reviews.size(), 3u);  // the review without an id is skipped...
  ASSERT_EQ(f.analyses.size(), 3u);
  ASSERT_EQ(f.result->problems.size(), 2u);  // ...and reported next to the connector's own
  EXPECT_EQ(f.result->problems[0].where, "export.csv:7");
  EXPECT_NE(f.result->problems[1].message.find("external id"), std::string::npos);

  const Review& a = f.result->reviews[0];
  EXPECT_EQ(a.source_id, "survey");
  EXPECT_EQ(a.location_id, "downtown");
  ASSERT_TRUE(a.rating);
  EXPECT_NEAR(*a.rating, 1.8, 1e-9);            // 2 on 0..10
  EXPECT_EQ(f.result->reviews[1].rating, 5.0);  // recommend
  EXPECT_FALSE(f.result->reviews[2].rating);
  EXPECT_LT(f.analyses[0].score, 0);
  EXPECT_GT(f.analyses[1].score, 0);
  EXPECT_EQ(f.analyses[0], analyzer_.analyze(a.text));
  EXPECT_EQ(f.result->cursor, "c1");
}

TEST_F(PipelineTest, FetchErrorsBecomeFetchedErrors) {
  conn_.fail = [] { throw SourceError(SourceError::Kind::kAuth, "HTTP 401: token expired"); };
  Fetched auth = fetch_and_score(conn_, source_, "", analyzer_);
  ASSERT_TRUE(auth.error);
  EXPECT_EQ(auth.error->kind(), SourceError::Kind::kAuth);
  EXPECT_FALSE(auth.result);

  conn_.fail = [] { throw ConfigError("repwatch.toml:9: sources[0].path: no such directory"); };
  Fetched config = fetch_and_score(conn_, source_, "", analyzer_);
  ASSERT_TRUE(config.error);
  EXPECT_EQ(config.error->kind(), SourceError::Kind::kConfig);
  EXPECT_NE(std::string(config.error->what()).find("sources[0].path"), std::string::npos);

  conn_.fail = [] { throw std::runtime_error("something else"); };
  Fetched other = fetch_and_score(conn_, source_, "", analyzer_);
  ASSERT_TRUE(other.error);
  EXPECT_EQ(other.error->kind(), SourceError::Kind::kTransient);
}

TEST_F(PipelineTest, PollStoresOnceAndDetectsEdits) {
  conn_.reviews = {raw_review("a", "Billing was a nightmare.", 1),
                   raw_review("b", "Great nurses.", 5)};
  PollOutcome first = poll();
  EXPECT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.fetched, 2);
  EXPECT_EQ(first.inserted, 2);
  db::PollState state = store_.poll_state("survey");
  EXPECT_EQ(state.cursor, "c1");
  EXPECT_EQ(state.first_sync_at, 5000);
  EXPECT_EQ(state.next_poll_at, 5900);

  // The same reviews again: stored once.
  conn_.next_cursor = "c2";
  PollOutcome second = poll({}, 6000);
  EXPECT_TRUE(second.ok);
  EXPECT_EQ(second.unchanged, 2);
  EXPECT_EQ(second.inserted, 0);
  EXPECT_EQ(store_.count_reviews(), 2);
  EXPECT_EQ(conn_.cursors_seen.back(), "c1");
  EXPECT_EQ(store_.poll_state("survey").cursor, "c2");

  // One review's text changes: one edit, one revision, re-scored.
  conn_.reviews[1].text = "The nurses were rude and never called back.";
  conn_.reviews[1].raw_rating = 2;
  PollOutcome third = poll({}, 7000);
  EXPECT_EQ(third.edited, 1);
  EXPECT_EQ(third.unchanged, 1);
  EXPECT_EQ(store_.count_reviews(), 2);
  auto b = store_.find("survey", "b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->revision, 2);
  EXPECT_EQ(store_.count_revisions(b->id), 1);
  EXPECT_EQ(b->analysis, analyzer_.analyze(conn_.reviews[1].text));
  EXPECT_LT(b->analysis.score, 0);
}

TEST_F(PipelineTest, HookSeesEveryReviewWithThePollStateBeforeThePoll) {
  conn_.reviews = {raw_review("a", "Rude staff.", 1), raw_review("b", "Lovely.", 5)};
  std::vector<std::string> seen;
  std::vector<std::optional<int64_t>> first_syncs;
  ReviewHook hook = [&](const StoredEvent& e) {
    seen.push_back(e.review.external_id + ":" + std::to_string(static_cast<int>(e.upsert.outcome)));
    first_syncs.push_back(e.state.first_sync_at);
    EXPECT_EQ(e.source.id, "survey");
    EXPECT_EQ(e.review.source_id, "survey");
    EXPECT_EQ(e.upsert.review_id, store_.find("survey", e.review.external_id)->id);
    return e.review.rating && *e.review.rating <= 2 ? 1 : 0;
  };
  PollOutcome first = poll(hook, 5000);
  EXPECT_EQ(first.alerts_queued, 1);
  PollOutcome second = poll(hook, 6000);
  EXPECT_EQ(second.alerts_queued, 1);
  EXPECT_EQ(seen, (std::vector<std::string>{"a:0", "b:0", "a:2", "b:2"}));
  EXPECT_FALSE(first_syncs[0]);
  EXPECT_EQ(first_syncs[2], 5000);
}

TEST_F(PipelineTest, AThrowingHookRollsBackTheWholePoll) {
  conn_.reviews = {raw_review("a", "Fine.", 4), raw_review("b", "Bad.", 1),
                   raw_review("c", "Okay.", 3)};
  ASSERT_TRUE(poll({}, 5000).ok);  // a first successful poll: cursor c1
  conn_.reviews.push_back(raw_review("d", "New one.", 5));
  conn_.reviews[0].text = "Fine, edited.";
  conn_.next_cursor = "c2";
  int calls = 0;
  ReviewHook hook = [&](const StoredEvent&) -> int {
    if (++calls == 4) throw std::runtime_error("outbox is full");
    return 1;
  };
  PollOutcome out = poll(hook, 6000);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("outbox is full"), std::string::npos) << out.error;
  EXPECT_EQ(out.inserted + out.edited + out.unchanged + out.alerts_queued, 0);

  // Nothing of the poll is stored: no new review, no edit, the cursor has not moved.
  EXPECT_EQ(store_.count_reviews(), 3);
  EXPECT_FALSE(store_.find("survey", "d"));
  auto a = store_.find("survey", "a");
  EXPECT_EQ(a->review.text, "Fine.");
  EXPECT_EQ(a->revision, 1);
  EXPECT_EQ(store_.count_revisions(a->id), 0);
  db::PollState state = store_.poll_state("survey");
  EXPECT_EQ(state.cursor, "c1");
  EXPECT_EQ(state.last_success_at, 5000);
  // ... and the failure is recorded.
  EXPECT_EQ(state.consecutive_failures, 1);
  EXPECT_NE(state.last_error.find("outbox is full"), std::string::npos);
  EXPECT_EQ(state.last_error_at, 6000);
  EXPECT_FALSE(state.needs_attention);

  // The next poll, with a working hook, stores it all.
  PollOutcome retry = poll({}, 7000);
  EXPECT_TRUE(retry.ok);
  EXPECT_EQ(retry.inserted, 1);
  EXPECT_EQ(retry.edited, 1);
  EXPECT_EQ(store_.poll_state("survey").consecutive_failures, 0);
  EXPECT_EQ(store_.poll_state("survey").cursor, "c2");
}

TEST_F(PipelineTest, FetchFailureRecordsOnlyTheFailure) {
  conn_.reviews = {raw_review("a", "Fine.", 4)};
  ASSERT_TRUE(poll({}, 5000).ok);
  conn_.fail = [] { throw SourceError(SourceError::Kind::kAuth, "HTTP 401: invalid token"); };
  PollOutcome out = poll({}, 6000);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error, "HTTP 401: invalid token");
  db::PollState state = store_.poll_state("survey");
  EXPECT_EQ(state.cursor, "c1");
  EXPECT_EQ(state.consecutive_failures, 1);
  EXPECT_EQ(state.last_error_kind, SourceError::Kind::kAuth);
  EXPECT_TRUE(state.needs_attention);
  EXPECT_EQ(state.next_poll_at, 6900);

  conn_.fail = [] { throw SourceError(SourceError::Kind::kTransient, "timeout"); };
  poll({}, 7000);
  EXPECT_EQ(store_.poll_state("survey").consecutive_failures, 2);
  EXPECT_EQ(store_.poll_state("survey").last_error_kind, SourceError::Kind::kTransient);
  EXPECT_EQ(store_.count_reviews(), 1);
}

TEST_F(PipelineTest, AFirstPollThatFailsRegistersTheSource) {
  conn_.fail = [] { throw SourceError(SourceError::Kind::kConfig, "no such directory"); };
  PollOutcome out = poll({}, 5000);
  EXPECT_FALSE(out.ok);
  db::PollState state = store_.poll_state("survey");
  EXPECT_EQ(state.consecutive_failures, 1);
  EXPECT_EQ(state.last_error_kind, SourceError::Kind::kConfig);
  EXPECT_FALSE(state.first_sync_at);
}

// A large poll is analysed on several threads: every review still gets its own analysis, in
// the order of the (time-sorted) reviews, and the problems of all workers are reported.
TEST_F(PipelineTest, ALargePollIsAnalysedInOrderOnAllCores) {
  const char* texts[] = {"The receptionist was rude.", "Dr. Lee listened, great visit!",
                         "Billing charged me twice.", "Parking is easy."};
  conn_.reviews.clear();
  for (int i = 0; i < 20000; ++i) {
    Review r = raw_review("r" + std::to_string(i), texts[i % 4], 1 + i % 5);
    r.created_at = r.updated_at = 1700000000 + (i * 7919) % 20000;  // shuffled times
    conn_.reviews.push_back(r);
  }
  conn_.reviews.push_back(raw_review("", "no id", 5));  // a problem
  Fetched f = fetch_and_score(conn_, source_, "", analyzer_);
  ASSERT_TRUE(f.result);
  ASSERT_EQ(f.result->reviews.size(), 20000u);
  ASSERT_EQ(f.analyses.size(), 20000u);
  EXPECT_EQ(f.result->problems.size(), 1u);
  for (size_t i = 0; i < f.analyses.size(); ++i) {
    const Review& r = f.result->reviews[i];
    if (i > 0) {
      ASSERT_LE(f.result->reviews[i - 1].created_at, r.created_at) << i;
    }
    ASSERT_EQ(f.analyses[i], analyzer_.analyze(r.text)) << i;
  }
}

TEST_F(PipelineTest, ReviewsMayNameTheirOwnLocation) {
  Review r = raw_review("a", "Fine.", 4);
  r.location_id = "northside";
  conn_.reviews = {r, raw_review("b", "Also fine.", 4)};
  PollOutcome out = poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(store_.find("survey", "a")->review.location_id, "northside");
  EXPECT_EQ(store_.find("survey", "b")->review.location_id, "downtown");
}

TEST_F(PipelineTest, ReviewsAreStoredOldestFirstAndTheLastVersionWins) {
  Review newest = raw_review("n", "Newest.", 5);
  newest.created_at = newest.updated_at = 1700300000;
  Review oldest = raw_review("o", "Oldest.", 5);
  oldest.created_at = oldest.updated_at = 1700100000;
  Review v1 = raw_review("m", "Middle, first version.", 3);
  v1.created_at = v1.updated_at = 1700200000;
  Review v2 = v1;
  v2.text = "Middle, second version.";
  conn_.reviews = {newest, v1, oldest, v2};
  Fetched f = fetch_and_score(conn_, source_, "", analyzer_);
  ASSERT_TRUE(f.result);
  std::vector<std::string> order;
  for (const Review& r : f.result->reviews) order.push_back(r.text);
  EXPECT_EQ(order, (std::vector<std::string>{"Oldest.", "Middle, first version.",
                                             "Middle, second version.", "Newest."}));
  for (size_t i = 0; i < order.size(); ++i)
    EXPECT_EQ(f.analyses[i], analyzer_.analyze(order[i])) << i;

  PollOutcome out = store_poll(store_, source_, std::move(f), {}, 5000);
  EXPECT_EQ(out.inserted, 3);
  EXPECT_EQ(out.edited, 1);
  EXPECT_EQ(store_.find("survey", "m")->review.text, "Middle, second version.");
  EXPECT_LT(store_.find("survey", "o")->id, store_.find("survey", "n")->id);
}

// A review of one long unpunctuated sentence with hundreds of contrasts ("but", "although")
// once scored NaN; SQLite stores NaN as NULL, so the poll failed on NOT NULL every time and the
// source stalled. It is stored and scored like any other review, next to an ordinary one.
TEST_F(PipelineTest, AReviewWithHundredsOfContrastsIsStoredWithFiniteScores) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "the doctor was kind but the wait was long although ";
  text += "parking was fine";
  conn_.reviews = {raw_review("long", text, 3), raw_review("short", "Rude front desk.", 1)};
  PollOutcome out = poll();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 2);
  auto stored = store_.find("survey", "long");
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->analysis.scored);
  EXPECT_TRUE(std::isfinite(stored->analysis.score));
  EXPECT_FALSE(stored->analysis.touchpoints.empty());
  for (const auto& tp : stored->analysis.touchpoints) {
    EXPECT_TRUE(std::isfinite(tp.score)) << tp.touchpoint;
    EXPECT_LE(std::abs(tp.score), 1.0) << tp.touchpoint;
  }
  EXPECT_TRUE(store_.find("survey", "short"));
}

// A review the store refuses (here a test trigger aborts its INSERT, as a constraint would) is
// left out with a problem that names it; the rest of the poll is stored, alerted and the cursor
// moves on. Before, the whole poll rolled back on every retry and the source stalled for good.
TEST_F(PipelineTest, AReviewTheStoreRefusesIsLeftOutAndTheRestIsStored) {
  db_.exec(
      "CREATE TEMP TRIGGER poison BEFORE INSERT ON main.reviews WHEN NEW.external_id = 'bad' "
      "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END");
  conn_.reviews = {raw_review("a", "Rude staff.", 1), raw_review("bad", "Awful wait.", 1),
                   raw_review("c", "Lovely nurses.", 5)};
  std::vector<std::string> seen;
  ReviewHook hook = [&](const StoredEvent& e) {
    seen.push_back(e.review.external_id);
    return 1;
  };
  PollOutcome out = poll(hook, 5000);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 2);
  EXPECT_EQ(out.alerts_queued, 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "c"}));
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_EQ(out.problems[0].where, "review bad");
  EXPECT_NE(out.problems[0].message.find("refused for the test"), std::string::npos)
      << out.problems[0].message;
  EXPECT_EQ(store_.count_reviews(), 2);
  EXPECT_FALSE(store_.find("survey", "bad"));
  auto a = store_.find("survey", "a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->analysis.touchpoints, analyzer_.analyze("Rude staff.").touchpoints);
  EXPECT_EQ(store_.poll_state("survey").cursor, "c1");
  EXPECT_EQ(store_.poll_state("survey").consecutive_failures, 0);

  // The next poll: the stored ones are unchanged, the refused one is reported again.
  seen.clear();
  PollOutcome again = poll(hook, 6000);
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(again.unchanged, 2);
  EXPECT_EQ(again.inserted, 0);
  ASSERT_EQ(again.problems.size(), 1u);
  EXPECT_EQ(again.problems[0].where, "review bad");
}

// A failure of the database itself (here: read-only) is not a bad record: nothing of the poll
// is stored and nothing is left out, so the next poll fetches it all again.
TEST_F(PipelineTest, ADatabaseFailureRollsBackTheWholePollAndSkipsNothing) {
  conn_.reviews = {raw_review("a", "Rude staff.", 1), raw_review("b", "Lovely.", 5)};
  db_.exec("PRAGMA query_only = 1");
  int calls = 0;
  PollOutcome out = poll(
      [&](const StoredEvent&) {
        ++calls;
        return 1;
      },
      5000);
  db_.exec("PRAGMA query_only = 0");
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("rolled back"), std::string::npos) << out.error;
  EXPECT_TRUE(out.problems.empty());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(store_.count_reviews(), 0);

  PollOutcome retry = poll({}, 6000);
  ASSERT_TRUE(retry.ok) << retry.error;
  EXPECT_EQ(retry.inserted, 2);
}

// ---- polls in parts ------------------------------------------------------------------------

namespace {

// A source that delivers its reviews in parts; the cursor "n" says n reviews are behind it. It
// can be told to fail after some parts of a poll.
class PartsConnector : public connectors::Connector {
 public:
  std::vector<Review> reviews;
  int fail_after_parts = -1;  // < 0: never
  bool complete = false;      // the last part says the poll listed everything
  std::vector<Problem> first_part_problems;
  std::vector<std::string> cursors_seen;

  connectors::FetchResult fetch(const std::string& cursor) override {
    connectors::FetchResult all;
    fetch_parts(cursor, reviews.size() + 1, [&](connectors::FetchResult&& p) {
      for (auto& r : p.reviews) all.reviews.push_back(std::move(r));
      all.cursor = p.cursor;
    });
    return all;
  }
  void fetch_parts(const std::string& cursor, size_t part_size,
                   const connectors::PartSink& deliver) override {
    cursors_seen.push_back(cursor);
    size_t at = cursor.empty() ? 0 : std::stoul(cursor);
    int parts = 0;
    for (;;) {
      if (parts == fail_after_parts) throw SourceError(SourceError::Kind::kTransient, "gone");
      connectors::FetchResult part;
      size_t end = std::min(reviews.size(), at + part_size);
      part.reviews.assign(reviews.begin() + static_cast<std::ptrdiff_t>(at),
                          reviews.begin() + static_cast<std::ptrdiff_t>(end));
      part.cursor = std::to_string(end);
      part.last = end == reviews.size();
      part.complete = part.last && complete;
      if (parts == 0) part.problems = first_part_problems;
      at = end;
      ++parts;
      deliver(std::move(part));
      if (at == reviews.size()) return;
    }
  }
};

class PartsTest : public PipelineTest {
 protected:
  PartsTest() {
    for (int i = 0; i < 10; ++i) {
      Review r = raw_review("r" + std::to_string(i), "Rude staff and a long wait.", 1);
      r.created_at = r.updated_at = 1000 + i;  // history from before the first sync
      parts_.reviews.push_back(r);
    }
  }
  // As the daemon polls: fetched and scored on a worker thread in parts of 3, stored here.
  PollOutcome poll_in_parts(const ReviewHook& hook, int64_t now, const PollHook& poll_hook = {}) {
    std::string cursor = store_.poll_state(source_.id).cursor;
    std::promise<Fetched> first;
    std::thread worker([&] {
      fetch_and_score_streamed(parts_, source_, cursor, analyzer_, 3,
                               [&](Fetched&& f) { first.set_value(std::move(f)); });
    });
    PollOutcome out =
        store_poll(store_, source_, first.get_future().get(), hook, now, now + 900, poll_hook);
    worker.join();  // returns: the worker is never left waiting on a part nobody takes
    return out;
  }
  PartsConnector parts_;
};

}  // namespace

TEST_F(PartsTest, EachPartIsStoredOnceAndThePollEndsAsOneSuccess) {
  std::vector<std::optional<int64_t>> first_syncs;
  ReviewHook hook = [&](const StoredEvent& e) {
    first_syncs.push_back(e.state.first_sync_at);
    return 0;
  };
  PollOutcome out = poll_in_parts(hook, 5000);
  EXPECT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.fetched, 10);
  EXPECT_EQ(out.inserted, 10);
  EXPECT_EQ(store_.count_reviews(), 10);
  // Every part's hook saw the state from before the poll: still the first sync throughout
  // (no alert storm from the history in the later parts).
  ASSERT_EQ(first_syncs.size(), 10u);
  for (const auto& f : first_syncs) EXPECT_FALSE(f.has_value());
  db::PollState st = store_.poll_state(source_.id);
  EXPECT_EQ(st.cursor, "10");
  EXPECT_EQ(st.first_sync_at, 5000);
  EXPECT_EQ(st.last_success_at, 5000);

  PollOutcome again = poll_in_parts({}, 6000);
  EXPECT_TRUE(again.ok);
  EXPECT_EQ(again.fetched, 0);
  EXPECT_EQ(store_.count_reviews(), 10);
}

namespace {

// How many of the four time indexes (db::drop_time_indexes) the store has.
int64_t time_indexes(const db::Database& db) {
  db::Statement st = db.prepare(
      "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
      "('reviews_by_created', 'reviews_by_location', 'reviews_by_source', "
      "'reviews_unanswered_negative')");
  return st.step() ? st.column_int(0) : -1;
}

}  // namespace

// An import into an empty store: once a part is stored, the poll has stored as many reviews as
// the store held before it (none), so the later parts go in without the time indexes, which are
// built once at the end.
TEST_F(PartsTest, AFirstSyncInPartsDefersTheTimeIndexesAndBuildsThemAtTheEnd) {
  std::vector<int64_t> seen;  // per review, in its part's transaction
  PollOutcome out = poll_in_parts(
      [&](const StoredEvent&) {
        seen.push_back(time_indexes(db_));
        return 0;
      },
      5000);
  EXPECT_TRUE(out.ok) << out.error;
  EXPECT_EQ(seen, (std::vector<int64_t>{4, 4, 4, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(time_indexes(db_), 4);
  db::Statement st = db_.prepare(
      "SELECT count(*) FROM reviews INDEXED BY reviews_by_source "
      "WHERE source_id = ?1 AND created_at >= 1005");
  st.bind(1, source_.id);
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_int(0), 5);
}

// A store that holds more than the poll adds keeps its indexes: sorting the whole table again
// would cost more than adding to them.
TEST_F(PartsTest, APollIntoAStoreLargerThanItKeepsTheTimeIndexes) {
  ASSERT_TRUE(poll_in_parts({}, 5000).ok);
  for (int i = 10; i < 19; ++i) {
    Review r = raw_review("r" + std::to_string(i), "Rude staff and a long wait.", 1);
    r.created_at = r.updated_at = 1000 + i;
    parts_.reviews.push_back(r);
  }
  std::vector<int64_t> seen;
  PollOutcome out = poll_in_parts(
      [&](const StoredEvent&) {
        seen.push_back(time_indexes(db_));
        return 0;
      },
      6000);
  EXPECT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 9);  // fewer than the 10 stored before
  EXPECT_EQ(seen, std::vector<int64_t>(9, 4));
}

// However the import ends, the indexes are there after it.
TEST_F(PartsTest, AnImportThatFailsToStoreAPartWhileTheTimeIndexesAreDeferredStillBuildsThem) {
  int calls = 0;
  PollOutcome out = poll_in_parts(
      [&](const StoredEvent&) -> int {
        if (++calls == 8) throw std::runtime_error("disk on fire");  // in the third part
        return 0;
      },
      5000);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(store_.count_reviews(), 6);
  EXPECT_EQ(time_indexes(db_), 4);
}

TEST_F(PartsTest, AnImportWhoseFetchFailsWhileTheTimeIndexesAreDeferredStillBuildsThem) {
  parts_.fail_after_parts = 3;
  PollOutcome out = poll_in_parts({}, 5000);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(store_.count_reviews(), 9);
  EXPECT_EQ(time_indexes(db_), 4);
}

TEST_F(PartsTest, AFetchFailingMidPollKeepsThePartsStoredAndTheNextPollResumesThere) {
  parts_.fail_after_parts = 2;
  PollOutcome out = poll_in_parts({}, 5000);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("gone"), std::string::npos) << out.error;
  EXPECT_EQ(out.inserted, 6);
  EXPECT_EQ(store_.count_reviews(), 6);
  db::PollState st = store_.poll_state(source_.id);
  EXPECT_EQ(st.cursor, "6");  // what the two committed parts cover, nothing more
  EXPECT_EQ(st.consecutive_failures, 1);
  EXPECT_FALSE(st.first_sync_at.has_value());  // the first sync has not ended

  parts_.fail_after_parts = -1;
  std::vector<std::optional<int64_t>> first_syncs;
  PollOutcome next = poll_in_parts(
      [&](const StoredEvent& e) {
        first_syncs.push_back(e.state.first_sync_at);
        return 0;
      },
      6000);
  EXPECT_TRUE(next.ok) << next.error;
  EXPECT_EQ(parts_.cursors_seen.back(), "6");
  EXPECT_EQ(next.inserted, 4);
  EXPECT_EQ(store_.count_reviews(), 10);                          // no loss, no duplicate
  for (const auto& f : first_syncs) EXPECT_FALSE(f.has_value());  // still the first sync
  EXPECT_EQ(store_.poll_state(source_.id).first_sync_at, 6000);
}

TEST_F(PartsTest, AStoreFailingMidPollStopsTheFetchAndKeepsTheCursorAtTheLastCommit) {
  int calls = 0;
  ReviewHook hook = [&](const StoredEvent&) -> int {
    if (++calls == 5) throw std::runtime_error("disk on fire");  // in the second part
    return 0;
  };
  PollOutcome out = poll_in_parts(hook, 5000);  // returns: the worker stopped
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("disk on fire"), std::string::npos) << out.error;
  EXPECT_EQ(store_.count_reviews(), 3);  // the second part rolled back whole
  EXPECT_EQ(store_.poll_state(source_.id).cursor, "3");

  PollOutcome next = poll_in_parts({}, 6000);
  EXPECT_TRUE(next.ok) << next.error;
  EXPECT_EQ(store_.count_reviews(), 10);
}

// A complete listing delivered in parts: what no part listed is marked removed, once, at the end
// of the poll, in the transaction that records the poll; the health hook runs there too, once,
// with the state from before the poll and every new review of the poll.
TEST_F(PartsTest, ACompleteListingInPartsRemovesOnlyWhatNoPartListed) {
  conn_.reviews = {raw_review("gone", "Awful wait.", 1)};
  ASSERT_TRUE(
      store_poll(store_, source_, fetch_and_score(conn_, source_, "", analyzer_), {}, 4000).ok);
  store_.save_cursor(source_.id, "0");  // the parts connector lists from its start

  parts_.complete = true;
  std::vector<std::pair<std::string, StoredEvent::Change>> removed;
  ReviewHook hook = [&](const StoredEvent& e) {
    if (e.change == StoredEvent::Change::kRemoved)
      removed.emplace_back(e.review.external_id, e.change);
    return 0;
  };
  std::vector<int> hook_inserted;
  std::vector<std::optional<int64_t>> hook_before_success;
  PollHook poll_hook = [&](const PollEvent& e) {
    hook_inserted.push_back(e.inserted);
    hook_before_success.push_back(e.before.last_success_at);
    EXPECT_TRUE(e.ok);
    return 0;
  };
  PollOutcome out = poll_in_parts(hook, 5000, poll_hook);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 10);
  EXPECT_EQ(out.removed, 1);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].first, "gone");
  EXPECT_EQ(store_.find(source_.id, "gone")->removed_at, 5000);
  for (int i = 0; i < 10; ++i)  // every part's reviews, the first part's too
    EXPECT_FALSE(store_.find(source_.id, "r" + std::to_string(i))->removed_at) << i;
  EXPECT_EQ(store_.count_reviews(source_.id), 10);
  EXPECT_EQ(hook_inserted, std::vector<int>{10});  // once, for the poll
  EXPECT_EQ(hook_before_success, std::vector<std::optional<int64_t>>{4000});
  EXPECT_EQ(store_.poll_state(source_.id).last_new_at, 5000);
}

// A problem in an earlier part keeps a complete listing from removing (the skipped record may
// be a stored review), and it is among the poll's warnings, though the last part had none.
TEST_F(PartsTest, AProblemInAnEarlierPartKeepsACompleteListingFromRemoving) {
  conn_.reviews = {raw_review("gone", "Awful wait.", 1)};
  ASSERT_TRUE(
      store_poll(store_, source_, fetch_and_score(conn_, source_, "", analyzer_), {}, 4000).ok);
  store_.save_cursor(source_.id, "0");

  parts_.complete = true;
  parts_.first_part_problems = {{"export.csv:7", "no date; skipped"}};
  PollOutcome out = poll_in_parts({}, 5000);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.removed, 0);
  EXPECT_FALSE(store_.find(source_.id, "gone")->removed_at);
  db::PollState st = store_.poll_state(source_.id);
  ASSERT_EQ(st.warnings.size(), 1u);
  EXPECT_EQ(st.warnings[0].where, "export.csv:7");
}

TEST(PartChannel, AProducerStopsWhenTheConsumerLetsGo) {
  auto channel = std::make_shared<PartChannel>(1);
  std::atomic<int> put{0};
  std::thread producer([&] {
    while (channel->put(Fetched{})) ++put;
  });
  {
    MoreParts more(channel);
    (*more).take();
  }  // let go: closes the channel
  producer.join();
  EXPECT_GE(put.load(), 1);
}

// A part is handed over, never left waiting (the default capacity 0): put() returns once the
// consumer took the part, so the producer holds at most the next one. A part nobody takes
// makes put() return false when the consumer lets go, however long that takes.
TEST(PartChannel, APartIsHandedOverNotLeftWaiting) {
  auto channel = std::make_shared<PartChannel>();
  std::promise<bool> first_put, second_put;
  std::thread producer([&] {
    first_put.set_value(channel->put(Fetched{}));
    second_put.set_value(channel->put(Fetched{}));
  });
  {
    MoreParts more(channel);
    (*more).take();
    EXPECT_TRUE(first_put.get_future().get());  // taken: handed over
    // The second part is never taken: its put() must not return while the consumer holds on
    // (with room for a waiting part it would return true at once).
    auto second = second_put.get_future();
    EXPECT_EQ(second.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
    // (leaving the scope lets go of the channel)
    more = MoreParts();
    EXPECT_FALSE(second.get());
  }
  producer.join();
}

// A first sync in parts of a complete listing keeps every review: with nothing stored before
// the poll, nothing can be missing from its listing (the ids of the earlier parts are not kept).
TEST_F(PartsTest, ACompleteFirstSyncInPartsRemovesNothing) {
  parts_.complete = true;
  std::vector<StoredEvent::Change> changes;
  PollOutcome out = poll_in_parts(
      [&](const StoredEvent& e) {
        changes.push_back(e.change);
        return 0;
      },
      5000);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.inserted, 10);
  EXPECT_EQ(out.removed, 0);
  EXPECT_EQ(changes.size(), 10u);
  for (auto c : changes) EXPECT_NE(c, StoredEvent::Change::kRemoved);
  EXPECT_EQ(store_.count_reviews(source_.id), 10);  // none marked removed

  // The next complete listing lacks r0: it is marked removed, the others are kept.
  parts_.reviews.erase(parts_.reviews.begin());
  store_.save_cursor(source_.id, "0");
  PollOutcome next = poll_in_parts({}, 6000);
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.removed, 1);
  EXPECT_EQ(store_.find(source_.id, "r0")->removed_at, 6000);
  EXPECT_EQ(store_.count_reviews(source_.id), 9);
}

// A review in another language with the source's translation is analysed on the translation;
// the reviewer's words stay the text. A translation the analyzer does not score (into another
// language) is ignored.
TEST_F(PipelineTest, AReviewWithATranslationIsAnalysedOnIt) {
  Review es = raw_review("es", "Esperamos dos horas y la recepcionista fue grosera.", std::nullopt,
                         RatingScale::none());
  es.translated_text = "We waited two hours and the receptionist was rude.";
  Review de = raw_review("de", "The nurses were lovely and kind.", 5);
  de.translated_text = "Die Krankenschwestern waren reizend und freundlich.";
  conn_.reviews = {es, de};
  PollOutcome out = poll();
  ASSERT_TRUE(out.ok) << out.error;

  auto s_es = store_.find("survey", "es");
  ASSERT_TRUE(s_es);
  EXPECT_EQ(s_es->review.text, es.text);
  EXPECT_TRUE(s_es->analysis.on_translation);
  EXPECT_EQ(s_es->analysis.language, "es");
  Analysis of_translation = analyzer_.analyze(es.translated_text);
  EXPECT_EQ(s_es->analysis.score, of_translation.score);
  EXPECT_EQ(s_es->analysis.touchpoints, of_translation.touchpoints);
  EXPECT_LT(s_es->analysis.score, 0);
  EXPECT_FALSE(s_es->analysis.touchpoints.empty());
  // Unrated and negative by its (translated) text: counted as negative.
  EXPECT_EQ(analyzer_.analyze(es.text).score, 0);  // what it scored before

  auto s_de = store_.find("survey", "de");
  ASSERT_TRUE(s_de);
  EXPECT_FALSE(s_de->analysis.on_translation);
  EXPECT_EQ(s_de->analysis, analyzer_.analyze(de.text));
}

// The source says the reviewer wrote in English and the analyzer agrees: the reviewer's words
// are analysed, not the source's translation into another language, even when that
// translation is too short to read as anything but English (Places asked for Spanish).
TEST_F(PipelineTest, ATranslationOfAReviewInTheAnalyzersLanguageIsNotAnalysed) {
  Review en = raw_review("en", "The doctor was excellent and so kind to my son.", 5);
  en.language = "en";
  en.translated_text = "Doctora excelente.";
  // What the old rule went by: the translation alone reads as English and is scored.
  ASSERT_TRUE(analyzer_.analyze(en.translated_text).scored);
  ASSERT_EQ(analyzer_.analyze(en.translated_text).language, "en");
  Review es = raw_review("es", "Esperamos dos horas y la recepcionista fue grosera.", 1);
  es.language = "es-419";
  es.translated_text = "We waited two hours and the receptionist was rude.";
  conn_.reviews = {en, es};
  PollOutcome out = poll();
  ASSERT_TRUE(out.ok) << out.error;

  auto s_en = store_.find("survey", "en");
  ASSERT_TRUE(s_en);
  EXPECT_FALSE(s_en->analysis.on_translation);
  EXPECT_EQ(s_en->analysis, analyzer_.analyze(en.text));
  EXPECT_GT(s_en->analysis.score, 0);

  auto s_es = store_.find("survey", "es");  // the source says Spanish: the translation
  ASSERT_TRUE(s_es);
  EXPECT_TRUE(s_es->analysis.on_translation);
  EXPECT_EQ(s_es->analysis.language, "es-419");
  EXPECT_LT(s_es->analysis.score, 0);
}

// A listing the connector says is complete marks the source's stored reviews it lacks as
// removed, in the poll's transaction, with a hook event for each (the review as stored); a
// review listed again is restored. Incomplete listings never remove.
TEST_F(PipelineTest, ACompleteListingMarksMissingReviewsRemoved) {
  conn_.reviews = {raw_review("a", "Rude staff.", 1), raw_review("b", "Awful wait.", 1),
                   raw_review("c", "Lovely nurses.", 5)};
  conn_.complete = true;
  ASSERT_TRUE(poll({}, 5000).ok);

  conn_.reviews = {raw_review("a", "Rude staff.", 1), raw_review("c", "Lovely nurses.", 5)};
  conn_.complete = false;  // a partial poll: b may still be there
  PollOutcome partial = poll({}, 5500);
  ASSERT_TRUE(partial.ok);
  EXPECT_EQ(partial.removed, 0);
  EXPECT_FALSE(store_.find("survey", "b")->removed_at);

  conn_.complete = true;
  std::vector<std::pair<std::string, StoredEvent::Change>> seen;
  std::optional<Analysis> removed_analysis;
  ReviewHook hook = [&](const StoredEvent& e) {
    seen.emplace_back(e.review.external_id, e.change);
    if (e.change == StoredEvent::Change::kRemoved) {
      removed_analysis = e.analysis;
      EXPECT_EQ(e.upsert.review_id, store_.find("survey", "b")->id);
      EXPECT_EQ(e.poll_started_at, 6000);
    }
    return 0;
  };
  PollOutcome out = poll(hook, 6000);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.removed, 1);
  EXPECT_EQ(out.unchanged, 2);
  using C = StoredEvent::Change;
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, C>>{
                      {"a", C::kStored}, {"c", C::kStored}, {"b", C::kRemoved}}));
  ASSERT_TRUE(removed_analysis);
  EXPECT_EQ(removed_analysis->touchpoints, analyzer_.analyze("Awful wait.").touchpoints);
  auto b = store_.find("survey", "b");
  ASSERT_TRUE(b);  // kept
  EXPECT_EQ(b->removed_at, 6000);
  EXPECT_EQ(b->review.text, "Awful wait.");
  EXPECT_EQ(store_.count_reviews("survey"), 2);
  EXPECT_EQ(store_.count_reviews("survey", true), 3);

  // Marked once: the next complete listing without it changes nothing.
  PollOutcome again = poll(hook, 6500);
  EXPECT_EQ(again.removed, 0);
  EXPECT_EQ(store_.find("survey", "b")->removed_at, 6000);

  // Back at the source (edited meanwhile): restored, and the edit stored.
  conn_.reviews.push_back(raw_review("b", "Awful wait, two hours.", 1));
  PollOutcome back = poll(hook, 7000);
  ASSERT_TRUE(back.ok) << back.error;
  EXPECT_EQ(back.restored, 1);
  EXPECT_EQ(back.edited, 1);
  b = store_.find("survey", "b");
  EXPECT_FALSE(b->removed_at);
  EXPECT_EQ(b->review.text, "Awful wait, two hours.");
  EXPECT_EQ(store_.count_reviews("survey"), 3);
}

// A poll with any problem removes nothing: a record the connector or the pipeline skipped may
// be a stored review. Nor does a complete listing with no review at all: more likely a fault at
// the source than every review deleted; that is a problem.
TEST_F(PipelineTest, AListingWithProblemsOrNoReviewsRemovesNothing) {
  conn_.reviews = {raw_review("a", "Rude staff.", 1), raw_review("b", "Awful wait.", 1)};
  conn_.complete = true;
  ASSERT_TRUE(poll({}, 5000).ok);

  conn_.reviews = {raw_review("a", "Rude staff.", 1)};
  conn_.problems = {{"export.csv:3", "rating: not a number"}};
  PollOutcome with_problem = poll({}, 6000);
  ASSERT_TRUE(with_problem.ok);
  EXPECT_EQ(with_problem.removed, 0);

  conn_.problems.clear();
  conn_.reviews = {raw_review("a", "Rude staff.", 1), raw_review("", "no id", 1)};
  PollOutcome dropped = poll({}, 6500);  // the pipeline drops the one without an id
  ASSERT_TRUE(dropped.ok);
  EXPECT_EQ(dropped.problems.size(), 1u);
  EXPECT_EQ(dropped.removed, 0);

  conn_.reviews.clear();
  PollOutcome empty = poll({}, 7000);
  ASSERT_TRUE(empty.ok);
  EXPECT_EQ(empty.removed, 0);
  ASSERT_EQ(empty.problems.size(), 1u);
  EXPECT_NE(empty.problems[0].message.find("listed no reviews"), std::string::npos);
  EXPECT_EQ(store_.count_reviews("survey"), 2);

  conn_.reviews = {raw_review("a", "Rude staff.", 1)};
  PollOutcome clean = poll({}, 8000);
  EXPECT_EQ(clean.removed, 1);
  EXPECT_TRUE(clean.problems.empty());
}
