// Patient-survey exports in long format (one row per answer) through the file connector:
// choosing the rating and comment questions, each question's own scale, combining a
// respondent's rows into one review; and the real repwatchd on such an export, where the first
// sync must not alert. The sample is tests/fixtures/surveys/patient_survey_long.csv.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "config/config.h"
#include "connectors/connector.h"
#include "core/time.h"
#include "normalize/normalize.h"
#include "tests/fixtures/daemon/daemon_harness.h"

namespace repwatch {
namespace {

namespace fs = std::filesystem;

fs::path sample() {
  return fs::path(REPWATCH_SOURCE_DIR) / "tests" / "fixtures" / "surveys" /
         "patient_survey_long.csv";
}

// The source keys of the sample's long layout; `rating` and `comment` are the two tables.
std::string long_keys(const std::string& rating,
                      const std::string& comment = "question = [\"WELL\", \"BETTER\"]\n") {
  return "layout = \"long\"\n"
         "date_format = \"%m/%d/%Y\"\n"
         "utc_offset = \"-05:00\"\n"
         "[sources.fields]\n"
         "external_id = \"Respondent ID\"\n"
         "question = \"Question ID\"\n"
         "question_text = \"Question\"\n"
         "answer = \"Answer\"\n"
         "location = \"Location\"\n"
         "created_at = \"Survey Date\"\n"
         "[sources.rating]\n" +
         rating + "[sources.comment]\n" + comment;
}

class SurveyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rw-survey-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    fs::create_directories(dir_ / "import");
    fs::copy_file(sample(), dir_ / "import" / "survey.csv");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<connectors::Connector> make(const std::string& keys) {
    std::string text =
        "state_dir = \"state\"\n"
        "[[locations]]\nid = \"downtown\"\nname = \"Downtown Family Practice\"\n"
        "[[locations]]\nid = \"northside\"\nname = \"Northside Pediatrics & Family Clinic\"\n"
        "[[sources]]\nid = \"survey\"\ntype = \"file\"\nlocation = \"downtown\"\n"
        "path = \"import\"\n" +
        keys;
    config_ = parse_config(text, dir_ / "repwatch.toml");
    return connectors::make_connector(config_.sources.at(0), config_);
  }

  // id -> review, normalized; fails the test on any problem.
  std::map<std::string, Review> fetch_all(const std::string& keys) {
    auto r = make(keys)->fetch("");
    std::string problems;
    for (const auto& p : r.problems) problems += p.to_string() + "\n";
    EXPECT_EQ(problems, "");
    std::map<std::string, Review> out;
    for (auto& rev : r.reviews) {
      normalize(rev);
      EXPECT_TRUE(out.emplace(rev.external_id, rev).second) << rev.external_id << " twice";
    }
    return out;
  }

  std::string error_of(const std::string& keys) {
    try {
      make(keys);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
  Config config_;
};

}  // namespace

TEST_F(SurveyTest, NpsQuestionAsTheRatingAndTwoCommentQuestions) {
  auto got = fetch_all(long_keys("question = \"LTR\"\nscale = \"0-10\"\n"));
  ASSERT_EQ(got.size(), 6u);  // R-1005 answered neither the rating nor a comment question
  EXPECT_EQ(got.count("R-1005"), 0u);

  const Review& promoter = got.at("R-1001");
  EXPECT_EQ(promoter.scale, RatingScale::linear(0, 10));
  EXPECT_DOUBLE_EQ(*promoter.raw_rating, 10);
  EXPECT_DOUBLE_EQ(*promoter.rating, 5.0);  // not 3.0: the 1-5 and yes/no rows are not it
  EXPECT_EQ(promoter.text, "Dr. Patel took her time, and the nurse called back the same day.");
  EXPECT_EQ(promoter.location_id, "downtown");
  EXPECT_EQ(format_timestamp(promoter.created_at), "2026-03-02T05:00:00Z");
  EXPECT_EQ(promoter.updated_at, promoter.created_at);

  EXPECT_DOUBLE_EQ(*got.at("R-1002").rating, 1 + 4 * 0.2);
  EXPECT_EQ(got.at("R-1002").text,
            "I waited 50 minutes past my appointment and nobody said why.\nThe billing office then "
            "charged my copay twice.");
  // "N/A" is no answer: a review without a rating, with its comment.
  EXPECT_FALSE(got.at("R-1003").raw_rating);
  EXPECT_EQ(got.at("R-1003").text, "Parking is hard to find.");
  EXPECT_EQ(got.at("R-1003").location_id, "northside");
  EXPECT_DOUBLE_EQ(*got.at("R-1004").rating, 4.6);
  EXPECT_EQ(got.at("R-1004").text, "");
  // Both comments, in the order of [sources.comment] question.
  EXPECT_DOUBLE_EQ(*got.at("R-1006").rating, 1.0);
  EXPECT_EQ(got.at("R-1006").text,
            "Nothing.\n\nAnswer the phone. I called six times to get my lab results.");
  EXPECT_DOUBLE_EQ(*got.at("R-1007").rating, 3.8);
}

TEST_F(SurveyTest, LabelledScaleChosenByTheQuestionsWording) {
  auto got =
      fetch_all(long_keys("question = \"Overall rating of care received during your visit\"\n"
                          "labels = [\"Very poor\", \"Poor\", \"Fair\", \"Good\", \"Very good\"]\n",
                          "question = \"What could we have done better?\"\n"));
  std::map<std::string, std::optional<double>> stars;
  for (const auto& [id, r] : got) stars[id] = r.rating;
  EXPECT_EQ(
      stars,
      (std::map<std::string, std::optional<double>>{
          {"R-1001", 5.0}, {"R-1002", 2.0}, {"R-1003", 3.0}, {"R-1004", 4.0}, {"R-1006", 1.0}}));
  // R-1007 "Declined" the question and has no BETTER comment: no review. 1..5 on 1..5.
  EXPECT_EQ(got.at("R-1001").scale, RatingScale::linear(1, 5));
  EXPECT_EQ(got.at("R-1001").text, "");  // WELL is not a comment question here
  EXPECT_EQ(got.at("R-1006").text, "Answer the phone. I called six times to get my lab results.");
}

TEST_F(SurveyTest, YesNoQuestionAsTheRating) {
  auto got = fetch_all(long_keys("question = \"RETURN\"\nscale = \"binary\"\n"));
  EXPECT_DOUBLE_EQ(*got.at("R-1001").rating, 5.0);
  EXPECT_DOUBLE_EQ(*got.at("R-1002").rating, 1.0);
  EXPECT_EQ(got.at("R-1002").scale, RatingScale::binary());
  EXPECT_FALSE(got.at("R-1003").raw_rating);        // did not answer it; commented
  EXPECT_DOUBLE_EQ(*got.at("R-1005").rating, 5.0);  // answered it, nothing else selected
  EXPECT_EQ(got.size(), 7u);
}

TEST_F(SurveyTest, CommentsOnlyAndLabelledNumbers) {
  // Only comments: reviews without a rating (sentiment decides what is negative).
  auto comments = fetch_all(long_keys("", "question = \"BETTER\"\n"));
  ASSERT_EQ(comments.size(), 3u);
  EXPECT_EQ(comments.at("R-1002").scale, RatingScale::none());
  EXPECT_FALSE(comments.at("R-1002").raw_rating);
  // WAIT is answered with numbers on a scale whose points have labels: numbers still count.
  auto wait =
      fetch_all(long_keys("question = \"WAIT\"\nscale = \"1-5\"\n"
                          "labels = [\"Very poor\", \"Poor\", \"Fair\", \"Good\", \"Very good\"]\n",
                          "question = \"BETTER\"\n"));
  EXPECT_DOUBLE_EQ(*wait.at("R-1001").rating, 4.0);
  EXPECT_DOUBLE_EQ(*wait.at("R-1005").rating, 3.0);
}

TEST_F(SurveyTest, BadAnswersSkipTheirRespondentAndNameTheRow) {
  std::ofstream(dir_ / "import" / "survey.csv", std::ios::trunc)
      << "Respondent ID,Question ID,Question,Answer,Location,Survey Date\n"
         "A1,LTR,Recommend?,11,Downtown Family Practice,03/02/2026\n"
         "A1,BETTER,Better?,Too slow,Downtown Family Practice,03/02/2026\n"
         "A2,LTR,Recommend?,ten,Downtown Family Practice,03/02/2026\n"
         "A3,LTR,Recommend?,8,Eastside,03/02/2026\n"
         "A4,LTR,Recommend?,8,Downtown Family Practice,yesterday\n"
         ",LTR,Recommend?,8,Downtown Family Practice,03/02/2026\n"
         "A5,LTR,Recommend?,8,,\n"
         "A6,LTR,Recommend?,6,,03/09/2026\n";
  auto r = make(long_keys("question = \"LTR\"\nscale = \"0-10\"\n"))->fetch("");
  std::vector<std::string> got;
  for (const auto& p : r.problems) got.push_back(p.to_string());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "survey.csv:2: answer (\"Answer\"): 11 is outside the scale 0-10; "
                     "respondent \"A1\" not imported",
                     "survey.csv:4: answer (\"Answer\"): not a number \"ten\"; respondent \"A2\" "
                     "not imported",
                     "survey.csv:5: location (\"Location\"): no [[locations]] entry has the id or "
                     "name \"Eastside\"; respondent \"A3\" not imported",
                     "survey.csv:6: created_at (\"Survey Date\"): not a date \"yesterday\"; "
                     "respondent \"A4\" not imported",
                     "survey.csv:7: external_id (\"Respondent ID\"): missing (every answer names "
                     "its respondent)",
                     "survey.csv:8: created_at (\"Survey Date\"): missing on every row of "
                     "respondent \"A5\" (every review needs its date)",
                 }));
  ASSERT_EQ(r.reviews.size(), 1u);
  EXPECT_EQ(r.reviews[0].external_id, "A6");
  EXPECT_EQ(r.reviews[0].location_id, "downtown");  // the source's, when rows name none
}

TEST_F(SurveyTest, JsonlExportsWork) {
  fs::remove(dir_ / "import" / "survey.csv");
  std::ofstream(dir_ / "import" / "survey.jsonl")
      << R"({"respondent": "J1", "q": {"id": "nps"}, "value": 9, "date": "2026-03-02"})"
      << "\n"
      << R"({"respondent": "J1", "q": {"id": "comment"}, "value": "Great nurses", "date": "2026-03-02"})"
      << "\n"
      << R"({"respondent": "J2", "q": {"id": "nps"}, "value": null, "date": "2026-03-03"})"
      << "\n"
      << R"({"respondent": "J2", "q": {"id": "comment"}, "value": "Long wait", "date": "2026-03-03"})"
      << "\n";
  auto got = fetch_all(
      "layout = \"long\"\n[sources.fields]\nexternal_id = \"respondent\"\nquestion = \"q.id\"\n"
      "answer = \"value\"\ncreated_at = \"date\"\n[sources.rating]\nquestion = \"NPS\"\n"
      "scale = \"nps\"\n[sources.comment]\nquestion = \"comment\"\n");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_DOUBLE_EQ(*got.at("J1").rating, 4.6);
  EXPECT_EQ(got.at("J1").text, "Great nurses");
  EXPECT_FALSE(got.at("J2").raw_rating);
}

TEST_F(SurveyTest, TheWideMappingOnALongExportSaysSo) {
  // The mapping that turned an NPS of 10 into 3.0 stars: every answer row taken for a review.
  auto r = make(
               "scale = \"0-10\"\ndate_format = \"%m/%d/%Y\"\n[sources.fields]\n"
               "external_id = \"Respondent ID\"\nrating = \"Answer\"\n"
               "created_at = \"Survey Date\"\nlocation = \"Location\"\n")
               ->fetch("");
  std::string all;
  for (const auto& p : r.problems) all += p.to_string() + "\n";
  EXPECT_NE(all.find("survey.csv:5: external_id (\"Respondent ID\"): \"R-1001\" is also on line 2; "
                     "this later row is kept (an export with one row per answer needs layout = "
                     "\"long\")"),
            std::string::npos)
      << all;
  for (const auto& rev : r.reviews) {  // one review per respondent id, never two versions
    int n = 0;
    for (const auto& other : r.reviews) n += other.external_id == rev.external_id;
    EXPECT_EQ(n, 1) << rev.external_id;
  }
}

TEST_F(SurveyTest, SettingsAreValidated) {
  EXPECT_NE(error_of("layout = \"long\"\n")
                .find("sources[0].layout: layout = \"long\" needs [sources.rating] question and/or "
                      "[sources.comment] question"),
            std::string::npos);
  EXPECT_NE(error_of("layout = \"tall\"\n")
                .find("expected \"wide\" (one row per review) or "
                      "\"long\" (one row per answer), got \"tall\""),
            std::string::npos);
  EXPECT_NE(error_of("[sources.rating]\nquestion = \"LTR\"\n")
                .find("sources[0].rating.question: only with layout = \"long\""),
            std::string::npos);
  EXPECT_NE(error_of("[sources.fields]\nanswer = \"Answer\"\n")
                .find("sources[0].fields.answer: only with layout = \"long\""),
            std::string::npos);
  EXPECT_EQ(error_of(long_keys("question = \"LTR\"\nscale = \"0-10\"\n")), "");
  EXPECT_NE(error_of(long_keys("question = \"LTR\"\nscale = \"0-10\"\nlabels = [\"Bad\", "
                               "\"Good\"]\n"))
                .find("2 labels do not fit the scale 0-10"),
            std::string::npos);
  EXPECT_NE(error_of(long_keys("question = \"LTR\"\nlabels = [\"Bad\", \"bad\"]\n"))
                .find("the label \"bad\" appears twice"),
            std::string::npos);
  EXPECT_NE(error_of(long_keys("question = \"BETTER\"\n", "question = \"better\"\n"))
                .find("is also the rating's"),
            std::string::npos);
  EXPECT_NE(error_of("scale = \"0-10\"\n[sources.rating]\nscale = \"1-5\"\n")
                .find("already set by the source's `scale`"),
            std::string::npos);
  EXPECT_NE(error_of("layout = \"long\"\n[sources.fields]\nrating = \"Answer\"\n"
                     "[sources.rating]\nquestion = \"LTR\"\n")
                .find("sources[0].fields.rating: with layout = \"long\" the rating and the comment "
                      "are answers"),
            std::string::npos);
}

// The example config's file sources, the long-format one included, are accepted as written.
TEST(SurveyExample, TheExampleConfigsFileSourcesAreValid) {
  fs::path example = fs::path(REPWATCH_SOURCE_DIR) / "config" / "repwatch.example.toml";
  std::ifstream in(example);
  Config c = parse_config(std::string(std::istreambuf_iterator<char>(in), {}), example);
  int long_layouts = 0;
  for (const auto& s : c.sources) {
    SCOPED_TRACE(s.id);
    EXPECT_NO_THROW(connectors::make_connector(s, c));
    long_layouts += s.settings.string_or("layout", "wide") == "long";
  }
  EXPECT_EQ(long_layouts, 1);
}

// ---- the real daemon ------------------------------------------------------------------------

namespace {

using testing::DbProbe;
using testing::run_repwatchd;
using testing::write_file;

class SurveyDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::repwatchd_binary()));
    state = dir.path / "state";
    fs::create_directories(dir.path / "import");
    fs::copy_file(sample(), dir.path / "import" / "2026-03.csv");
  }

  void configure(const std::string& source_keys) {
    write_file(dir.path / "repwatch.toml",
               "state_dir = \"" + state.string() +
                   "\"\n"
                   "[[locations]]\nid = \"downtown\"\nname = \"Downtown Family Practice\"\n"
                   "[[locations]]\nid = \"northside\"\n"
                   "name = \"Northside Pediatrics & Family Clinic\"\n"
                   "[alerts]\nmarketing = [\"marketing@clinic.example\"]\n"
                   "[[sources]]\nid = \"survey\"\ntype = \"file\"\nlocation = \"downtown\"\n"
                   "path = \"" +
                   (dir.path / "import").string() + "\"\n" + source_keys,
               0640);
  }

  int once(const std::string& tag) {
    auto [rc, out] = run_repwatchd({"--config", (dir.path / "repwatch.toml").string(), "--once"},
                                   dir.path / (tag + ".log"));
    EXPECT_EQ(rc, 0) << out;
    return rc;
  }

  long long alerts() {
    return DbProbe(state / "repwatch.db").integer("SELECT count(*) FROM alerts");
  }

  testing::TempDir dir;
  fs::path state;
};

}  // namespace

TEST_F(SurveyDaemonTest, FirstSyncOfALongExportNeverAlertsThenNewDetractorsDo) {
  configure(long_keys("question = \"LTR\"\nscale = \"0-10\"\n"));
  once("first");
  {
    DbProbe db(state / "repwatch.db");
    EXPECT_EQ(db.integer("SELECT count(*) FROM reviews"), 6);
    EXPECT_EQ(db.text("SELECT rating FROM reviews WHERE external_id = 'R-1001'"), "5.0");
    EXPECT_EQ(db.integer("SELECT count(*) FROM review_revisions"), 0);
  }
  EXPECT_EQ(alerts(), 0) << "a first sync alerts on nothing";

  // Next month's export: a new detractor (today) and a promoter.
  const std::string today = format_timestamp(now_seconds()).substr(0, 10);
  const std::string us = today.substr(5, 2) + "/" + today.substr(8, 2) + "/" + today.substr(0, 4);
  write_file(dir.path / "import" / "2026-next.csv",
             "Respondent ID,Question ID,Question,Answer,Location,Survey Date\n"
             "R-2001,LTR,How likely are you to recommend us?,1,Downtown Family Practice," +
                 us +
                 "\n"
                 "R-2001,BETTER,What could we have done better?,\"Rude on the phone, never called "
                 "back.\",Downtown Family Practice," +
                 us +
                 "\n"
                 "R-2002,LTR,How likely are you to recommend us?,10,Downtown Family Practice," +
                 us + "\n");
  once("second");
  EXPECT_EQ(alerts(), 1);
  DbProbe db(state / "repwatch.db");
  EXPECT_EQ(db.integer("SELECT count(*) FROM reviews"), 8);
  EXPECT_EQ(db.text("SELECT a.kind || ' ' || r.external_id FROM alerts a JOIN reviews r ON "
                    "r.id = a.review_id"),
            "new_negative R-2001");
  once("third");
  EXPECT_EQ(alerts(), 1) << "re-polls and restarts send nothing again";
}

TEST_F(SurveyDaemonTest, AFirstSyncThatStoresAnEditAlertsOnNothing) {
  // Two monthly exports, each listing R-1001 - the second after an edit: a first sync that
  // stores an insert and an edit of history (5.0 -> 1.4 stars), which raised a false
  // edit_negative alert.
  std::string edited = testing::read_file(sample());
  edited.replace(edited.find("LTR,How likely are you to recommend our practice to a friend or "
                             "family member?,10"),
                 std::string("LTR,How likely are you to recommend our practice to a friend or "
                             "family member?,10")
                     .size(),
                 "LTR,How likely are you to recommend our practice to a friend or family "
                 "member?,1");
  write_file(dir.path / "import" / "2026-04.csv", edited);
  configure(long_keys("question = \"LTR\"\nscale = \"0-10\"\n"));
  once("first");
  DbProbe db(state / "repwatch.db");
  EXPECT_EQ(db.integer("SELECT count(*) FROM reviews"), 6);
  EXPECT_GE(db.integer("SELECT count(*) FROM review_revisions"), 1);
  EXPECT_EQ(db.text("SELECT rating FROM reviews WHERE external_id = 'R-1001'"), "1.4");
  EXPECT_EQ(alerts(), 0);
}

}  // namespace repwatch
