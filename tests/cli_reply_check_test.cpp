// `repwatch reply-check`: exit codes (0 clean, 3 findings, 1 error, 2 usage), the draft from
// arguments, --file or standard input, --json, --review (the author's name; the posted reply),
// --posted over the stored replies, and a clinic's own word lists from the config.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <sstream>

#include "fixtures/cli/fixture_db.h"

namespace repwatch::cli::testing {
namespace {

struct Outcome {
  int code = -1;
  std::string out, err;
};

// repwatch ARGS with `input` on standard input (a terminal when stdin_tty).
Outcome run(std::vector<std::string> args, const std::string& input = "", bool stdin_tty = false) {
  std::istringstream in(input);
  Environment env;
  env.now = at(kNow);
  env.in = &in;
  env.stdin_tty = stdin_tty;
  std::ostringstream out, err;
  Outcome r;
  r.code = run_cli(args, out, err, env);
  r.out = out.str();
  r.err = err.str();
  return r;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

// The fixture database plus reviews whose replies disclose (or not).
class ReplyCheckCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Database db = db::open_store(db_.path());
    db::ReviewStore store(db);
    auto add = [&](const char* id, const char* author, const char* text, const char* reply,
                   const char* created) {
      ReviewSpec spec{"google-downtown",
                      "downtown",
                      id,
                      created,
                      2,
                      RatingScale::stars(),
                      text,
                      -0.5,
                      {},
                      reply,
                      author};
      auto [r, a] = make_review(spec);
      return store.upsert(r, a, r.created_at + 600).review_id;
    };
    darnell_ =
        add("p1", "Darnell W.", "Waited an hour on the 19th for my cleaning.",
            "Hi Darnell, we're sorry about your cleaning on the 19th.", "2026-02-01T10:00:00Z");
    quiet_ = add("p2", "Marcus Hill", "Rude front desk.", "", "2026-02-03T10:00:00Z");
    add("p3", "kbrooks88", "Never again.",
        "Ms. Brooks, our records show you missed two appointments.", "2025-06-01T10:00:00Z");
  }

  std::vector<std::string> with_db(std::vector<std::string> args) {
    args.insert(args.begin(), {"--db", db_.path().string()});
    return args;
  }

  FixtureDb db_;
  int64_t darnell_ = 0, quiet_ = 0;
};

TEST(ReplyCheckCliDraft, FindingsExitThreeCleanExitsZero) {
  Outcome bad =
      run({"reply-check", "Hi", "Darnell,", "we're", "sorry", "your", "visit", "ran", "late."});
  EXPECT_EQ(bad.code, 3) << bad.err;
  EXPECT_TRUE(contains(bad.out, "Hi [Darnell], we're sorry [your visit] ran late.")) << bad.out;
  EXPECT_TRUE(contains(bad.out, "2 findings: do not post this reply as it is.")) << bad.out;
  EXPECT_TRUE(contains(bad.out, "Patient's name or initials: \"Darnell\"")) << bad.out;
  EXPECT_TRUE(contains(bad.out, "Confirms they are a patient: \"your visit\"")) << bad.out;
  EXPECT_TRUE(contains(bad.out, "Instead: ")) << bad.out;
  EXPECT_TRUE(contains(bad.out, "A reply that is always safe to start from:")) << bad.out;

  Outcome good = run({"reply-check",
                      "Thank you for your feedback. We'd like to hear more; please call our office "
                      "at 555-0100."});
  EXPECT_EQ(good.code, 0) << good.err;
  EXPECT_TRUE(contains(good.out, "No patient information found")) << good.out;
}

TEST(ReplyCheckCliDraft, ReadsFileAndStandardInput) {
  auto dir =
      std::filesystem::temp_directory_path() / ("rw-reply-check-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "draft.txt") << "We're sorry the extraction hurt.\nPlease call us.\n";
  Outcome file = run({"reply-check", "--file", (dir / "draft.txt").string()});
  EXPECT_EQ(file.code, 3) << file.err;
  EXPECT_TRUE(contains(file.out, "We're sorry [the extraction] hurt.")) << file.out;

  Outcome in = run({"reply-check"}, "Your prescription is ready.");
  EXPECT_EQ(in.code, 3) << in.err;
  Outcome dash = run({"reply-check", "--file", "-"}, "Thanks for the kind words!", true);
  EXPECT_EQ(dash.code, 0) << dash.err;

  Outcome missing = run({"reply-check", "--file", (dir / "nope.txt").string()});
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(contains(missing.err, "cannot read")) << missing.err;
  std::filesystem::remove_all(dir);
}

TEST(ReplyCheckCliDraft, JsonForTools) {
  Outcome r = run({"--json", "reply-check", "Dear Mrs. Okafor,\nyour balance of $240 is due."});
  EXPECT_EQ(r.code, 3) << r.err;
  auto d = parse_json(r.out);
  ASSERT_TRUE(d.IsObject());
  EXPECT_FALSE(d["clean"].GetBool());
  EXPECT_TRUE(d["review_id"].IsNull());
  const auto& f = d["findings"];
  ASSERT_EQ(f.Size(), 3u) << r.out;
  EXPECT_STREQ(f[0]["kind"].GetString(), "name");
  EXPECT_STREQ(f[0]["phrase"].GetString(), "Mrs. Okafor");
  EXPECT_EQ(f[0]["line"].GetInt(), 1);
  EXPECT_EQ(f[0]["column"].GetInt(), 6);
  EXPECT_STREQ(f[1]["kind"].GetString(), "billing");
  EXPECT_STREQ(f[1]["phrase"].GetString(), "your balance");
  EXPECT_EQ(f[1]["line"].GetInt(), 2);
  EXPECT_EQ(f[1]["column"].GetInt(), 1);
  EXPECT_STREQ(f[2]["phrase"].GetString(), "$240");
  EXPECT_TRUE(f[0]["in_review"].IsNull());
  EXPECT_TRUE(f[0]["why"].IsString());
  EXPECT_TRUE(f[0]["hint"].IsString());
  EXPECT_TRUE(d["terms_version"].IsString());

  Outcome clean = run({"--json", "reply-check", "Thank you!"});
  EXPECT_EQ(clean.code, 0);
  EXPECT_TRUE(parse_json(clean.out)["clean"].GetBool());
}

TEST(ReplyCheckCliDraft, UsageMistakesExitTwo) {
  EXPECT_EQ(run({"reply-check"}, "", true).code, 2);  // nothing given, stdin a terminal
  EXPECT_EQ(run({"reply-check"}, "   \n").code, 2);   // empty
  EXPECT_EQ(run({"reply-check", "--posted", "some text"}).code, 2);
  EXPECT_EQ(run({"reply-check", "--since", "30d", "text"}).code, 2);
  EXPECT_EQ(run({"reply-check", "--file", "a.txt", "text"}).code, 2);
  EXPECT_EQ(run({"reply-check", "--bogus"}).code, 2);
  Outcome no_db = run({"--config", "", "reply-check", "--review", "1", "text"});
  EXPECT_EQ(no_db.code, 2) << no_db.err;
  EXPECT_TRUE(contains(no_db.err, "--db FILE")) << no_db.err;
}

TEST_F(ReplyCheckCli, ReviewMakesTheAuthorsNameAFinding) {
  std::string id = std::to_string(darnell_);
  Outcome r = run(with_db({"reply-check", "--review", id, "Thanks for writing Darnell!"}));
  EXPECT_EQ(r.code, 3) << r.err << r.out;
  EXPECT_TRUE(contains(r.out, "A reply to review " + id + " (google-downtown, Darnell W."))
      << r.out;
  EXPECT_TRUE(contains(r.out, "\"Darnell\" (the review says it too)")) << r.out;
  // Without the review the same words have no clue that Darnell is a name.
  EXPECT_EQ(run({"reply-check", "Thanks for writing Darnell!"}).code, 0);

  Outcome json = run(with_db({"--json", "reply-check", "--review", id, "Thanks Darnell W!"}));
  auto d = parse_json(json.out);
  EXPECT_EQ(d["review_id"].GetInt64(), darnell_);
  EXPECT_TRUE(d["findings"][0]["in_review"].GetBool());

  Outcome unknown = run(with_db({"reply-check", "--review", "9999", "text"}));
  EXPECT_EQ(unknown.code, 2);
  EXPECT_TRUE(contains(unknown.err, "no review with id 9999")) << unknown.err;
}

TEST_F(ReplyCheckCli, ReviewWithoutDraftChecksThePostedReply) {
  Outcome r = run(with_db({"reply-check", "--review", std::to_string(darnell_)}), "", true);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(contains(r.out, "The reply posted under review")) << r.out;
  EXPECT_TRUE(contains(r.out, "Hi [Darnell], we're sorry about [your cleaning] on [the 19th]."))
      << r.out;
  Outcome none = run(with_db({"reply-check", "--review", std::to_string(quiet_)}), "", true);
  EXPECT_EQ(none.code, 2);
  EXPECT_TRUE(contains(none.err, "has no reply yet")) << none.err;
}

TEST_F(ReplyCheckCli, PostedListsEveryStoredReplyThatDiscloses) {
  Outcome r = run(with_db({"reply-check", "--posted"}));
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(contains(r.out, "2 of 3 stored replies disclose patient information")) << r.out;
  EXPECT_TRUE(contains(r.out, "Darnell W.")) << r.out;
  EXPECT_TRUE(contains(r.out, "kbrooks88")) << r.out;
  EXPECT_FALSE(contains(r.out, "billing office")) << r.out;  // g3's reply is clean

  Outcome recent = run(with_db({"reply-check", "--posted", "--since", "2026-01-01"}));
  EXPECT_EQ(recent.code, 3);
  EXPECT_FALSE(contains(recent.out, "kbrooks88")) << recent.out;

  Outcome json = run(with_db({"--json", "reply-check", "--posted"}));
  auto d = parse_json(json.out);
  ASSERT_TRUE(d.IsArray());
  ASSERT_EQ(d.Size(), 2u);
  EXPECT_EQ(d[0]["review_id"].GetInt64(), darnell_);  // newest first
  EXPECT_FALSE(d[0]["clean"].GetBool());

  Outcome other = run(with_db({"reply-check", "--posted", "--source", "yelp-downtown"}));
  EXPECT_EQ(other.code, 0) << other.err;
  EXPECT_TRUE(contains(other.out,
                       "No stored reply discloses patient information (0 replies "
                       "checked)"))
      << other.out;
}

TEST(ReplyCheckCliConfig, AClinicsOwnWordListsFromTheConfig) {
  auto dir =
      std::filesystem::temp_directory_path() / ("rw-reply-terms-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // The shipped file plus one phrase of the clinic's own.
  std::ifstream shipped(std::filesystem::path(REPWATCH_SOURCE_DIR) / "replies/reply_terms.toml");
  std::string terms((std::istreambuf_iterator<char>(shipped)), std::istreambuf_iterator<char>());
  std::string needle = "phrases = [\n  \"treatment plan\"";
  ASSERT_NE(terms.find(needle), std::string::npos);
  terms.replace(terms.find(needle), needle.size(),
                "phrases = [\n  \"smile makeover\", \"treatment plan\"");
  std::ofstream(dir / "terms.toml") << terms;
  std::ofstream(dir / "repwatch.toml")
      << "state_dir = \"" << dir.string() << "\"\n[replies]\nterms = \"terms.toml\"\n";
  std::string draft = "We hope you love the smile makeover!";
  EXPECT_EQ(run({"reply-check", draft}).code, 0);
  Outcome clinic = run({"--config", (dir / "repwatch.toml").string(), "reply-check", draft});
  EXPECT_EQ(clinic.code, 3) << clinic.err;

  std::ofstream(dir / "terms.toml") << "version = \"x\"\n[anchors]\npossesive = [\"your\"]\n";
  Outcome broken = run({"--config", (dir / "repwatch.toml").string(), "reply-check", draft});
  EXPECT_EQ(broken.code, 1);
  EXPECT_TRUE(contains(broken.err, "terms.toml:3: anchors.possesive: unknown key")) << broken.err;
  std::filesystem::remove_all(dir);
}

TEST(ReplyCheckCliHelp, ListedInHelpWithItsExitCode) {
  Outcome help = run({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_TRUE(contains(help.out, "reply-check")) << help.out;
  Outcome sub = run({"reply-check", "--help"});
  EXPECT_TRUE(contains(sub.out, "--review")) << sub.out;
  EXPECT_TRUE(contains(sub.out, "--posted")) << sub.out;
  EXPECT_TRUE(contains(sub.out, "3 findings")) << sub.out;
  Outcome codes = run({"help", "exit-codes"});
  EXPECT_TRUE(contains(codes.out, "3   reply-check")) << codes.out;
}

}  // namespace
}  // namespace repwatch::cli::testing
