// db/store: migrations, upsert with edit detection, analyses, poll state.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/error.h"
#include "db/store.h"
#include "tests/fixtures/temp_dir.h"

using namespace repwatch;
using namespace repwatch::db;
namespace fs = std::filesystem;

namespace {

using repwatch::testing::TempDir;

Review make_review(const std::string& external_id, const std::string& text, double stars) {
  Review r;
  r.source_id = "google-downtown";
  r.external_id = external_id;
  r.location_id = "downtown";
  r.author = "Jane D.";
  r.raw_rating = stars;
  r.scale = RatingScale::stars();
  r.rating = stars;
  r.text = text;
  r.language = "en";
  r.created_at = 1700000000;
  r.updated_at = 1700000000;
  r.url = "https://example.test/r/" + external_id;
  return r;
}

Analysis make_analysis(double score, const std::string& touchpoint, const std::string& phrase,
                       uint32_t offset) {
  Analysis a;
  a.score = score;
  a.label = score <= -0.05 ? Label::kNegative : score >= 0.05 ? Label::kPositive : Label::kNeutral;
  a.language = "en";
  a.lexicon_version = "test-1";
  a.terms = {{phrase, offset, static_cast<uint32_t>(phrase.size())}};
  a.touchpoints = {{touchpoint, score, {{phrase, offset, static_cast<uint32_t>(phrase.size())}}}};
  return a;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.emplace(open_store(dir_.path() / "repwatch.db"));
    store_.emplace(*db_);
    store_->ensure_location("downtown", "Downtown Family Practice");
    store_->ensure_source("google-downtown", "google_business", "downtown", 1000);
  }
  int64_t scalar(const std::string& sql) {
    Statement st = db_->prepare(sql);
    EXPECT_TRUE(st.step()) << sql;
    return st.column_int(0);
  }

  TempDir dir_;
  std::optional<Database> db_;
  std::optional<ReviewStore> store_;
};

}  // namespace

TEST(Migrations, ApplyOnceAndReopenIsANoOp) {
  TempDir dir;
  fs::path file = dir.path() / "repwatch.db";
  const int n = static_cast<int>(schema_migrations().size());
  ASSERT_GE(n, 1);
  EXPECT_STREQ(schema_migrations()[0].name, "core");
  {
    Database db = open_store(file);
    EXPECT_EQ(db.user_version(), n);
    db.exec("INSERT INTO locations(id, name) VALUES ('x', 'X')");
  }
  {
    // Reopening applies nothing again: a second CREATE TABLE would throw, data survives.
    Database db = open_store(file);
    EXPECT_EQ(db.user_version(), n);
    Statement st = db.prepare("SELECT count(*) FROM locations");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.column_int(0), 1);
    Statement mode = db.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode.step());
    EXPECT_EQ(mode.column_text(0), "wal");
  }
}

namespace {

// name -> CREATE statement of the four indexes on reviews.created_at (db::drop_time_indexes).
std::map<std::string, std::string> time_indexes(const Database& db) {
  std::map<std::string, std::string> out;
  Statement st = db.prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reviews' AND "
      "sql LIKE '%created_at%' AND name != 'reviews_removed'");
  while (st.step()) out[std::string(st.column_text(0))] = std::string(st.column_text(1));
  return out;
}

}  // namespace

TEST(Migrations, TheTimeIndexesAreBuiltAgainExactlyAsTheMigrationsMadeThem) {
  TempDir dir;
  Database db = open_store(dir.path() / "repwatch.db");
  const auto made = time_indexes(db);
  ASSERT_EQ(made.size(), 4u);
  EXPECT_EQ(made.count("reviews_unanswered_negative"), 1u);
  db.exec(
      "INSERT INTO locations(id, name) VALUES ('x', 'X');"
      "INSERT INTO sources(id, type, location_id, added_at) VALUES ('s', 'file', 'x', 0);"
      "INSERT INTO reviews(source_id, external_id, location_id, scale, created_at, updated_at, "
      "content_hash, first_seen_at, last_seen_at, negative) VALUES "
      "('s', 'a', 'x', '1-5', 30, 30, 'h', 0, 0, 1), ('s', 'b', 'x', '1-5', 10, 10, 'h', 0, 0, 0)");

  drop_time_indexes(db);
  EXPECT_TRUE(time_indexes(db).empty());
  drop_time_indexes(db);  // nothing left to drop: no error
  build_time_indexes(db);
  EXPECT_EQ(time_indexes(db), made);  // word for word
  build_time_indexes(db);             // all there: nothing to do
  EXPECT_EQ(time_indexes(db), made);

  // Built over the rows already there, and the connection's settings are back.
  Statement st = db.prepare(
      "SELECT group_concat(external_id) FROM reviews INDEXED BY reviews_by_created "
      "WHERE created_at > 0");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_text(0), "b,a");
  Statement neg = db.prepare(
      "SELECT count(*) FROM reviews INDEXED BY reviews_unanswered_negative "
      "WHERE negative = 1 AND reply_text = '' AND created_at > 0");
  ASSERT_TRUE(neg.step());
  EXPECT_EQ(neg.column_int(0), 1);
  Statement temp = db.prepare("PRAGMA temp_store");
  ASSERT_TRUE(temp.step());
  EXPECT_EQ(temp.column_int(0), 2);  // MEMORY
  Statement cache = db.prepare("PRAGMA cache_size");
  ASSERT_TRUE(cache.step());
  EXPECT_EQ(cache.column_int(0), -65536);
}

// An import stopped while its time indexes were deferred (the daemon killed, the machine off):
// the next open builds them.
TEST(Migrations, OpeningAStoreWhoseTimeIndexesWereDroppedBuildsThem) {
  TempDir dir;
  fs::path file = dir.path() / "repwatch.db";
  std::map<std::string, std::string> made;
  {
    Database db = open_store(file);
    made = time_indexes(db);
    drop_time_indexes(db);
  }
  Database db = open_store(file);
  EXPECT_EQ(time_indexes(db), made);
  Statement check = db.prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.column_text(0), "ok");
}

TEST(Migrations, RefusesADatabaseNewerThanThisProgram) {
  TempDir dir;
  fs::path file = dir.path() / "repwatch.db";
  {
    Database db = open_store(file);
    db.exec("PRAGMA user_version=" + std::to_string(schema_migrations().size() + 5));
  }
  try {
    open_store(file);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, InsertThenFindReconstructsReviewAndAnalysis) {
  Review r = make_review("r1", "The billing office was rude and slow.", 2);
  r.reply_text = "We are sorry, please call us.";
  r.reply_at = 1700003600;
  r.translated_text = "";
  Analysis a = make_analysis(-0.6, "billing", "billing office was rude", 4);
  a.touchpoints.push_back({"front_desk", -0.2, {{"slow", 32, 4}, {"rude", 23, 4}}});

  UpsertResult u = store_->upsert(r, a, 2000);
  EXPECT_EQ(u.outcome, UpsertOutcome::kInserted);
  EXPECT_GT(u.review_id, 0);
  EXPECT_EQ(u.revision, 1);
  EXPECT_FALSE(u.previous);

  auto found = store_->find("google-downtown", "r1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, u.review_id);
  EXPECT_EQ(found->revision, 1);
  EXPECT_EQ(found->first_seen_at, 2000);
  EXPECT_EQ(found->content_hash, content_hash(r));
  const Review& f = found->review;
  EXPECT_EQ(f.source_id, r.source_id);
  EXPECT_EQ(f.external_id, r.external_id);
  EXPECT_EQ(f.location_id, r.location_id);
  EXPECT_EQ(f.author, r.author);
  EXPECT_EQ(f.raw_rating, r.raw_rating);
  EXPECT_EQ(f.scale, r.scale);
  EXPECT_EQ(f.rating, r.rating);
  EXPECT_EQ(f.text, r.text);
  EXPECT_EQ(f.language, r.language);
  EXPECT_EQ(f.created_at, r.created_at);
  EXPECT_EQ(f.updated_at, r.updated_at);
  EXPECT_EQ(f.reply_text, r.reply_text);
  EXPECT_EQ(f.reply_at, r.reply_at);
  EXPECT_EQ(f.url, r.url);
  EXPECT_EQ(found->analysis, a);

  auto by_id = store_->get(u.review_id);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->analysis, a);
  EXPECT_FALSE(store_->get(u.review_id + 100));
  EXPECT_FALSE(store_->find("google-downtown", "nope"));

  // Evidence is stored as [offset, length] spans of the text, JSON that SQLite itself reads.
  Statement st = db_->prepare(
      "SELECT substr(r.text, json_extract(h.evidence, '$[1][0]') + 1, json_extract(h.evidence, "
      "'$[1][1]')), json_array_length(h.evidence), h.evidence FROM touchpoint_hits h JOIN "
      "reviews r ON r.id = h.review_id WHERE touchpoint = 'front_desk'");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_text(0), "rude");
  EXPECT_EQ(st.column_int(1), 2);
  EXPECT_EQ(st.column_text(2), "[[32,4],[23,4]]");
}

TEST(Spans, RoundTripAndBadInput) {
  std::string json;
  encode_spans({}, json);
  EXPECT_EQ(json, "[]");
  const std::string text = "The nurse was kind.";
  encode_spans({{"nurse", 4, 5}, {"kind", 14, 4}}, json);
  EXPECT_EQ(json, "[[4,5],[14,4]]");
  auto back = decode_spans(json, text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (std::vector<Evidence>{{"nurse", 4, 5}, {"kind", 14, 4}}));
  // A span past the end of the text (the text was cut or edited by hand) is left out.
  back = decode_spans("[[4,5],[14,40]]", text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size(), 1u);
  EXPECT_FALSE(decode_spans("[{\"phrase\":\"x\"}]", text));
  EXPECT_FALSE(decode_spans("[[1]]", text));
  EXPECT_FALSE(decode_spans("[[-1,2]]", text));
  EXPECT_FALSE(decode_spans("not json", text));
}

// A database written before migration 4 (evidence with the phrases in it, hits with a rowid
// order) is converted in place: same spans, same order.
TEST(Migrations, OldEvidenceIsConvertedToSpans) {
  TempDir dir;
  fs::path file = dir.path() / "repwatch.db";
  {
    Database db = Database::open(file);
    std::vector<Migration> first3(schema_migrations().begin(), schema_migrations().begin() + 3);
    db.migrate(first3);
    db.exec(
        "INSERT INTO locations VALUES ('loc', 'Loc');"
        "INSERT INTO sources(id, type, location_id, added_at) VALUES ('src', 'file', 'loc', 1);"
        "INSERT INTO reviews(id, source_id, external_id, location_id, scale, text, created_at, "
        "updated_at, content_hash, first_seen_at, last_seen_at) VALUES (7, 'src', 'e1', 'loc', "
        "'1-5', 'The nurse was kind but billing was slow.', 86400, 86400, 'h', 1, 1);"
        "INSERT INTO analyses VALUES (7, -0.1, 'neutral', 'en', 1, 'v1', 1, "
        "'[{\"phrase\":\"kind\",\"offset\":14,\"length\":4}]');"
        "INSERT INTO touchpoint_hits VALUES (7, 'nurses_staff', 0.5, "
        "'[{\"phrase\":\"nurse\",\"offset\":4,\"length\":5},"
        "{\"phrase\":\"kind\",\"offset\":14,\"length\":4}]');"
        "INSERT INTO touchpoint_hits VALUES (7, 'billing', -0.4, '[{\"phrase\":\"billing\","
        "\"offset\":23,\"length\":7}]');");
  }
  Database db = open_store(file);
  EXPECT_EQ(db.user_version(), static_cast<int>(schema_migrations().size()));
  ReviewStore store(db);
  auto r = store.get(7);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->analysis.touchpoints.size(), 2u);
  EXPECT_EQ(r->analysis.touchpoints[0].touchpoint, "nurses_staff");
  EXPECT_EQ(r->analysis.touchpoints[0].evidence,
            (std::vector<Evidence>{{"nurse", 4, 5}, {"kind", 14, 4}}));
  EXPECT_EQ(r->analysis.touchpoints[1].touchpoint, "billing");
  EXPECT_EQ(r->analysis.touchpoints[1].evidence, (std::vector<Evidence>{{"billing", 23, 7}}));
  EXPECT_EQ(r->analysis.terms, (std::vector<Evidence>{{"kind", 14, 4}}));
  // Deleting the review takes its hits along (a trigger now, no foreign key).
  db.exec("DELETE FROM reviews WHERE id = 7");
  Statement st = db.prepare("SELECT count(*) FROM touchpoint_hits");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_int(0), 0);
}

TEST_F(StoreTest, ScalesAndMissingRatingRoundTrip) {
  Review nps = make_review("nps1", "Fine.", 0);
  nps.scale = RatingScale::parse("0-10");
  nps.raw_rating = 7;
  nps.rating = 1 + 4 * 0.7;
  Review fb = make_review("fb1", "Recommend!", 0);
  fb.scale = RatingScale::binary();
  fb.raw_rating = 1;
  fb.rating = 5;
  Review none = make_review("none1", "", 0);
  none.scale = RatingScale::none();
  none.raw_rating.reset();
  none.rating.reset();
  for (const Review& r : {nps, fb, none}) store_->upsert(r, Analysis{}, 10);
  EXPECT_EQ(store_->find("google-downtown", "nps1")->review.scale, RatingScale::linear(0, 10));
  EXPECT_EQ(store_->find("google-downtown", "fb1")->review.scale, RatingScale::binary());
  auto n = store_->find("google-downtown", "none1");
  EXPECT_EQ(n->review.scale, RatingScale::none());
  EXPECT_FALSE(n->review.rating);
  EXPECT_FALSE(n->review.raw_rating);
  EXPECT_TRUE(n->analysis.touchpoints.empty());
}

TEST_F(StoreTest, SameReviewTwiceIsStoredOnceAndUnchanged) {
  Review r = make_review("r1", "Great doctor.", 5);
  Analysis a = make_analysis(0.8, "physician", "Great doctor", 0);
  UpsertResult first = store_->upsert(r, a, 2000);
  UpsertResult second = store_->upsert(r, a, 3000);
  EXPECT_EQ(second.outcome, UpsertOutcome::kUnchanged);
  EXPECT_EQ(second.review_id, first.review_id);
  EXPECT_EQ(second.revision, 1);
  EXPECT_FALSE(second.previous);
  EXPECT_EQ(store_->count_reviews(), 1);
  EXPECT_EQ(store_->count_revisions(first.review_id), 0);
  EXPECT_EQ(scalar("SELECT last_seen_at FROM reviews"), 3000);
  EXPECT_EQ(scalar("SELECT first_seen_at FROM reviews"), 2000);
  EXPECT_EQ(scalar("SELECT count(*) FROM touchpoint_hits"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM analyses"), 1);
}

TEST_F(StoreTest, EditUpdatesInPlaceKeepsRevisionAndReplacesAnalysis) {
  Review r = make_review("r1", "Great doctor, nice nurses.", 5);
  Analysis a = make_analysis(0.8, "physician", "Great doctor", 0);
  a.touchpoints.push_back({"nursing", 0.5, {{"nice nurses", 14, 11}}});
  UpsertResult first = store_->upsert(r, a, 2000);

  Review edited = r;
  edited.text = "Waited 2 hours and the billing was a nightmare.";
  edited.raw_rating = 1;
  edited.rating = 1;
  edited.updated_at = r.updated_at + 86400;
  Analysis b = make_analysis(-0.7, "billing", "billing was a nightmare", 23);
  b.touchpoints.push_back({"wait_time", -0.6, {{"Waited 2 hours", 0, 14}}});
  UpsertResult u = store_->upsert(edited, b, 5000);

  EXPECT_EQ(u.outcome, UpsertOutcome::kEdited);
  EXPECT_EQ(u.review_id, first.review_id);
  EXPECT_EQ(u.revision, 2);
  ASSERT_TRUE(u.previous);
  EXPECT_EQ(u.previous->text, r.text);
  EXPECT_EQ(u.previous->rating, 5);
  ASSERT_TRUE(u.previous_analysis);
  EXPECT_EQ(*u.previous_analysis, a);

  EXPECT_EQ(store_->count_reviews(), 1);
  EXPECT_EQ(store_->count_revisions(u.review_id), 1);
  auto now = store_->get(u.review_id);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->revision, 2);
  EXPECT_EQ(now->review.text, edited.text);
  EXPECT_EQ(now->first_seen_at, 2000);
  EXPECT_EQ(now->analysis, b);  // the old touchpoints are gone
  EXPECT_EQ(scalar("SELECT count(*) FROM touchpoint_hits"), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM touchpoint_hits WHERE touchpoint = 'physician'"), 0);

  Statement rev = db_->prepare(
      "SELECT revision, text, rating, sentiment, label, negative, replaced_at FROM "
      "review_revisions WHERE review_id = ?");
  rev.bind(1, u.review_id);
  ASSERT_TRUE(rev.step());
  EXPECT_EQ(rev.column_int(0), 1);
  EXPECT_EQ(rev.column_text(1), r.text);
  EXPECT_DOUBLE_EQ(rev.column_double(2), 5);
  EXPECT_DOUBLE_EQ(rev.column_double(3), 0.8);
  EXPECT_EQ(rev.column_text(4), "positive");
  EXPECT_EQ(rev.column_int(5), 0);
  EXPECT_EQ(rev.column_int(6), 5000);
  EXPECT_FALSE(rev.step());
  rev.reset();

  // The summary columns follow the edit; the same edit again is unchanged.
  EXPECT_EQ(scalar("SELECT negative FROM reviews"), 1);
  EXPECT_EQ(store_->upsert(edited, b, 6000).outcome, UpsertOutcome::kUnchanged);
  // A reply added later is another edit.
  edited.reply_text = "Please call our billing manager.";
  UpsertResult third = store_->upsert(edited, b, 7000);
  EXPECT_EQ(third.outcome, UpsertOutcome::kEdited);
  EXPECT_EQ(third.revision, 3);
  EXPECT_EQ(store_->count_revisions(u.review_id), 2);
  EXPECT_EQ(store_->count_reviews(), 1);
}

TEST_F(StoreTest, NegativeFollowsTheRuleAndItsThresholds) {
  struct Case {
    std::string id;
    std::optional<double> rating;
    double sentiment;
    bool negative;
  };
  std::vector<Case> cases = {
      {"two-stars", 2.0, 0.9, true},
      {"noisy-two", 2.0000000000000004, 0.9, true},
      {"three-stars", 3.0, -0.9, false},  // the rating decides when there is one
      {"no-rating-bad", std::nullopt, -0.3, true},
      {"no-rating-meh", std::nullopt, -0.29, false},
  };
  for (const auto& c : cases) {
    Review r = make_review(c.id, "text", 0);
    r.rating = c.rating;
    r.raw_rating = c.rating;
    Analysis a;
    a.score = c.sentiment;
    store_->upsert(r, a, 1);
  }
  for (const auto& c : cases) {
    Statement st = db_->prepare("SELECT negative FROM reviews WHERE external_id = ?");
    st.bind(1, c.id);
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.column_int(0) != 0, c.negative) << c.id;
  }

  // Stricter thresholds for another store on the same database.
  ReviewStore strict(*db_, NegativeRule{1.0, -0.5});
  Review r = make_review("strict", "text", 2);
  strict.upsert(r, Analysis{}, 1);
  EXPECT_EQ(scalar("SELECT negative FROM reviews WHERE external_id = 'strict'"), 0);
  EXPECT_TRUE(strict.negative_rule().is_negative(1.0, 0));
  EXPECT_FALSE(strict.negative_rule().is_negative(std::nullopt, -0.4));
}

TEST_F(StoreTest, SaveAnalysisRescoresInPlace) {
  Review r = make_review("r1", "No rating here, the portal never works.", 0);
  r.rating.reset();
  r.raw_rating.reset();
  UpsertResult u = store_->upsert(r, make_analysis(0.1, "portal", "portal", 20), 10);
  EXPECT_EQ(scalar("SELECT negative FROM reviews"), 0);
  Analysis rescored = make_analysis(-0.5, "portal", "portal never works", 20);
  rescored.lexicon_version = "test-2";
  store_->save_analysis(u.review_id, rescored, 20);
  EXPECT_EQ(store_->get(u.review_id)->analysis, rescored);
  EXPECT_EQ(scalar("SELECT negative FROM reviews"), 1);
  EXPECT_EQ(scalar("SELECT analyzed_at FROM analyses"), 20);
  EXPECT_EQ(scalar("SELECT revision FROM reviews"), 1);  // a rescore is not an edit
  EXPECT_THROW(store_->save_analysis(u.review_id + 1, rescored, 20), DbError);
}

TEST_F(StoreTest, RejectsReviewsWithoutIdentity) {
  Review r = make_review("", "text", 3);
  EXPECT_THROW(store_->upsert(r, Analysis{}, 1), DbError);
  EXPECT_EQ(store_->count_reviews(), 0);
}

TEST_F(StoreTest, PollStateCountsSuccessesAndFailures) {
  PollState fresh = store_->poll_state("google-downtown");
  EXPECT_EQ(fresh.source_id, "google-downtown");
  EXPECT_EQ(fresh.cursor, "");
  EXPECT_FALSE(fresh.first_sync_at);
  EXPECT_EQ(fresh.consecutive_failures, 0);

  store_->record_failure("google-downtown",
                         db::PollFailure{SourceError::Kind::kTransient, "HTTP 503", 160, false, ""},
                         100);
  store_->record_failure("google-downtown",
                         db::PollFailure{SourceError::Kind::kAuth, "invalid token", 3800, true, ""},
                         200);
  PollState failing = store_->poll_state("google-downtown");
  EXPECT_EQ(failing.consecutive_failures, 2);
  EXPECT_EQ(failing.last_error, "invalid token");
  EXPECT_EQ(failing.last_error_kind, SourceError::Kind::kAuth);
  EXPECT_EQ(failing.last_error_at, 200);
  EXPECT_EQ(failing.last_attempt_at, 200);
  EXPECT_EQ(failing.next_poll_at, 3800);
  EXPECT_TRUE(failing.needs_attention);
  EXPECT_FALSE(failing.last_success_at);
  EXPECT_FALSE(failing.first_sync_at);
  EXPECT_EQ(failing.cursor, "");
  // A transient failure after an auth failure does not hide that a person must act.
  store_->record_failure(
      "google-downtown",
      db::PollFailure{SourceError::Kind::kTransient, "timeout", std::nullopt, false, ""}, 300);
  EXPECT_TRUE(store_->poll_state("google-downtown").needs_attention);
  EXPECT_EQ(store_->poll_state("google-downtown").consecutive_failures, 3);

  store_->record_success("google-downtown", "page-token-1", 400, 1300);
  PollState ok = store_->poll_state("google-downtown");
  EXPECT_EQ(ok.cursor, "page-token-1");
  EXPECT_EQ(ok.consecutive_failures, 0);
  EXPECT_EQ(ok.last_error, "");
  EXPECT_EQ(ok.last_error_kind, std::nullopt);
  EXPECT_FALSE(ok.last_error_at);
  EXPECT_FALSE(ok.needs_attention);
  EXPECT_EQ(ok.last_success_at, 400);
  EXPECT_EQ(ok.first_sync_at, 400);
  EXPECT_EQ(ok.next_poll_at, 1300);

  store_->record_success("google-downtown", "page-token-2", 500, std::nullopt);
  PollState again = store_->poll_state("google-downtown");
  EXPECT_EQ(again.first_sync_at, 400);  // the first sync stays the first
  EXPECT_EQ(again.cursor, "page-token-2");
  EXPECT_FALSE(again.next_poll_at);

  // A failure keeps the cursor.
  store_->record_failure(
      "google-downtown",
      db::PollFailure{SourceError::Kind::kGarbage, "not JSON", std::nullopt, false, ""}, 600);
  EXPECT_EQ(store_->poll_state("google-downtown").cursor, "page-token-2");
  EXPECT_EQ(store_->poll_state("google-downtown").consecutive_failures, 1);

  store_->ensure_source("yelp-downtown", "yelp", "downtown", 1000);
  auto all = store_->all_poll_states();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].source_id, "google-downtown");
  EXPECT_EQ(all[0].cursor, "page-token-2");
  EXPECT_EQ(all[1].source_id, "yelp-downtown");
  EXPECT_EQ(all[1].consecutive_failures, 0);

  try {
    store_->record_success("nowhere", "", 1, std::nullopt);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("nowhere"), std::string::npos);
  }
}

// The kind of failure is stored as its word ("auth") and read back as the enum; a word this
// version does not know (another program, a newer repwatch) is an error naming the source and
// the word, not a guess.
TEST_F(StoreTest, PollStateFailureKindIsReadBackTypedAndAnUnknownWordIsNamed) {
  for (SourceError::Kind kind :
       {SourceError::Kind::kTransient, SourceError::Kind::kAuth, SourceError::Kind::kGarbage,
        SourceError::Kind::kConfig, SourceError::Kind::kUnavailable}) {
    store_->record_failure("google-downtown",
                           db::PollFailure{kind, "failed", std::nullopt, false, ""}, 100);
    EXPECT_EQ(store_->poll_state("google-downtown").last_error_kind, kind) << to_string(kind);
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM poll_state WHERE source_id = 'google-downtown' AND "
                   "last_error_kind = 'unavailable'"),
            1);
  db_->exec(
      "UPDATE poll_state SET last_error_kind = 'meltdown' WHERE source_id = 'google-downtown'");
  try {
    store_->poll_state("google-downtown");
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("google-downtown"), std::string::npos) << what;
    EXPECT_NE(what.find("meltdown"), std::string::npos) << what;
  }
}

TEST_F(StoreTest, EnsureSourceAndLocationAreIdempotent) {
  store_->ensure_location("downtown", "Downtown Family Practice");
  store_->ensure_location("downtown", "Downtown Family Practice & Urgent Care");
  store_->ensure_source("google-downtown", "google_business", "downtown", 5000);
  store_->ensure_source("survey", "file", "uptown", 5000);  // location registered by id
  EXPECT_EQ(scalar("SELECT count(*) FROM locations"), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM sources"), 2);
  EXPECT_EQ(scalar("SELECT added_at FROM sources WHERE id = 'google-downtown'"), 1000);
  Statement st = db_->prepare("SELECT name FROM locations WHERE id = 'downtown'");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_text(0), "Downtown Family Practice & Urgent Care");
}

TEST_F(StoreTest, ARolledBackTransactionLeavesNothing) {
  {
    Transaction tx(*db_);
    store_->upsert(make_review("r1", "ok", 4), Analysis{}, 1);
    store_->record_success("google-downtown", "c1", 1, std::nullopt);
  }  // no commit
  EXPECT_EQ(store_->count_reviews(), 0);
  EXPECT_EQ(store_->poll_state("google-downtown").cursor, "");
  // The cached statements still work after the rollback.
  {
    Transaction tx(*db_);
    store_->upsert(make_review("r1", "ok", 4), Analysis{}, 1);
    tx.commit();
  }
  EXPECT_EQ(store_->count_reviews(), 1);
}

namespace {

// Every row of `table` in `order`, as text (NULL shown as such): two stores that did the same
// work hold the same rows.
std::vector<std::string> rows_of(const Database& db, const std::string& table,
                                 const std::string& order) {
  Statement st = db.prepare("SELECT * FROM " + table + " ORDER BY " + order);
  std::vector<std::string> rows;
  while (st.step()) {
    std::string row;
    for (int c = 0; c < st.column_count(); ++c) {
      row += c ? "|" : "";
      row += sqlite3_column_type(st.handle(), c) == SQLITE_NULL ? "NULL" : st.column_text(c);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// A poll with everything upsert_many() must get right: more than one batch of 16, a review
// repeated in its batch and one repeated batches later (an edit of the first), a review of a
// second source in the middle, reviews with no, one and many touchpoints.
std::pair<std::vector<Review>, std::vector<Analysis>> awkward_poll(int round) {
  std::vector<Review> reviews;
  std::vector<Analysis> analyses;
  for (int i = 0; i < 40; ++i) {
    std::string id = "r" + std::to_string(i);
    if (i == 5) id = "r3";   // same batch as its first occurrence
    if (i == 30) id = "r2";  // a later batch
    if (round == 2 && i >= 36) id = "new" + std::to_string(i);
    std::string text = "Review " + std::to_string(i) + ": the billing office was rude.";
    if (round == 2 && i % 7 == 0) text += " Edited.";
    Review r = make_review(id, text, 1 + i % 5);
    r.created_at += i;
    if (i == 20) r.source_id = "yelp-downtown";
    Analysis a = make_analysis(i % 3 - 1.0, "billing", "billing", 15);
    if (i % 4 == 0) a.touchpoints.clear();
    if (i % 4 == 1)
      for (const char* t : {"front_desk", "phone", "wait_time", "nurses"})
        a.touchpoints.push_back({t, -0.5, {{"rude", 34, 4}}});
    reviews.push_back(std::move(r));
    analyses.push_back(std::move(a));
  }
  return {std::move(reviews), std::move(analyses)};
}

}  // namespace

TEST_F(StoreTest, UpsertManyStoresExactlyWhatUpsertOneByOneDoes) {
  TempDir other_dir;
  Database other_db = open_store(other_dir.path() / "repwatch.db");
  ReviewStore one_by_one(other_db);
  for (ReviewStore* s : {&*store_, &one_by_one}) {
    s->ensure_location("downtown", "Downtown Family Practice");
    s->ensure_source("google-downtown", "google_business", "downtown", 1000);
    s->ensure_source("yelp-downtown", "yelp", "downtown", 1000);
  }
  // Round 1 is a first sync (no lookups), round 2 a poll of a source with reviews stored:
  // edits, unchanged reviews and new ones.
  for (int round = 1; round <= 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto [reviews, analyses] = awkward_poll(round);
    const int64_t now = 5000 + round;
    std::vector<UpsertResult> many;
    {
      Transaction tx(*db_);
      many = store_->upsert_many(reviews, analyses, now);
      tx.commit();
    }
    ASSERT_EQ(many.size(), reviews.size());
    Transaction tx(other_db);
    for (size_t i = 0; i < reviews.size(); ++i) {
      UpsertResult one = one_by_one.upsert(reviews[i], analyses[i], now);
      EXPECT_EQ(many[i].outcome, one.outcome) << i;
      EXPECT_EQ(many[i].review_id, one.review_id) << i;
      EXPECT_EQ(many[i].revision, one.revision) << i;
      EXPECT_EQ(many[i].previous.has_value(), one.previous.has_value()) << i;
      if (many[i].previous && one.previous) {
        EXPECT_EQ(many[i].previous->text, one.previous->text);
      }
    }
    tx.commit();
    if (round == 1) {
      EXPECT_EQ(many[5].outcome, UpsertOutcome::kEdited);   // r3 again, other text
      EXPECT_EQ(many[30].outcome, UpsertOutcome::kEdited);  // r2 again
      EXPECT_EQ(many[30].review_id, many[2].review_id);
    } else {
      EXPECT_EQ(many[1].outcome, UpsertOutcome::kUnchanged);
      EXPECT_EQ(many[7].outcome, UpsertOutcome::kEdited);
      EXPECT_EQ(many[37].outcome, UpsertOutcome::kInserted);
    }
    for (auto [table, order] : std::vector<std::pair<std::string, std::string>>{
             {"reviews", "id"},
             {"analyses", "review_id"},
             {"touchpoint_hits", "review_id, ord"},
             {"review_revisions", "review_id, revision"}}) {
      std::vector<std::string> got = rows_of(*db_, table, order);
      EXPECT_FALSE(got.empty()) << table;
      EXPECT_EQ(got, rows_of(other_db, table, order)) << table;
    }
  }
}

TEST_F(StoreTest, UpsertManyNamesTheReviewsOfABatchThatFailsAndStoresNoneOfIt) {
  auto [reviews, analyses] = awkward_poll(1);
  reviews.resize(12);
  analyses.resize(12);
  reviews[5].external_id = "r5";       // no repeat: the batch path
  reviews[9].location_id = "nowhere";  // no such location: the foreign key refuses the row
  try {
    Transaction tx(*db_);
    store_->upsert_many(reviews, analyses, 5000);
    tx.commit();
    FAIL() << "stored a review of an unknown location";
  } catch (const DbError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("source \"google-downtown\""), std::string::npos) << what;
    EXPECT_NE(what.find("\"r0\" to \"r11\""), std::string::npos) << what;
    EXPECT_NE(what.find("FOREIGN KEY"), std::string::npos) << what;
  }
  EXPECT_EQ(store_->count_reviews(), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM touchpoint_hits"), 0);
  // The statements are reusable afterwards.
  reviews[9].location_id = "downtown";
  Transaction tx(*db_);
  store_->upsert_many(reviews, analyses, 5000);
  tx.commit();
  EXPECT_EQ(store_->count_reviews(), 12);
}

// mark_removed(): the source's reviews a complete listing lacked are marked removed (kept, with
// their analysis and history); a later upsert of one clears the mark and says so; other sources
// and reviews already marked are left alone.
TEST_F(StoreTest, MarkRemovedKeepsTheReviewAndUpsertRestoresIt) {
  store_->ensure_source("yelp-downtown", "yelp", "downtown", 1000);
  std::vector<int64_t> ids;
  for (const char* id : {"a", "b", "c"}) {
    auto u = store_->upsert(make_review(id, "Billing was slow.", 2),
                            make_analysis(-0.4, "billing", "Billing", 0), 2000);
    ids.push_back(u.review_id);
  }
  Review other = make_review("y", "Fine.", 4);
  other.source_id = "yelp-downtown";
  store_->upsert(other, make_analysis(0.2, "billing", "Fine", 0), 2000);

  // A listing with a and c only.
  auto removed = store_->mark_removed("google-downtown", {ids[2], ids[0]}, 3000);
  EXPECT_EQ(removed, std::vector<int64_t>{ids[1]});
  auto b = store_->find("google-downtown", "b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->removed_at, 3000);
  EXPECT_EQ(b->analysis.touchpoints.size(), 1u);
  EXPECT_FALSE(store_->find("google-downtown", "a")->removed_at);
  EXPECT_FALSE(store_->find("yelp-downtown", "y")->removed_at);  // another source
  EXPECT_EQ(store_->count_reviews("google-downtown"), 2);
  EXPECT_EQ(store_->count_reviews("google-downtown", true), 3);
  EXPECT_EQ(store_->count_reviews(), 4);
  // Already marked: not again, and its time stays.
  EXPECT_TRUE(store_->mark_removed("google-downtown", {ids[0], ids[2]}, 4000).empty());
  EXPECT_EQ(store_->find("google-downtown", "b")->removed_at, 3000);

  // Listed again unchanged: restored, no new revision.
  auto back = store_->upsert(make_review("b", "Billing was slow.", 2),
                             make_analysis(-0.4, "billing", "Billing", 0), 5000);
  EXPECT_EQ(back.outcome, UpsertOutcome::kUnchanged);
  EXPECT_TRUE(back.restored);
  EXPECT_FALSE(store_->find("google-downtown", "b")->removed_at);
  auto again = store_->upsert(make_review("b", "Billing was slow.", 2),
                              make_analysis(-0.4, "billing", "Billing", 0), 5100);
  EXPECT_FALSE(again.restored);

  // Removed, then listed again edited: restored and edited at once.
  store_->mark_removed("google-downtown", {ids[0], ids[1]}, 6000);
  ASSERT_TRUE(store_->find("google-downtown", "c")->removed_at);
  auto edited = store_->upsert(make_review("c", "Billing was slow, twice.", 1),
                               make_analysis(-0.6, "billing", "Billing", 0), 7000);
  EXPECT_EQ(edited.outcome, UpsertOutcome::kEdited);
  EXPECT_TRUE(edited.restored);
  auto c = store_->find("google-downtown", "c");
  EXPECT_FALSE(c->removed_at);
  EXPECT_EQ(c->revision, 2);
  EXPECT_EQ(store_->count_revisions(c->id), 1);
}

// An analysis made on the source's translation keeps its spans in the translation: read back,
// the phrases are the translation's.
TEST_F(StoreTest, AnAnalysisOfTheTranslationRoundTrips) {
  Review r = make_review("es", "Esperamos dos horas.", 2);
  r.language = "es";
  r.translated_text = "We waited two hours.";
  Analysis a = make_analysis(-0.5, "wait_time", "waited two hours", 3);
  a.language = "es";
  a.on_translation = true;
  store_->upsert(r, a, 2000);
  auto back = store_->find("google-downtown", "es");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->analysis, a);
  EXPECT_EQ(back->analysis.touchpoints[0].evidence[0].phrase, "waited two hours");
  // Through upsert_many's batch path too.
  Review r2 = r;
  r2.external_id = "es2";
  std::vector<Review> rs{r2};
  std::vector<Analysis> as{a};
  store_->upsert_many(rs, as, 2100);
  EXPECT_EQ(store_->find("google-downtown", "es2")->analysis, a);
}

// A database of the release before (up to migration "ingest") gets removed_at and
// on_translation, its reviews stay counted, and the query index triggers are the new ones.
TEST(Migrations, RemovedMigrationKeepsExistingReviewsCounted) {
  TempDir dir;
  fs::path file = dir.path() / "repwatch.db";
  size_t ingest = 0;
  for (size_t i = 0; i < schema_migrations().size(); ++i)
    if (std::string_view(schema_migrations()[i].name) == "ingest") ingest = i + 1;
  ASSERT_GT(ingest, 0u);
  {
    Database db = Database::open(file);
    std::vector<Migration> before(schema_migrations().begin(),
                                  schema_migrations().begin() + static_cast<long>(ingest));
    db.migrate(before);
    db.exec(
        "INSERT INTO locations VALUES ('loc', 'Loc');"
        "INSERT INTO sources(id, type, location_id, added_at) VALUES ('src', 'file', 'loc', 1);"
        "INSERT INTO reviews(id, source_id, external_id, location_id, scale, rating, text, "
        "created_at, updated_at, content_hash, first_seen_at, last_seen_at, sentiment, negative) "
        "VALUES (7, 'src', 'e1', 'loc', '1-5', 1, 'Billing was slow.', 86400, 86400, 'h', 1, 1, "
        "-0.4, 1);"
        "INSERT INTO analyses VALUES (7, -0.4, 'negative', 'en', 1, 'v1', 1, '[[0,7]]');"
        "INSERT INTO touchpoint_hits VALUES (7, 0, 'billing', -0.4, '[[0,7]]');"
        "UPDATE query_index SET indexed_upto = 7;"
        "INSERT INTO review_daily VALUES (1, 'src', 'loc', 1, 1, 1, -0.4, 1);"
        "INSERT INTO touchpoint_daily VALUES ('billing', 1, 'src', 'loc', 1, 1, -0.4, 1, 1);");
  }
  Database db = open_store(file);
  EXPECT_EQ(db.user_version(), static_cast<int>(schema_migrations().size()));
  ReviewStore store(db);
  auto r = store.get(7);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->removed_at);
  EXPECT_FALSE(r->analysis.on_translation);
  EXPECT_EQ(r->analysis.touchpoints.at(0).evidence.at(0).phrase, "Billing");
  // Removing it takes it out of both aggregates; restoring puts it back.
  {
    Transaction tx(db);
    EXPECT_EQ(store.mark_removed("src", {}, 500).size(), 1u);
    tx.commit();
  }
  auto count = [&](const char* sql) {
    Statement st = db.prepare(sql);
    EXPECT_TRUE(st.step());
    return st.column_int(0);
  };
  EXPECT_EQ(count("SELECT count(*) FROM review_daily"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM touchpoint_daily"), 0);
  {
    Transaction tx(db);
    db.exec("UPDATE reviews SET removed_at = NULL WHERE id = 7");
    tx.commit();
  }
  EXPECT_EQ(count("SELECT reviews FROM review_daily WHERE source_id = 'src'"), 1);
  EXPECT_EQ(count("SELECT mentions FROM touchpoint_daily WHERE touchpoint = 'billing'"), 1);
}
