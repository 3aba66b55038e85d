// The query index (db/query_index.h): the CLI's answers do not depend on whether, or how far,
// the index has been refreshed, and edits, rescoring and deletes of indexed reviews keep the
// aggregates and the search index exact.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "db/store.h"
#include "fixtures/cli/fixture_db.h"
#include "sentiment/analyzer.h"
#include "sentiment/builtin_data.h"

namespace repwatch::cli::testing {
namespace {

// review_daily and touchpoint_daily must equal the same sums computed from the raw tables
// (over the reviews not marked removed: those leave the aggregates).
void expect_aggregates_exact(const db::Database& db) {
  using Key = std::tuple<std::string, int64_t, std::string, std::string>;
  auto load = [&](const char* sql) {
    std::map<Key, std::vector<double>> rows;
    db::Statement st = db.prepare(sql);
    while (st.step()) {
      Key k{st.column_text(0), st.column_int(1), st.column_text(2), st.column_text(3)};
      std::vector<double> v;
      for (int c = 4; c < st.column_count(); ++c) v.push_back(st.column_double(c));
      rows[k] = v;
    }
    return rows;
  };
  auto compare = [](const std::map<Key, std::vector<double>>& agg,
                    const std::map<Key, std::vector<double>>& raw, const char* what) {
    ASSERT_EQ(agg.size(), raw.size()) << what;
    for (const auto& [k, v] : raw) {
      auto it = agg.find(k);
      ASSERT_NE(it, agg.end()) << what << ": missing day " << std::get<1>(k) << " "
                               << std::get<0>(k) << std::get<2>(k);
      for (size_t i = 0; i < v.size(); ++i)
        EXPECT_NEAR(it->second[i], v[i], 1e-9) << what << " column " << i;
    }
  };
  compare(load("SELECT '', day, source_id, location_id, reviews, rated, rating_sum, "
               "sentiment_sum, negative FROM review_daily"),
          load("SELECT '', created_at / 86400, source_id, location_id, count(*), count(rating), "
               "total(rating), total(sentiment), total(negative) FROM reviews WHERE id <= "
               "(SELECT indexed_upto FROM query_index) AND removed_at IS NULL GROUP BY 2, 3, 4"),
          "review_daily");
  compare(load("SELECT touchpoint, day, source_id, location_id, mentions, negative_mentions, "
               "score_sum, rated, rating_sum FROM touchpoint_daily"),
          load("SELECT h.touchpoint, r.created_at / 86400, r.source_id, r.location_id, count(*), "
               "total(h.score < 0), total(h.score), count(r.rating), total(r.rating) FROM reviews "
               "r JOIN touchpoint_hits h ON h.review_id = r.id WHERE r.id <= (SELECT "
               "indexed_upto FROM query_index) AND r.removed_at IS NULL GROUP BY 1, 2, 3, 4"),
          "touchpoint_daily");
  // FTS5's own consistency check; once everything is folded in, also against the reviews.
  bool complete = db::query_index_state(db).pending() == 0;
  db.exec(std::string("INSERT INTO reviews_fts(reviews_fts, rank) VALUES ('integrity-check', ") +
          (complete ? "1" : "0") + ")");
}

const std::vector<std::vector<std::string>> kQuestions = {
    {"--json", "trends", "--by", "month"},
    {"--json", "trends", "--by", "week", "--since", "2025-12-01"},
    {"--json", "trends", "--by", "day", "--since", "2026-01-20", "--location", "northside"},
    {"--json", "trends", "--touchpoint", "front_desk,wait_time"},
    {"--json", "touchpoints", "--all", "--period", "90d"},
    {"--json", "touchpoints", "--source", "google-downtown"},
    {"--json", "summary"},
    {"--json", "search", "parking"},
    {"--json", "search", "rude OR bill*"},
    {"--json", "sources"},
    {"--json", "reviews", "--all"},
};

std::string answers(const FixtureDb& db) {
  std::string all;
  for (const auto& q : kQuestions) {
    std::vector<std::string> argv = {"--db", db.path().string()};
    argv.insert(argv.end(), q.begin(), q.end());
    Environment env;
    env.now = at(kNow);
    std::ostringstream out, err;
    EXPECT_EQ(run_cli(argv, out, err, env), 0) << q[1] << ": " << err.str();
    all += q[1] + ":\n" + out.str();
  }
  return all;
}

TEST(CliIndex, SameAnswersWithAndWithoutTheIndex) {
  FixtureDb indexed(true);
  FixtureDb raw(false);
  {
    db::Database d = db::Database::open(raw.path(), db::Database::Mode::kReadOnly);
    EXPECT_EQ(db::query_index_state(d).indexed_upto, 0);
    EXPECT_EQ(db::query_index_state(d).pending(), 10);
  }
  std::string expected = answers(indexed);
  EXPECT_EQ(answers(raw), expected);
  // Half folded in: part from the aggregates, part from the reviews table.
  {
    db::Database d = db::open_store(raw.path());
    EXPECT_EQ(db::refresh_query_index(d, at(kNow), 4), 6);
    expect_aggregates_exact(d);
  }
  EXPECT_EQ(answers(raw), expected);
  {
    db::Database d = db::open_store(raw.path());
    EXPECT_EQ(db::refresh_query_index(d, at(kNow), 100), 0);
    EXPECT_EQ(db::refresh_query_index(d, at(kNow), 100), 0) << "nothing left: a no-op";
    expect_aggregates_exact(d);
  }
  EXPECT_EQ(answers(raw), expected);
}

TEST(CliIndex, EditsRescoresAndDeletesKeepItExact) {
  FixtureDb fx(true);
  FixtureDb reference(false);  // the same edits, never indexed: the ground truth
  auto edit = [](const FixtureDb& f) {
    db::Database d = db::open_store(f.path());
    db::ReviewStore store(d);
    db::Transaction tx(d);
    // s2: the parking complaint is edited into praise of the new lot, a day later.
    auto specs = fixture_reviews();
    ReviewSpec s2 = specs[6];
    s2.created = "2026-02-03T11:00:00Z";
    s2.raw = 9;
    s2.text = "Update: the new garage is great, easy to find a spot.";
    s2.sentiment = 0.7;
    s2.touchpoints = {{"parking_access", 0.7, {"garage"}}};
    auto [r, a] = make_review(s2);
    EXPECT_EQ(store.upsert(r, a, at(kNow)).outcome, db::UpsertOutcome::kEdited);
    // g3 is rescored (a new lexicon): billing and a new touchpoint.
    auto g3 = store.find("google-downtown", "g3");
    ASSERT_TRUE(g3);
    Analysis rescored = g3->analysis;
    rescored.score = -0.9;
    rescored.touchpoints.push_back({"phone", -0.4, {}});
    store.save_analysis(g3->id, rescored, at(kNow));
    // y2 is deleted (cascades to its touchpoint hits).
    d.exec("DELETE FROM reviews WHERE external_id = 'y2'");
    // An unchanged re-poll only touches last_seen_at.
    auto [g4, ga] = make_review(specs[9]);
    EXPECT_EQ(store.upsert(g4, ga, at(kNow)).outcome, db::UpsertOutcome::kUnchanged);
    tx.commit();
  };
  edit(fx);
  edit(reference);
  {
    db::Database d = db::open_store(fx.path());
    EXPECT_EQ(db::query_index_state(d).pending(), 0) << "edits do not need a refresh";
    expect_aggregates_exact(d);
  }
  EXPECT_EQ(answers(fx), answers(reference));
  // The search index follows the edit: the old words are gone, the new ones found.
  Result gone = repwatch(fx, {"--json", "search", "disaster"});
  EXPECT_EQ(gone.out, "[]\n");
  Result found = repwatch(fx, {"--json", "search", "garage"});
  EXPECT_NE(found.out.find("\"external_id\": \"s2\""), std::string::npos) << found.out;
}

// `repwatch rescore` re-analyses every stored review with the current lexicon and taxonomy:
// analyses, hits and the review's summary follow, the aggregates stay exact, and a second run
// with --outdated finds nothing left to do.
TEST(CliIndex, RescoreRedoesEveryAnalysisAndKeepsTheIndexExact) {
  FixtureDb fx(true);  // analyses written by hand, lexicon "test"
  Result r = repwatch(fx, {"rescore"});
  ASSERT_EQ(r.code, 0) << r.err;
  sentiment::Analyzer analyzer = sentiment::Analyzer::builtin();
  EXPECT_NE(r.out.find("rescored 10 reviews with lexicon " + analyzer.lexicon_version()),
            std::string::npos)
      << r.out;
  {
    db::Database d = db::open_store(fx.path());
    db::ReviewStore store(d);
    db::Statement ids = d.prepare("SELECT id, sentiment, label FROM reviews ORDER BY id");
    int n = 0;
    while (ids.step()) {
      auto sr = store.get(ids.column_int(0));
      ASSERT_TRUE(sr);
      Analysis want = analyzer.analyze(sr->review.text);
      EXPECT_EQ(sr->analysis, want) << sr->review.text;
      EXPECT_DOUBLE_EQ(ids.column_double(1), want.score);
      EXPECT_EQ(ids.column_text(2), to_string(want.label));
      ++n;
    }
    EXPECT_EQ(n, 10);
    expect_aggregates_exact(d);
  }
  Result again = repwatch(fx, {"rescore", "--outdated"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("rescored 0 reviews"), std::string::npos) << again.out;
}

// Each analysis records the taxonomy that attributed its touchpoints: after a clinic edits its
// taxonomy (a new version, or an edit of a file without one), `rescore --outdated` redoes every
// analysis, and then nothing.
TEST(CliIndex, RescoreOutdatedFollowsATaxonomyEdit) {
  FixtureDb fx(true);
  ASSERT_EQ(repwatch(fx, {"rescore"}).code, 0);
  const std::filesystem::path dir = fx.path().parent_path();
  const std::filesystem::path taxonomy = dir / "taxonomy.toml", cfg = dir / "repwatch.toml";
  std::string text(sentiment::detail::kBuiltinTaxonomy);
  const size_t v = text.find("\nversion = ");
  ASSERT_NE(v, std::string::npos);
  const std::string versioned =
      text.substr(0, v) + "\nversion = \"clinic-2\"" + text.substr(text.find('\n', v + 1));
  auto write = [](const std::filesystem::path& file, const std::string& content) {
    std::ofstream(file) << content;
  };
  write(taxonomy, versioned);
  write(cfg, "state_dir = \"" + dir.string() + "\"\n[sentiment]\ntaxonomy = \"" +
                 taxonomy.string() + "\"\n");
  auto rescore = [&](std::initializer_list<std::string> args) {
    Result r = repwatch(fx, args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  };
  std::string out = rescore({"--config", cfg.string(), "rescore", "--outdated"});
  EXPECT_NE(out.find("rescored 10 reviews with lexicon"), std::string::npos) << out;
  EXPECT_NE(out.find("and taxonomy clinic-2"), std::string::npos) << out;
  {
    db::Database d = db::open_store(fx.path());
    db::ReviewStore store(d);
    db::Statement ids = d.prepare("SELECT id FROM reviews");
    while (ids.step())
      EXPECT_EQ(store.get(ids.column_int(0))->analysis.taxonomy_version, "clinic-2");
  }
  out = rescore({"--config", cfg.string(), "rescore", "--outdated"});
  EXPECT_NE(out.find("rescored 0 reviews"), std::string::npos) << out;
  // A file without a version is known by a digest of its content: an edit changes it.
  std::string unversioned = versioned.substr(0, v) + versioned.substr(versioned.find('\n', v + 1));
  write(taxonomy, unversioned);
  out = rescore({"--config", cfg.string(), "rescore", "--outdated"});
  EXPECT_NE(out.find("rescored 10 reviews"), std::string::npos) << out;
  EXPECT_EQ(rescore({"--config", cfg.string(), "rescore", "--outdated"}).find("rescored 0"), 0u);
  write(taxonomy, unversioned + "\n# a comment is an edit too\n");
  out = rescore({"--config", cfg.string(), "rescore", "--outdated"});
  EXPECT_NE(out.find("rescored 10 reviews"), std::string::npos) << out;
  // Back to the shipped taxonomy.
  out = rescore({"rescore", "--outdated"});
  EXPECT_NE(out.find("rescored 10 reviews"), std::string::npos) << out;
}

TEST(CliIndex, NewReviewsAfterARefreshAreCountedAndFound) {
  FixtureDb fx(true);
  {
    db::Database d = db::open_store(fx.path());
    db::ReviewStore store(d);
    ReviewSpec late{"google-downtown",
                    "downtown",
                    "g5",
                    "2026-02-15T09:00:00Z",
                    2,
                    RatingScale::stars(),
                    "The elevator was broken again.",
                    -0.5,
                    {{"facility", -0.5, {"elevator"}}}};
    auto [r, a] = make_review(late);
    db::Transaction tx(d);
    store.upsert(r, a, at(kNow));
    tx.commit();
    EXPECT_EQ(db::query_index_state(d).pending(), 1);
  }
  Result t = repwatch(fx, {"--json", "trends", "--by", "month", "--since", "2026-02-01"});
  EXPECT_NE(t.out.find("\"reviews\": 6"), std::string::npos) << t.out;  // 5 + g5
  Result s = repwatch(fx, {"--json", "search", "elevator"});
  EXPECT_NE(s.out.find("\"external_id\": \"g5\""), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\"offset\": 4"), std::string::npos) << s.out;  // highlighted anyway
  Result tp = repwatch(fx, {"--json", "touchpoints", "--touchpoint", "facility"});
  EXPECT_NE(tp.out.find("\"mentions\": 1"), std::string::npos) << tp.out;
}

// What a poll of yelp-downtown does when Yelp - here as if it listed everything - no longer has
// y1 (a negative billing review): the others are seen again at `t`, then the missing one is
// marked removed. With `restore`, y1 is listed again instead.
void poll_without_y1(const FixtureDb& f, int64_t t, bool restore = false) {
  db::Database d = db::open_store(f.path());
  db::ReviewStore store(d);
  db::Transaction tx(d);
  std::vector<int64_t> listed;
  for (const auto& spec : fixture_reviews()) {
    if (std::string(spec.source) != "yelp-downtown") continue;
    if (!restore && std::string(spec.external_id) == "y1") continue;
    auto [r, a] = make_review(spec);
    auto u = store.upsert(r, a, t);
    EXPECT_EQ(u.restored, restore && std::string(spec.external_id) == "y1");
    listed.push_back(u.review_id);
  }
  if (!restore) {
    EXPECT_EQ(store.mark_removed("yelp-downtown", listed, t).size(), 1u);
  }
  tx.commit();
}

// A review marked removed leaves every figure and listing, the same whether or not the index
// had folded it in; --include-removed brings it back into all of them; restoring it gives the
// answers of before.
TEST(CliIndex, RemovedReviewsLeaveEveryAnswerAndComeBackExactly) {
  FixtureDb pristine(true);
  FixtureDb fx(true);
  FixtureDb raw(false);
  const std::string before = answers(pristine);
  const int64_t t = at("2026-02-15T11:00:00Z");
  poll_without_y1(fx, t);
  poll_without_y1(raw, t);
  {
    db::Database d = db::open_store(fx.path());
    expect_aggregates_exact(d);
  }
  const std::string after = answers(fx);
  EXPECT_EQ(answers(raw), after);
  EXPECT_NE(after, before);
  EXPECT_EQ(after.find("\"external_id\": \"y1\""), std::string::npos) << "listed or found";

  // January without y1: two reviews, none negative.
  Result jan = repwatch(
      fx, {"--json", "trends", "--by", "month", "--since", "2026-01-01", "--until", "2026-01-31"});
  EXPECT_NE(jan.out.find("\"reviews\": 2"), std::string::npos) << jan.out;  // y2 and s1
  Result billing = repwatch(fx, {"--json", "search", "billing"});
  EXPECT_EQ(billing.out.find("\"y1\""), std::string::npos) << billing.out;

  // --include-removed: the figures of before, and the listings show it as removed.
  for (const FixtureDb* f : {&fx, &raw}) {
    for (std::vector<std::string> q :
         {std::vector<std::string>{"--json", "trends", "--by", "month"},
          {"--json", "trends", "--touchpoint", "billing,phone"},
          {"--json", "touchpoints", "--all", "--period", "90d"}}) {
      std::vector<std::string> with = {"--db", f->path().string()};
      with.insert(with.end(), q.begin(), q.end());
      with.push_back("--include-removed");
      std::vector<std::string> without = {"--db", pristine.path().string()};
      without.insert(without.end(), q.begin(), q.end());
      Environment env;
      env.now = at(kNow);
      std::ostringstream a, b, err;
      ASSERT_EQ(run_cli(with, a, err, env), 0) << err.str();
      ASSERT_EQ(run_cli(without, b, err, env), 0) << err.str();
      EXPECT_EQ(a.str(), b.str()) << q[1];
    }
  }
  Result listed = repwatch(fx, {"--json", "reviews", "--all", "--include-removed"});
  EXPECT_NE(listed.out.find("\"removed_at\": \"2026-02-15T11:00:00Z\""), std::string::npos)
      << listed.out;
  Result table = repwatch(fx, {"reviews", "--all", "--include-removed", "--full"});
  EXPECT_NE(table.out.find("[removed 2026-02-15] Surprise bill"), std::string::npos) << table.out;
  Result found = repwatch(raw, {"--json", "search", "billing", "--include-removed"});
  EXPECT_NE(found.out.find("\"external_id\": \"y1\""), std::string::npos) << found.out;
  Result exported = repwatch(fx, {"export", "--format", "csv", "--include-removed"});
  EXPECT_NE(exported.out.find(",2026-02-15T11:00:00Z\r\n"), std::string::npos) << exported.out;

  // y1 is listed again: counted again, exactly as before.
  poll_without_y1(fx, t + 3600, true);
  poll_without_y1(raw, t + 3600, true);
  {
    db::Database d = db::open_store(fx.path());
    expect_aggregates_exact(d);
  }
  EXPECT_EQ(answers(fx), before);
  EXPECT_EQ(answers(raw), before);
}

}  // namespace
}  // namespace repwatch::cli::testing
