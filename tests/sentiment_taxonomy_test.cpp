// Tests of loading the taxonomy and lexicon files: errors name file and line, and a clinic's own
// taxonomy or lexicon changes the analysis without recompiling.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "sentiment/analyzer.h"

namespace repwatch::sentiment {
namespace {

namespace fs = std::filesystem;

class TaxonomyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("repwatch_sentiment_taxonomy_" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  // The message of the ConfigError that loading throws ("" when it loads).
  std::string taxonomy_error(const std::string& content) {
    fs::path p = write("taxonomy.toml", content);
    try {
      Analyzer::load_or_builtin({}, p);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  std::string lexicon_error(const std::string& content) {
    fs::path p = write("lexicon.tsv", content);
    try {
      Analyzer::load_or_builtin(p, {});
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

constexpr const char* kGood = R"toml(version = "clinic-7"

[[touchpoint]]
id = "vaccines"
name = "Vaccination clinic"
phrases = ["flu jab|shot", "vaccine|vaccines|vaccination", "(covid booster|booster jab)"]
owner = "nurse.lead@clinic.example"
standard = 4.2

[[touchpoint]]
id = "front_desk"
name = "Front desk"
phrases = ["receptionist|receptionists"]
)toml";

TEST_F(TaxonomyFiles, CustomTaxonomyChangesTouchpointsWithoutRecompiling) {
  Analyzer a = Analyzer::load_or_builtin({}, write("taxonomy.toml", kGood));
  ASSERT_EQ(a.touchpoints().size(), 2u);
  EXPECT_EQ(a.taxonomy_version(), "clinic-7");
  const Touchpoint* v = a.find_touchpoint("vaccines");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->name, "Vaccination clinic");
  EXPECT_EQ(v->owner, "nurse.lead@clinic.example");
  ASSERT_TRUE(v->standard.has_value());
  EXPECT_DOUBLE_EQ(*v->standard, 4.2);
  EXPECT_EQ(a.find_touchpoint("billing"), nullptr);
  EXPECT_FALSE(a.find_touchpoint("front_desk")->standard.has_value());

  std::string text = "The flu jab was painless but the receptionist was rude. Billing was fine.";
  Analysis r = a.analyze(text);
  ASSERT_EQ(r.touchpoints.size(), 2u);
  EXPECT_EQ(r.touchpoints[0].touchpoint, "vaccines");
  EXPECT_GT(r.touchpoints[0].score, 0);
  EXPECT_EQ(r.touchpoints[0].evidence.front().phrase, "flu jab");
  EXPECT_EQ(r.touchpoints[1].touchpoint, "front_desk");
  EXPECT_LT(r.touchpoints[1].score, 0);
  // A group alternative of several words.
  EXPECT_EQ(a.analyze("My booster jab went well").touchpoints.at(0).evidence.at(0).phrase,
            "booster jab");
  // The builtin taxonomy would have found billing; this one does not know it.
  bool billing = false;
  for (const auto& tp : Analyzer::builtin().analyze(text).touchpoints) {
    billing |= tp.touchpoint == "billing";
  }
  EXPECT_TRUE(billing);
}

TEST_F(TaxonomyFiles, LoadReadsBothFiles) {
  fs::path lexicon = write("lexicon.tsv", "version\tmini-1\nsplendid\t3\nnot\tnegator\n");
  fs::path taxonomy = write("taxonomy.toml", kGood);
  Analyzer a = Analyzer::load(lexicon, taxonomy);
  EXPECT_EQ(a.lexicon_version(), "mini-1");
  Analysis r = a.analyze("A splendid vaccine clinic");
  EXPECT_EQ(r.lexicon_version, "mini-1");
  EXPECT_EQ(r.label, Label::kPositive);
  EXPECT_EQ(a.analyze("Not splendid").label, Label::kNegative);
  EXPECT_EQ(a.analyze("Excellent").label, Label::kNeutral);  // not in this lexicon
}

TEST_F(TaxonomyFiles, TaxonomyErrorsNameFileAndLine) {
  // TOML syntax error.
  std::string e = taxonomy_error("version = \"1\"\n[[touchpoint]]\nid = \"x\nphrases = []\n");
  EXPECT_NE(e.find("taxonomy.toml:3:"), std::string::npos) << e;
  // Unknown key, with its line.
  e = taxonomy_error(
      "[[touchpoint]]\nid = \"a\"\nphrases = [\"x\"]\n\n[[touchpoint]]\nid = \"b\"\n"
      "phrase = [\"y\"]\n");
  EXPECT_NE(e.find("taxonomy.toml:7:"), std::string::npos) << e;
  EXPECT_NE(e.find("phrase"), std::string::npos) << e;
  // Duplicate id names both lines.
  e = taxonomy_error(
      "[[touchpoint]]\nid = \"a\"\nphrases = [\"x\"]\n[[touchpoint]]\nid = \"a\"\n"
      "phrases = [\"y\"]\n");
  EXPECT_NE(e.find("taxonomy.toml:5:"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  // Bad id, missing phrases, empty phrases, wrong types, bad phrase syntax.
  EXPECT_NE(taxonomy_error("[[touchpoint]]\nid = \"Front Desk\"\nphrases = [\"x\"]\n")
                .find("taxonomy.toml:2:"),
            std::string::npos);
  EXPECT_NE(taxonomy_error("[[touchpoint]]\nid = \"a\"\n").find("phrases: missing"),
            std::string::npos);
  EXPECT_NE(taxonomy_error("[[touchpoint]]\nid = \"a\"\nphrases = []\n").find("taxonomy.toml:3:"),
            std::string::npos);
  EXPECT_NE(taxonomy_error("[[touchpoint]]\nid = \"a\"\nphrases = [\"x\"]\nstandard = \"high\"\n")
                .find("taxonomy.toml:4:"),
            std::string::npos);
  e = taxonomy_error("[[touchpoint]]\nid = \"a\"\nphrases = [\n  \"ok\",\n  \"? wait\",\n]\n");
  EXPECT_NE(e.find("taxonomy.toml:5:"), std::string::npos) << e;
  EXPECT_NE(e.find("? wait"), std::string::npos) << e;
  e = taxonomy_error("[[touchpoint]]\nid = \"a\"\nphrases = [\"x\"]\npeople = \"yes\"\n");
  EXPECT_NE(e.find("taxonomy.toml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("people: expected true or false"), std::string::npos) << e;
  EXPECT_EQ(taxonomy_error("[[touchpoint]]\nid = \"a\"\nphrases = [\"x\"]\npeople = true\n"), "");
  EXPECT_NE(taxonomy_error("version = \"1\"\n").find("no [[touchpoint]]"), std::string::npos);
  EXPECT_EQ(taxonomy_error(kGood), "");
}

// A phrase with context conditions: what it needs around it, what rules it out.
constexpr const char* kConditional = R"toml(version = "clinic-8"

[lists]
vaccines = ["flu|covid|booster|tetanus", "vaccine|vaccines"]

[[touchpoint]]
id = "vaccines"
phrases = [
  "vaccine|vaccines",
  { phrase = "shot|shots|jab", near = ["@vaccines"], not_after = ["big"], within = 3 },
  { phrase = "dose", near = ["<num> of <num>", "@vaccines"] },
]

[[touchpoint]]
id = "physician"
phrases = [{ phrase = "doctor|doctors", not_before = ["office"] }, "dr"]

[[touchpoint]]
id = "wait_time"
phrases = [{ phrase = "<num> hours", not_near = ["labour|labor"] }]
)toml";

TEST_F(TaxonomyFiles, ConditionsSayWhatAPhraseNeedsAroundIt) {
  Analyzer a = Analyzer::load_or_builtin({}, write("taxonomy.toml", kConditional));
  auto ids = [&](const std::string& text) {
    std::vector<std::string> out;
    for (const auto& tp : a.analyze(text).touchpoints) out.push_back(tp.touchpoint);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("Got my flu shot in five minutes, great nurse."), V{"vaccines"});
  EXPECT_EQ(ids("The big shot surgeon never showed."), V{});  // needs a vaccine word
  EXPECT_EQ(ids("Got my covid jab."), V{"vaccines"});
  // "booster" is further than `within` (3 words) from "shot".
  EXPECT_EQ(ids("A booster would have been nice but the shot was given."), V{});
  EXPECT_EQ(ids("The booster shot was given."), V{"vaccines"});
  EXPECT_EQ(ids("Took a shot at the parking, and missed."), V{});
  EXPECT_EQ(ids("The doctor's office was closed."), V{});  // not_before "office"
  EXPECT_EQ(ids("The doctor was kind."), V{"physician"});
  EXPECT_EQ(ids("Waited 3 hours to be seen."), V{"wait_time"});
  EXPECT_EQ(ids("After 20 hours of labour the doctor came."), V{"physician"});
  // A context phrase may begin with a number.
  EXPECT_EQ(ids("Got dose 2 of 3 today."), V{"vaccines"});
  EXPECT_EQ(ids("Got dose two of three today."), V{"vaccines"});
  EXPECT_EQ(ids("The dose was wrong."), V{});
}

TEST_F(TaxonomyFiles, ConditionErrorsNameFileAndLine) {
  auto tp = [](const std::string& phrases) {
    return "version = \"1\"\n[lists]\nwaits = [\"wait\"]\n[[touchpoint]]\nid = \"a\"\n"
           "phrases = [\n  \"ok\",\n  " +
           phrases + ",\n]\n";
  };
  // Line 8 is the conditional phrase.
  std::string e = taxonomy_error(tp("{ phrase = \"x\", nearby = [\"y\"] }"));
  EXPECT_NE(e.find("taxonomy.toml:8:"), std::string::npos) << e;
  EXPECT_NE(e.find("nearby: unknown key"), std::string::npos) << e;
  e = taxonomy_error(tp("{ phrase = \"x\" }"));
  EXPECT_NE(e.find("taxonomy.toml:8:"), std::string::npos) << e;
  EXPECT_NE(e.find("needs near"), std::string::npos) << e;
  e = taxonomy_error(tp("{ near = [\"y\"] }"));
  EXPECT_NE(e.find("needs phrase"), std::string::npos) << e;
  e = taxonomy_error(tp("{ phrase = \"x\", near = [\"@nope\"] }"));
  EXPECT_NE(e.find("taxonomy.toml:8:"), std::string::npos) << e;
  EXPECT_NE(e.find("\"@nope\": no such list"), std::string::npos) << e;
  e = taxonomy_error(tp("{ phrase = \"x\", near = [\"@waits\"], within = 0 }"));
  EXPECT_NE(e.find("taxonomy.toml:8:"), std::string::npos) << e;
  EXPECT_NE(e.find("within"), std::string::npos) << e;
  e = taxonomy_error(tp("{ phrase = \"x\", not_near = [\"? y\"] }"));
  EXPECT_NE(e.find("taxonomy.toml:8:"), std::string::npos) << e;
  EXPECT_NE(e.find("? y"), std::string::npos) << e;
  e = taxonomy_error(tp("{ phrase = \"x\", not_after = [\"<start> y\"] }"));
  EXPECT_NE(e.find("<start>"), std::string::npos) << e;
  e = taxonomy_error(tp("{ phrase = \"x\", near = [] }"));
  EXPECT_NE(e.find("taxonomy.toml:8:"), std::string::npos) << e;
  e = taxonomy_error(tp("42"));
  EXPECT_NE(e.find("taxonomy.toml:8:"), std::string::npos) << e;
  // A bad phrase in a list is reported at the list's line once a condition uses it.
  e = taxonomy_error(
      "[lists]\nw = [\"ok\", \"(a b\"]\n[[touchpoint]]\nid = \"a\"\n"
      "phrases = [{ phrase = \"x\", near = \"@w\" }]\n");
  EXPECT_NE(e.find("taxonomy.toml:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("lists.w"), std::string::npos) << e;
  e = taxonomy_error("[lists]\nW = [\"ok\"]\n[[touchpoint]]\nid = \"a\"\nphrases = [\"x\"]\n");
  EXPECT_NE(e.find("taxonomy.toml:2:"), std::string::npos) << e;
  e = taxonomy_error("[lists]\nw = [\"@v\"]\n[[touchpoint]]\nid = \"a\"\nphrases = [\"x\"]\n");
  EXPECT_NE(e.find("cannot name another list"), std::string::npos) << e;
  EXPECT_EQ(taxonomy_error(kConditional), "");
}

// `practice`: the words that name the practice as a whole. A clause naming one of them and no
// touchpoint says nothing of the touchpoints before it; a clinic can add its own.
TEST_F(TaxonomyFiles, PracticeWordsEndWhatIsSaidOfTheTouchpointBefore) {
  constexpr const char* kBase = "[[touchpoint]]\nid = \"physician\"\nphrases = [\"doctor|dr\"]\n";
  const std::string text = "Great doctor, the spa is filthy.";
  auto physician = [&](const std::string& file) {
    Analyzer a = Analyzer::load_or_builtin({}, write("taxonomy.toml", file));
    for (const auto& tp : a.analyze(text).touchpoints) {
      if (tp.touchpoint == "physician") return tp.score;
    }
    ADD_FAILURE() << "no physician";
    return 0.0;
  };
  // Without the key "filthy" goes on about the doctor; with "spa" as the practice it does not.
  const double without = physician(kBase);
  const double with = physician(std::string("practice = [\"spa\", \"office\"]\n") + kBase);
  EXPECT_LT(without, with);
  EXPECT_GT(with, 0.2);
  std::string e = taxonomy_error(std::string("practice = 5\n") + kBase);
  EXPECT_NE(e.find("taxonomy.toml:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("practice: expected a phrase or a list of phrases"), std::string::npos) << e;
  e = taxonomy_error(std::string("version = \"1\"\npractice = [\"@nope\"]\n") + kBase);
  EXPECT_NE(e.find("taxonomy.toml:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("\"@nope\": no such list"), std::string::npos) << e;
  e = taxonomy_error(std::string("practice = [\"(the spa\"]\n") + kBase);
  EXPECT_NE(e.find("taxonomy.toml:1:"), std::string::npos) << e;
  EXPECT_EQ(taxonomy_error(std::string("practice = \"spa\"\n") + kBase), "");
}

TEST_F(TaxonomyFiles, LexiconErrorsNameFileAndLine) {
  std::string e = lexicon_error("version\t1\n# comment\n\ngood\t2\nbad\tterrible\n");
  EXPECT_NE(e.find("lexicon.tsv:5:"), std::string::npos) << e;
  EXPECT_NE(e.find("terrible"), std::string::npos) << e;
  e = lexicon_error("version\t1\ngood\t2\ngood\t2.5\n");
  EXPECT_NE(e.find("lexicon.tsv:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  EXPECT_NE(lexicon_error("good\t2\n").find("version"), std::string::npos);
  EXPECT_NE(lexicon_error("version\t1\nvery\tintensifier\n").find("lexicon.tsv:2:"),
            std::string::npos);
  EXPECT_NE(lexicon_error("version\t1\ngood 2\n").find("lexicon.tsv:2:"), std::string::npos);
  EXPECT_NE(lexicon_error("version\t1\nwow\t9\n").find("lexicon.tsv:2:"), std::string::npos);
  EXPECT_NE(lexicon_error("version\t1\n(a b\t1\n").find("lexicon.tsv:2:"), std::string::npos);
  EXPECT_EQ(lexicon_error("version\t1\ngood\t2\n"), "");
}

// A wildcard may stand inside a group of several-word alternatives ("(<num> times|around)"):
// it matches as it does alone; a misspelt one ("<nun>") is an error, not a word.
TEST_F(TaxonomyFiles, WildcardsInsideAGroup) {
  fs::path lexicon = write("lexicon.tsv",
                           "version\tmini-2\nthree\tnumber\ntransferred (<num> times|around)\t-2\n"
                           "seen (in ? minutes|today)\t2\n");
  Analyzer a = Analyzer::load(lexicon, write("taxonomy.toml", kGood));
  EXPECT_EQ(a.analyze("I was transferred 3 times.").label, Label::kNegative);
  EXPECT_EQ(a.analyze("I was transferred three times.").label, Label::kNegative);
  EXPECT_EQ(a.analyze("I was transferred around.").label, Label::kNegative);
  EXPECT_EQ(a.analyze("I was transferred once.").label, Label::kNeutral);
  EXPECT_EQ(a.analyze("We were seen in ten minutes.").label, Label::kPositive);
  std::string e = lexicon_error("version\t1\ntransferred (<nun> times|around)\t-2\n");
  EXPECT_NE(e.find("lexicon.tsv:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("<nun>"), std::string::npos) << e;
  e = lexicon_error("version\t1\nseen (? minutes|today)\t2\n");  // ? first, as it was
  EXPECT_EQ(e, "");
  e = lexicon_error("version\t1\n(? minutes|today)\t2\n");
  EXPECT_NE(e.find("lexicon.tsv:2:"), std::string::npos) << e;
  e = lexicon_error("version\t1\nseen (today|<start> now)\t2\n");
  EXPECT_NE(e.find("<start>"), std::string::npos) << e;
}

TEST_F(TaxonomyFiles, MissingFileIsAConfigErrorNamingIt) {
  try {
    Analyzer::load(dir_ / "nope.tsv", dir_ / "nope.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.tsv"), std::string::npos) << e.what();
  }
}

TEST_F(TaxonomyFiles, ShippedFilesMatchTheBuiltin) {
  // The files in the source tree are what builtin() compiled in.
  fs::path src = REPWATCH_SOURCE_DIR;
  Analyzer files = Analyzer::load(src / "sentiment/lexicon.tsv", src / "sentiment/taxonomy.toml");
  Analyzer builtin = Analyzer::builtin();
  EXPECT_EQ(files.lexicon_version(), builtin.lexicon_version());
  EXPECT_EQ(files.touchpoints().size(), builtin.touchpoints().size());
  std::string text = "The doctor was great but billing was a nightmare and I waited 2 hours.";
  EXPECT_EQ(files.analyze(text), builtin.analyze(text));
}

}  // namespace
}  // namespace repwatch::sentiment
