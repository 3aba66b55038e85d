// connectors/: the RFC 4180 CSV reader and the "file" connector (CSV + JSONL exports,
// field mapping, scales, incremental import, per-row problems).
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/connector.h"
#include "connectors/csv.h"
#include "connectors/file_connector.h"
#include "core/error.h"
#include "core/time.h"
#include "normalize/normalize.h"

namespace fs = std::filesystem;
using namespace repwatch;
using connectors::csv::Reader;
using connectors::csv::Record;

namespace {

std::vector<Record> read_all(std::string_view text, char delim = ',') {
  Reader r(text, delim);
  std::vector<Record> out;
  Record rec;
  while (r.next(rec)) out.push_back(rec);
  return out;
}

using Fields = std::vector<std::string>;

}  // namespace

// ---- CSV reader --------------------------------------------------------------------------

TEST(Csv, SimpleRecordsAndLineNumbers) {
  auto recs = read_all("a,b,c\n1,2,3\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(recs[1].fields, (Fields{"1", "2", "3"}));
  EXPECT_EQ(recs[0].line, 1u);
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_TRUE(recs[1].error.empty());
}

TEST(Csv, QuotedDelimitersDoubledQuotesAndNewlines) {
  auto recs = read_all(
      "id,text\n"
      "1,\"Great, friendly staff\"\n"
      "2,\"She said \"\"no appointments\"\" twice\"\n"
      "3,\"line one\nline two\n\nline four\"\n"
      "4,\"\"\n"
      "5,after\n");
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(recs[1].fields[1], "Great, friendly staff");
  EXPECT_EQ(recs[2].fields[1], "She said \"no appointments\" twice");
  EXPECT_EQ(recs[3].fields[1], "line one\nline two\n\nline four");
  EXPECT_EQ(recs[3].line, 4u);
  EXPECT_EQ(recs[4].fields, (Fields{"4", ""}));
  EXPECT_EQ(recs[4].line, 8u);  // the record after a 4-line record
  EXPECT_EQ(recs[5].line, 9u);
  for (const auto& r : recs) EXPECT_TRUE(r.error.empty()) << r.line << ": " << r.error;
}

TEST(Csv, CrlfBomBlankLinesAndNoFinalNewline) {
  auto recs = read_all("\xEF\xBB\xBFid,text\r\n1,\"a\r\nb\"\r\n\r\n2,plain\r\n\n3,last");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].fields, (Fields{"id", "text"}));   // BOM gone
  EXPECT_EQ(recs[1].fields, (Fields{"1", "a\r\nb"}));  // CRLF inside quotes is data
  EXPECT_EQ(recs[2].fields, (Fields{"2", "plain"}));   // no stray \r
  EXPECT_EQ(recs[2].line, 5u);
  EXPECT_EQ(recs[3].fields, (Fields{"3", "last"}));
  EXPECT_EQ(recs[3].line, 7u);
}

TEST(Csv, EmptyFieldsAndTrailingDelimiter) {
  auto recs = read_all(",,\na,\n\"x\",\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].fields, (Fields{"", "", ""}));
  EXPECT_EQ(recs[1].fields, (Fields{"a", ""}));
  EXPECT_EQ(recs[2].fields, (Fields{"x", ""}));
  auto last = read_all("a,b,");
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].fields, (Fields{"a", "b", ""}));
}

TEST(Csv, MalformedRecordsAreFlaggedNotFatal) {
  auto recs = read_all("id,text\n1,\"closed\"junk,x\n2,ok\n3,\"never closed\n4,eaten\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[1].error, "unexpected text after a closing quote");
  EXPECT_EQ(recs[1].fields, (Fields{"1", "closedjunk", "x"}));
  EXPECT_TRUE(recs[2].error.empty());
  EXPECT_EQ(recs[2].fields, (Fields{"2", "ok"}));
  EXPECT_EQ(recs[3].line, 4u);
  EXPECT_EQ(recs[3].error, "quoted field opened on line 4 is never closed");
}

TEST(Csv, LenientQuoteInsideUnquotedFieldAndOtherDelimiters) {
  auto recs = read_all("a 5\" screen,b\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields, (Fields{"a 5\" screen", "b"}));
  EXPECT_TRUE(recs[0].error.empty());
  auto tsv = read_all("a\tb,c\t\"d\te\"\n", '\t');
  ASSERT_EQ(tsv.size(), 1u);
  EXPECT_EQ(tsv[0].fields, (Fields{"a", "b,c", "d\te"}));
  auto semi = read_all("x;\"y;z\"\r\n", ';');
  EXPECT_EQ(semi[0].fields, (Fields{"x", "y;z"}));
}

TEST(Csv, ReusesRecordStorageAcrossWidths) {
  Reader r("a,b,c,d\n1\n2,3\n", ',');
  Record rec;
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.fields.size(), 4u);
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.fields, (Fields{"1"}));
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.fields, (Fields{"2", "3"}));
  EXPECT_FALSE(r.next(rec));
  EXPECT_FALSE(r.next(rec));
}

// ---- the file connector ------------------------------------------------------------------

namespace {

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rw-file-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    fs::create_directories(dir_ / "import");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary) << text;
  }
  // Sets a file's mtime explicitly so "changed" never depends on the clock's resolution.
  void set_mtime(const std::string& rel, int seconds_ago) {
    fs::last_write_time(dir_ / rel,
                        fs::file_time_type::clock::now() - std::chrono::seconds(seconds_ago));
  }

  // Builds the connector for one [[sources]] entry (`source_keys` are its extra lines).
  std::unique_ptr<connectors::Connector> make(const std::string& source_keys) {
    std::string text =
        "state_dir = \"state\"\n"
        "[[locations]]\nid = \"downtown\"\nname = \"Downtown Family Practice\"\n"
        "[[locations]]\nid = \"northside\"\nname = \"Northside Pediatrics & Family Clinic\"\n"
        "[[sources]]\nid = \"src\"\ntype = \"file\"\nlocation = \"downtown\"\n" +
        source_keys;
    config_ = parse_config(text, dir_ / "repwatch.toml");
    return connectors::make_connector(config_.sources.at(0), config_);
  }

  fs::path dir_;
  Config config_;
};

std::string problems_of(const connectors::FetchResult& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.to_string() + "\n";
  return out;
}

const Review* find(const connectors::FetchResult& r, const std::string& id) {
  for (const auto& rev : r.reviews)
    if (rev.external_id == id) return &rev;
  return nullptr;
}

const char* kHealthgrades =
    "Review ID,Reviewer,Overall Rating,Comments,Submitted,Practice Response,Practice\r\n"
    "hg-1,Maria G.,5,\"Dr. Patel listened, and explained everything.\",03/14/2026,"
    "\"Thank you, Maria!\",Northside Pediatrics & Family Clinic\r\n"
    "hg-2,J. Smith,2,\"Waited 2 hours. The \"\"express\"\" line isn't.\",03/15/2026,,northside\r\n"
    "hg-3,,4,,03/16/2026,,\r\n";

const char* kHealthgradesKeys =
    "path = \"import\"\n"
    "date_format = \"%m/%d/%Y\"\n"
    "utc_offset = \"-05:00\"\n"
    "[sources.fields]\n"
    "external_id = \"Review ID\"\nauthor = \"Reviewer\"\nrating = \"Overall Rating\"\n"
    "text = \"Comments\"\ncreated_at = \"Submitted\"\nreply_text = \"Practice Response\"\n"
    "location = \"Practice\"\n";

}  // namespace

TEST_F(FileSourceTest, ImportsCsvWithMapping) {
  write("import/2026-03.csv", kHealthgrades);
  auto c = make(kHealthgradesKeys);
  auto r = c->fetch("");
  EXPECT_TRUE(r.problems.empty()) << problems_of(r);
  ASSERT_EQ(r.reviews.size(), 3u);
  const Review* a = find(r, "hg-1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->source_id, "src");
  EXPECT_EQ(a->location_id, "northside");  // by location name
  EXPECT_EQ(a->author, "Maria G.");
  EXPECT_EQ(a->raw_rating, 5.0);
  EXPECT_EQ(a->scale, RatingScale::stars());
  EXPECT_EQ(a->text, "Dr. Patel listened, and explained everything.");
  EXPECT_EQ(a->reply_text, "Thank you, Maria!");
  // 03/14/2026 local midnight at UTC-5 is 05:00 UTC.
  EXPECT_EQ(format_timestamp(a->created_at), "2026-03-14T05:00:00Z");
  EXPECT_EQ(a->updated_at, a->created_at);
  const Review* b = find(r, "hg-2");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->location_id, "northside");  // by location id
  EXPECT_EQ(b->text, "Waited 2 hours. The \"express\" line isn't.");
  const Review* rating_only = find(r, "hg-3");
  ASSERT_NE(rating_only, nullptr);
  EXPECT_EQ(rating_only->text, "");
  EXPECT_EQ(rating_only->location_id, "downtown");  // the source's location when empty
}

TEST_F(FileSourceTest, ImportsJsonlWithNestedKeysAndGoogleEnums) {
  write("import/google.jsonl",
        "{\"reviewId\":\"g1\",\"reviewer\":{\"displayName\":\"Ana\"},\"starRating\":\"FOUR\","
        "\"comment\":\"Muy buena atención 😊\",\"createTime\":\"2026-05-01T14:03:11.5Z\","
        "\"updateTime\":\"2026-05-02T09:00:00Z\",\"reviewReply\":{\"comment\":\"¡Gracias!\","
        "\"updateTime\":\"2026-05-03T10:00:00+02:00\"},\"languageCode\":\"es\"}\n"
        "{\"reviewId\":\"g2\",\"reviewer\":{\"displayName\":\"Bo\"},\"starRating\":"
        "\"STAR_RATING_UNSPECIFIED\",\"createTime\":\"2026-05-04T08:00:00Z\"}\n"
        "\n"
        "{\"reviewId\":3,\"starRating\":2,\"comment\":null,\"createTime\":1767225600}\n");
  auto c = make(
      "path = \"import\"\n[sources.fields]\nexternal_id = \"reviewId\"\n"
      "author = \"reviewer.displayName\"\nrating = \"starRating\"\ntext = \"comment\"\n"
      "created_at = \"createTime\"\nupdated_at = \"updateTime\"\n"
      "reply_text = \"reviewReply.comment\"\nreply_at = \"reviewReply.updateTime\"\n"
      "language = \"languageCode\"\n");
  auto r = c->fetch("");
  EXPECT_TRUE(r.problems.empty()) << problems_of(r);
  ASSERT_EQ(r.reviews.size(), 3u);
  const Review* g1 = find(r, "g1");
  ASSERT_NE(g1, nullptr);
  EXPECT_EQ(g1->author, "Ana");
  EXPECT_EQ(g1->raw_rating, 4.0);
  EXPECT_EQ(g1->text, "Muy buena atención 😊");
  EXPECT_EQ(g1->language, "es");
  EXPECT_EQ(format_timestamp(g1->created_at), "2026-05-01T14:03:11Z");
  EXPECT_EQ(format_timestamp(g1->updated_at), "2026-05-02T09:00:00Z");
  EXPECT_EQ(g1->reply_text, "¡Gracias!");
  ASSERT_TRUE(g1->reply_at);
  EXPECT_EQ(format_timestamp(*g1->reply_at), "2026-05-03T08:00:00Z");
  EXPECT_FALSE(find(r, "g2")->raw_rating);  // unspecified: no rating
  const Review* g3 = find(r, "3");          // numeric id and epoch seconds
  ASSERT_NE(g3, nullptr);
  EXPECT_EQ(g3->raw_rating, 2.0);
  EXPECT_EQ(g3->text, "");
  EXPECT_EQ(format_timestamp(g3->created_at), "2026-01-01T00:00:00Z");
}

TEST_F(FileSourceTest, ReimportOfUnchangedFilesGivesNothing) {
  write("import/a.csv", "external_id,rating,text,created_at\nx1,5,Great,2026-01-02\n");
  write("import/sub/b.jsonl",
        "{\"external_id\":\"y1\",\"rating\":1,\"created_at\":\"2026-01-03\"}\n");
  write("import/.partial.csv", "external_id,rating,created_at\nhidden,1,2026-01-01\n");
  write("import/notes.txt", "ignored: does not match the default patterns\n");
  auto c = make("path = \"import\"\n");
  auto first = c->fetch("");
  EXPECT_TRUE(first.problems.empty()) << problems_of(first);
  ASSERT_EQ(first.reviews.size(), 2u);
  EXPECT_NE(find(first, "x1"), nullptr);
  EXPECT_NE(find(first, "y1"), nullptr);

  auto second = c->fetch(first.cursor);
  EXPECT_TRUE(second.reviews.empty());
  EXPECT_TRUE(second.problems.empty()) << problems_of(second);
  EXPECT_EQ(second.cursor, first.cursor);

  // Touched but the same content: read, hashed, not imported.
  set_mtime("import/a.csv", 100);
  auto third = c->fetch(second.cursor);
  EXPECT_TRUE(third.reviews.empty());
  EXPECT_NE(third.cursor, second.cursor);  // new mtime recorded
  auto fourth = c->fetch(third.cursor);
  EXPECT_TRUE(fourth.reviews.empty());

  // A new connector (daemon restart) with the stored cursor reads nothing either.
  auto again = make("path = \"import\"\n");
  EXPECT_TRUE(again->fetch(fourth.cursor).reviews.empty());
}

TEST_F(FileSourceTest, ChangedFileIsReadAgainWhole) {
  write("import/a.csv",
        "external_id,rating,text,created_at\nx1,5,Great,2026-01-02\nx2,4,Good,2026-01-03\n");
  write("import/b.csv", "external_id,rating,text,created_at\nz1,3,Okay,2026-01-04\n");
  // Without removal detection only what changed is read (with it, see the next test).
  auto c = make("path = \"import\"\ndetect_removals = false\n");
  auto first = c->fetch("");
  ASSERT_EQ(first.reviews.size(), 3u);

  write("import/a.csv",
        "external_id,rating,text,created_at\nx1,5,Great,2026-01-02\nx2,2,Edited: billing "
        "mess,2026-01-03\nx3,1,New one,2026-01-05\n");
  set_mtime("import/a.csv", 50);
  auto second = c->fetch(first.cursor);
  EXPECT_TRUE(second.problems.empty()) << problems_of(second);
  ASSERT_EQ(second.reviews.size(), 3u);  // all of a.csv, nothing of b.csv
  EXPECT_EQ(find(second, "x2")->text, "Edited: billing mess");
  EXPECT_EQ(find(second, "x2")->raw_rating, 2.0);
  EXPECT_NE(find(second, "x3"), nullptr);
  EXPECT_EQ(find(second, "z1"), nullptr);

  // A removed file drops out of the cursor; the rest stays unchanged.
  fs::remove(dir_ / "import/b.csv");
  auto third = c->fetch(second.cursor);
  EXPECT_TRUE(third.reviews.empty());
  EXPECT_FALSE(third.complete);
  EXPECT_EQ(third.cursor.find("b.csv"), std::string::npos);
}

// When a file changed, appeared or went away, every file is read again and the poll is a
// complete listing (reviews in none of the files were removed); when nothing changed, nothing
// is read and nothing can be concluded. A bad row, or a file that cannot be used, makes the
// listing incomplete.
TEST_F(FileSourceTest, AnyChangeReadsEveryFileForACompleteListing) {
  write("import/a.csv",
        "external_id,rating,text,created_at\nx1,5,Great,2026-01-02\nx2,4,Good,2026-01-03\n");
  write("import/b.csv", "external_id,rating,text,created_at\nz1,3,Okay,2026-01-04\n");
  set_mtime("import/a.csv", 300);  // written a while ago (files that have settled)
  set_mtime("import/b.csv", 300);
  auto c = make("path = \"import\"\n");
  auto first = c->fetch("");
  ASSERT_EQ(first.reviews.size(), 3u);
  EXPECT_TRUE(first.complete);

  auto idle = c->fetch(first.cursor);
  EXPECT_TRUE(idle.reviews.empty());
  EXPECT_FALSE(idle.complete);
  set_mtime("import/b.csv", 200);  // touched, same content: nothing changed
  idle = c->fetch(idle.cursor);
  EXPECT_TRUE(idle.reviews.empty());
  EXPECT_FALSE(idle.complete);

  // x2's row is deleted from a.csv just now: both files are read, but a file modified within
  // the last minute may still be being copied, so the listing is not complete yet...
  write("import/a.csv", "external_id,rating,text,created_at\nx1,5,Great,2026-01-02\n");
  auto settling = c->fetch(idle.cursor);
  EXPECT_EQ(settling.reviews.size(), 2u);
  EXPECT_FALSE(settling.complete);
  // ...a minute later it is: x2 is in neither file.
  set_mtime("import/a.csv", 90);
  auto second = c->fetch(idle.cursor);
  EXPECT_TRUE(second.problems.empty()) << problems_of(second);
  EXPECT_TRUE(second.complete);
  ASSERT_EQ(second.reviews.size(), 2u);
  EXPECT_NE(find(second, "x1"), nullptr);
  EXPECT_NE(find(second, "z1"), nullptr);
  EXPECT_EQ(find(second, "x2"), nullptr);

  // b.csv is deleted: its reviews are in no file any more.
  fs::remove(dir_ / "import/b.csv");
  auto third = c->fetch(second.cursor);
  EXPECT_TRUE(third.complete);
  ASSERT_EQ(third.reviews.size(), 1u);
  EXPECT_NE(find(third, "x1"), nullptr);

  // A new file with a bad row: read, but the listing is not complete.
  write("import/c.csv", "external_id,rating,text,created_at\nw1,5,Fine,2026-01-05\nw2,9,x,\n");
  set_mtime("import/c.csv", 90);
  auto fourth = c->fetch(third.cursor);
  EXPECT_EQ(fourth.problems.size(), 1u) << problems_of(fourth);
  EXPECT_FALSE(fourth.complete);
  EXPECT_NE(find(fourth, "x1"), nullptr);
  EXPECT_NE(find(fourth, "w1"), nullptr);

  // A file that cannot be used at all (a mapped column missing): not complete either.
  auto mapped = make("path = \"import\"\n[sources.fields]\ntext = \"Comment\"\n");
  auto r = mapped->fetch("");
  EXPECT_FALSE(r.complete);
}

TEST_F(FileSourceTest, BrokenRowsAreReportedAndTheRestImports) {
  write("import/hg.csv",
        "external_id,rating,text,created_at\n"
        "r1,5,fine,2026-02-01\n"
        "r2,abc,bad rating,2026-02-02\n"
        "r3,4,\"multi\nline\",2026-02-03\n"
        "r4,3,too,many,columns,2026-02-04\n"
        "r5,4,bad date,yesterday\n"
        "r6,7,off the scale,2026-02-06\n"
        "r7,2,,\n"
        "r8,1,\"last, good\",2026-02-08\n");
  write(
      "import/g.jsonl",
      "{\"external_id\":\"j1\",\"rating\":5,\"created_at\":\"2026-02-01\"}\n"
      "{\"external_id\":\"j2\",\"rating\":5,\"created_at\":\"2026-02-01\"\n"
      "[1,2,3]\n"
      "{\"external_id\":\"j4\",\"rating\":\"4\",\"text\":{\"x\":1},\"created_at\":\"2026-02-04\"}\n"
      "{\"external_id\":\"j5\",\"rating\":\"4\",\"created_at\":\"2026-02-05T10:00:00Z\"}\n");
  auto c = make("path = \"import\"\n");
  auto r = c->fetch("");
  std::vector<std::string> got;
  for (const auto& p : r.problems) got.push_back(p.to_string());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "g.jsonl:2: not JSON: Missing a comma or '}' after an object member. at "
                     "column 57",
                     "g.jsonl:3: expected a JSON object, got another JSON value",
                     "g.jsonl:4: text: expected a string or a number, got an object",
                     "hg.csv:3: rating: not a number \"abc\"",
                     "hg.csv:6: expected 4 columns, got 6",
                     "hg.csv:7: created_at: not a date \"yesterday\"",
                     "hg.csv:8: rating: 7 is outside the scale 1-5",
                     "hg.csv:9: created_at: missing (every review needs its date)",
                 }));
  std::vector<std::string> ids;
  for (const auto& rev : r.reviews) ids.push_back(rev.external_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"j1", "j5", "r1", "r3", "r8"}));
  EXPECT_EQ(find(r, "r3")->text, "multi\nline");

  // The file counts as imported: the bad rows are not reported again until it changes.
  auto again = c->fetch(r.cursor);
  EXPECT_TRUE(again.problems.empty()) << problems_of(again);
  EXPECT_TRUE(again.reviews.empty());
}

TEST_F(FileSourceTest, ScalesAreKeptForNormalization) {
  write("survey/responses.csv",
        "Response ID,Clinic,Likelihood to Recommend,What could we do better?,Completed At\n"
        "s1,downtown,10,Nothing!,2026-06-01 09:30\n"
        "s2,northside,0,Call back when you say you will.,2026-06-02 10:00\n"
        "s3,northside,5,,2026-06-03 11:00\n"
        "s4,downtown,11,Typo,2026-06-04 11:00\n");
  auto c = make(
      "path = \"survey/responses.csv\"\nscale = \"nps\"\n[sources.fields]\n"
      "external_id = \"Response ID\"\nlocation = \"Clinic\"\n"
      "rating = \"Likelihood to Recommend\"\ntext = \"What could we do better?\"\n"
      "created_at = \"Completed At\"\n");
  auto r = c->fetch("");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].to_string(),
            "responses.csv:5: rating (\"Likelihood to Recommend\"): 11 is outside the scale 0-10");
  ASSERT_EQ(r.reviews.size(), 3u);
  for (auto& rev : r.reviews) {
    EXPECT_EQ(rev.scale, RatingScale::linear(0, 10));
    normalize(rev);
  }
  EXPECT_EQ(find(r, "s1")->rating, 5.0);
  EXPECT_EQ(find(r, "s2")->rating, 1.0);
  EXPECT_EQ(find(r, "s3")->rating, 3.0);
  EXPECT_EQ(find(r, "s2")->location_id, "northside");

  write("fb.csv",
        "external_id,rating,created_at\nf1,yes,2026-01-01\nf2,Not recommended,"
        "2026-01-02\nf3,maybe,2026-01-03\n");
  auto fb = make("path = \"fb.csv\"\nscale = \"binary\"\n");
  auto rb = fb->fetch("");
  ASSERT_EQ(rb.reviews.size(), 2u);
  EXPECT_EQ(find(rb, "f1")->raw_rating, 1.0);
  EXPECT_EQ(find(rb, "f2")->raw_rating, 0.0);
  ASSERT_EQ(rb.problems.size(), 1u);
  EXPECT_EQ(rb.problems[0].to_string(),
            "fb.csv:4: rating: expected recommend / not recommend (1/0, yes/no), got \"maybe\"");
}

TEST_F(FileSourceTest, DerivedIdsAreStable) {
  write("import/a.csv", "author,text,created_at\nAnn,Nice,2026-01-01\nBob,Meh,2026-01-02\n");
  auto c = make("path = \"import\"\n");
  auto r1 = c->fetch("");
  ASSERT_EQ(r1.reviews.size(), 2u);
  EXPECT_EQ(r1.reviews[0].external_id.rfind("derived-", 0), 0u);
  EXPECT_NE(r1.reviews[0].external_id, r1.reviews[1].external_id);
  auto r2 = c->fetch("");
  EXPECT_EQ(r2.reviews[0].external_id, r1.reviews[0].external_id);
  EXPECT_EQ(r2.reviews[1].external_id, r1.reviews[1].external_id);
}

TEST_F(FileSourceTest, MissingMappedColumnSkipsTheFileUntilFixed) {
  write("import/a.csv", "id,stars,created_at\n1,5,2026-01-01\n");
  auto c = make("path = \"import\"\n[sources.fields]\nexternal_id = \"id\"\nrating = \"Stars\"\n");
  // "Stars" matches "stars" case-insensitively, so this one works.
  auto ok = c->fetch("");
  EXPECT_TRUE(ok.problems.empty()) << problems_of(ok);
  ASSERT_EQ(ok.reviews.size(), 1u);

  auto bad = make("path = \"import\"\n[sources.fields]\nrating = \"Overall\"\n");
  auto r = bad->fetch("");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].to_string(),
            "a.csv:1: no column for rating (\"Overall\") (the header has \"id\", \"stars\", "
            "\"created_at\"); file not imported");
  EXPECT_TRUE(r.reviews.empty());
  // Not recorded as imported: tried again (and reported again) next poll.
  EXPECT_EQ(bad->fetch(r.cursor).problems.size(), 1u);
}

TEST_F(FileSourceTest, ChangedMappingReadsFilesAgain) {
  write("import/a.csv", "external_id,rating,created_at\n1,5,2026-01-01\n");
  auto c = make("path = \"import\"\n");
  auto r = c->fetch("");
  ASSERT_EQ(r.reviews.size(), 1u);
  EXPECT_TRUE(c->fetch(r.cursor).reviews.empty());
  auto rescaled = make("path = \"import\"\nscale = \"1-10\"\n");
  EXPECT_EQ(rescaled->fetch(r.cursor).reviews.size(), 1u);
  // A cursor from somewhere else is not trusted: read everything, say so.
  auto junk = c->fetch("{not a cursor");
  EXPECT_EQ(junk.reviews.size(), 1u);
  ASSERT_EQ(junk.problems.size(), 1u);
}

TEST_F(FileSourceTest, MissingPathIsAConfigSourceError) {
  auto c = make("path = \"nowhere\"\n");
  try {
    c->fetch("");
    FAIL() << "expected SourceError";
  } catch (const SourceError& e) {
    EXPECT_EQ(e.kind(), SourceError::Kind::kConfig);
    EXPECT_NE(std::string(e.what()).find("nowhere\" does not exist"), std::string::npos)
        << e.what();
  }
}

TEST_F(FileSourceTest, SettingsAreValidated) {
  auto error_of = [&](const std::string& keys) -> std::string {
    try {
      make(keys);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  std::string base = (dir_ / "repwatch.toml").string();
  EXPECT_EQ(error_of(""), base +
                              ":8: sources[0].path: is required (a directory of export "
                              "files, or one file)");
  EXPECT_EQ(error_of("path = \"x\"\npatern = \"*.csv\"\n"),
            base + ":13: sources[0].patern: unknown key; did you mean \"pattern\"?");
  EXPECT_EQ(error_of("path = \"x\"\nscale = \"stars10\"\n"),
            base +
                ":13: sources[0].scale: unknown rating scale \"stars10\" (expected 1-5, 1-10, "
                "0-10, 0-100, LO-HI, binary or none)");
  EXPECT_EQ(error_of("path = \"x\"\n[sources.fields]\nrate = \"Stars\"\n"),
            base + ":14: sources[0].fields.rate: unknown key; did you mean \"rating\"?");
  EXPECT_EQ(error_of("path = \"x\"\nutc_offset = \"EST\"\n"),
            base +
                ":13: sources[0].utc_offset: expected an offset like \"-05:00\" or \"UTC\", "
                "got \"EST\"");
  EXPECT_EQ(error_of("path = \"x\"\ndelimiter = \";;\"\n"),
            base + ":13: sources[0].delimiter: expected one character or \"tab\", got \";;\"");
}

TEST_F(FileSourceTest, UtcOffsetAppliesOnlyToTimestampsWithoutOne) {
  write("import/a.csv",
        "external_id,created_at\n1,2026-07-01 12:00\n2,2026-07-01T12:00:00Z\n"
        "3,2026-07-01T12:00:00+02:00\n4,2026-07-01\n");
  auto c = make("path = \"import\"\nutc_offset = \"-04:00\"\nscale = \"none\"\n");
  auto r = c->fetch("");
  EXPECT_TRUE(r.problems.empty()) << problems_of(r);
  EXPECT_EQ(format_timestamp(find(r, "1")->created_at), "2026-07-01T16:00:00Z");
  EXPECT_EQ(format_timestamp(find(r, "2")->created_at), "2026-07-01T12:00:00Z");
  EXPECT_EQ(format_timestamp(find(r, "3")->created_at), "2026-07-01T10:00:00Z");
  EXPECT_EQ(format_timestamp(find(r, "4")->created_at), "2026-07-01T04:00:00Z");
  EXPECT_EQ(find(r, "1")->scale, RatingScale::none());
}

// ---- character sets ----------------------------------------------------------------------

namespace {

// `text` as UTF-16 code units, little- or big-endian, with or without a byte-order mark.
std::string utf16(const std::u16string& text, bool little, bool bom) {
  std::string out;
  auto put = [&](char16_t u) {
    char lo = static_cast<char>(u & 0xFF), hi = static_cast<char>(u >> 8);
    out += little ? lo : hi;
    out += little ? hi : lo;
  };
  if (bom) put(0xFEFF);
  for (char16_t u : text) put(u);
  return out;
}

// What spdlog writes while `f` runs.
template <typename F>
std::string logged(F&& f) {
  std::ostringstream text;
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(text));
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  f();
  spdlog::set_default_logger(previous);
  return text.str();
}

// A CP1252 export as Excel on Windows writes it: é ñ, curly quotes (0x93 0x94), € (0x80).
const char* kCp1252 =
    "external_id,author,rating,text,created_at\r\n"
    "1,Jos\xE9 Mu\xF1oz,5,Caf\xE9 after the visit: \x93great\x94 - \x80"
    "20 copay,2026-01-01\r\n"
    "2,Ann,4,plain ASCII,2026-01-02\r\n";

}  // namespace

TEST_F(FileSourceTest, Cp1252ExportIsDecodedNotStoredWithReplacementCharacters) {
  // A file mixing a UTF-8 line into a CP1252 one (two exports pasted together) keeps both.
  write("import/a.csv", std::string(kCp1252) + "3,Zo\xC3\xAB,5,UTF-8 line,2026-01-03\r\n");
  connectors::FetchResult r;
  std::string log = logged([&] { r = make("path = \"import\"\n")->fetch(""); });
  EXPECT_TRUE(r.problems.empty()) << problems_of(r);
  ASSERT_EQ(r.reviews.size(), 3u);
  EXPECT_EQ(find(r, "1")->author, "José Muñoz");
  EXPECT_EQ(find(r, "1")->text, "Café after the visit: “great” - €20 copay");
  EXPECT_EQ(find(r, "3")->author, "Zoë");
  EXPECT_EQ(find(r, "1")->text.find("\xEF\xBF\xBD"), std::string::npos);
  // Said once, in the log, with the file and its first line that is not UTF-8.
  EXPECT_NE(log.find("a.csv is not UTF-8 (1 line(s), the first line 2): read as Windows-1252"),
            std::string::npos)
      << log;

  // Declared, it is the whole file's character set (and nothing is logged).
  write("import/a.csv", kCp1252);
  set_mtime("import/a.csv", 30);
  log = logged([&] { r = make("path = \"import\"\nencoding = \"windows-1252\"\n")->fetch(""); });
  EXPECT_TRUE(r.problems.empty()) << problems_of(r);
  EXPECT_EQ(find(r, "1")->text, "Café after the visit: “great” - €20 copay");
  EXPECT_EQ(log, "");
  // ISO-8859-1 (Latin-1) has no curly quotes at 0x93: its letters are the same.
  r = make("path = \"import\"\nencoding = \"ISO-8859-1\"\n")->fetch("");
  EXPECT_EQ(find(r, "1")->author, "José Muñoz");
}

TEST_F(FileSourceTest, TextThatIsNotInItsEncodingIsRefusedNamingFileAndLine) {
  write("import/a.csv", kCp1252);
  auto c = make("path = \"import\"\nencoding = \"utf-8\"\n");
  auto r = c->fetch("");
  EXPECT_TRUE(r.reviews.empty());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].to_string(),
            "a.csv:2: not UTF-8 (byte 0xE9 after \"1,Jos\"): set encoding in the source to the "
            "export's character set (\"windows-1252\" for Excel on Windows, \"iso-8859-1\", "
            "\"utf-16\"...); file not imported");
  EXPECT_EQ(c->fetch(r.cursor).problems.size(), 1u);  // not imported: reported until fixed

  // 0x81 is no character of Windows-1252 either.
  write("import/a.csv", "external_id,text,created_at\n1,ok,2026-01-01\n2,x\x81y,2026-01-02\n");
  set_mtime("import/a.csv", 30);
  r = make("path = \"import\"\n")->fetch("");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].to_string(),
            "a.csv:3: neither UTF-8 nor Windows-1252 (byte 0x81 after \"2,x\"): set encoding in "
            "the source to the export's character set (\"windows-1252\" for Excel on Windows, "
            "\"iso-8859-1\", \"utf-16\"...); file not imported");
  EXPECT_TRUE(r.reviews.empty());
}

TEST_F(FileSourceTest, Utf16ExportsAreDecodedWithOrWithoutAByteOrderMark) {
  const std::u16string csv =
      u"external_id,author,rating,text,created_at\r\n"
      u"1,Zoë Ng,5,\"Friendly nurses 😀, no wait\",2026-01-01\r\n"
      u"2,Олег,1,Billing was a nightmare.,2026-01-02\r\n";
  for (auto [little, bom] : {std::pair{true, true}, std::pair{false, true}, std::pair{true, false},
                             std::pair{false, false}}) {
    SCOPED_TRACE(std::string(little ? "LE" : "BE") + (bom ? " with BOM" : " without BOM"));
    fs::remove_all(dir_ / "import");
    write("import/a.csv", utf16(csv, little, bom));
    connectors::FetchResult r;
    std::string log = logged([&] { r = make("path = \"import\"\n")->fetch(""); });
    EXPECT_TRUE(r.problems.empty()) << problems_of(r);
    ASSERT_EQ(r.reviews.size(), 2u);
    EXPECT_EQ(find(r, "1")->author, "Zoë Ng");
    EXPECT_EQ(find(r, "1")->text, "Friendly nurses 😀, no wait");
    EXPECT_EQ(find(r, "2")->author, "Олег");
    EXPECT_EQ(log.find('\0'), std::string::npos);
  }
  // PowerShell's Out-File: UTF-16LE JSONL with a byte-order mark, declared or not.
  fs::remove_all(dir_ / "import");
  write("import/b.jsonl",
        utf16(u"{\"external_id\": \"j1\", \"text\": \"¡Excelente atención!\", \"created_at\": "
              u"\"2026-01-01\"}\r\n",
              true, true));
  for (const char* keys : {"path = \"import\"\n", "path = \"import\"\nencoding = \"utf-16\"\n"}) {
    auto r = make(keys)->fetch("");
    EXPECT_TRUE(r.problems.empty()) << problems_of(r);
    ASSERT_EQ(r.reviews.size(), 1u);
    EXPECT_EQ(r.reviews[0].text, "¡Excelente atención!");
  }
}

TEST_F(FileSourceTest, ABinaryFileIsRefusedWithoutNulBytesInAnyMessage) {
  std::string junk = "external_id,text,created_at\n1,";
  for (int i = 0; i < 300; ++i) junk += static_cast<char>(i % 7 == 0 ? 0 : 'a' + i % 26);
  junk += ",2026-01-01\n";
  write("import/a.csv", junk);
  connectors::FetchResult r;
  std::string log = logged([&] { r = make("path = \"import\"\n")->fetch(""); });
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].to_string(),
            "a.csv:2: NUL bytes: not a text file, or text in an encoding repwatch cannot "
            "recognise: set encoding in the source to the export's character set "
            "(\"windows-1252\" for Excel on Windows, \"iso-8859-1\", \"utf-16\"...); file not "
            "imported");
  EXPECT_TRUE(r.reviews.empty());
  EXPECT_EQ(log.find('\0'), std::string::npos);
  // A mapped column missing from a header: the header is quoted without control bytes.
  write("import/a.csv", std::string("id\x01x,created_at\n1,2026-01-01\n"));
  set_mtime("import/a.csv", 30);
  r = make("path = \"import\"\n[sources.fields]\nexternal_id = \"id\"\n")->fetch("");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].message.find("\"id\\x01x\""), std::string::npos) << r.problems[0].message;
}

TEST_F(FileSourceTest, UnknownEncodingIsAConfigError) {
  try {
    make("path = \"import\"\nencoding = \"klingon\"\n");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("sources[0].encoding: unknown character set \"klingon\""),
              std::string::npos)
        << e.what();
  }
}

// The bundled samples (samples/demo.toml + samples/data) import without a single problem.
TEST(Samples, DemoConfigImportsEveryReview) {
  fs::path samples = fs::path(REPWATCH_SOURCE_DIR) / "samples";
  std::ifstream in(samples / "demo.toml");
  std::string text(std::istreambuf_iterator<char>(in), {});
  for (auto [from, to] : {std::pair<std::string, std::string>{"@SAMPLES@", samples.string()},
                          {"@STATE@", "/tmp/rw-demo-state"}}) {
    for (size_t p; (p = text.find(from)) != std::string::npos;) text.replace(p, from.size(), to);
  }
  Config config = parse_config(text, samples / "demo.toml");
  ASSERT_EQ(config.sources.size(), 3u);
  std::map<std::string, int> per_source, per_location, per_language;
  int64_t latest = 0, earliest = INT64_MAX;
  int rating_only = 0, no_rating = 0, replies = 0, edited = 0;
  for (const auto& source : config.sources) {
    auto c = connectors::make_connector(source, config);
    auto r = c->fetch("");
    EXPECT_TRUE(r.problems.empty()) << source.id << ":\n" << problems_of(r);
    for (auto& rev : r.reviews) {
      ++per_source[rev.source_id];
      ++per_location[rev.location_id];
      ++per_language[rev.language];
      latest = std::max(latest, rev.created_at);
      earliest = std::min(earliest, rev.created_at);
      if (rev.text.empty()) ++rating_only;
      if (!rev.raw_rating) ++no_rating;
      if (!rev.reply_text.empty()) ++replies;
      if (rev.updated_at != rev.created_at) ++edited;
      normalize(rev);
      if (rev.raw_rating) {
        EXPECT_GE(*rev.rating, 1.0);
        EXPECT_LE(*rev.rating, 5.0);
      }
    }
    EXPECT_TRUE(c->fetch(r.cursor).reviews.empty()) << source.id;
  }
  int total = per_source["google"] + per_source["healthgrades"] + per_source["survey"];
  EXPECT_GE(total, 350);
  EXPECT_LE(total, 450);
  EXPECT_GT(per_source["google"], 100);
  EXPECT_GT(per_source["healthgrades"], 50);
  EXPECT_GT(per_source["survey"], 100);
  EXPECT_GT(per_location["downtown"], 150);
  EXPECT_GT(per_location["northside"], 150);
  EXPECT_GE(per_language["es"], 5);
  EXPECT_GT(rating_only, 20);
  EXPECT_EQ(no_rating, 0);
  EXPECT_GT(replies, 20);
  EXPECT_GT(edited, 3);
  EXPECT_EQ(format_date(latest), "2026-11-20");
  EXPECT_LE(format_date(earliest), "2025-06-01");
}

// ---- a poll in parts (Connector::fetch_parts) ---------------------------------------------

namespace {

// Every part of a poll, in order.
std::vector<connectors::FetchResult> parts_of(connectors::Connector& c, const std::string& cursor,
                                              size_t part_size) {
  std::vector<connectors::FetchResult> parts;
  c.fetch_parts(cursor, part_size,
                [&](connectors::FetchResult&& part) { parts.push_back(std::move(part)); });
  return parts;
}

std::string csv_rows(const std::string& prefix, int from, int to) {
  std::string out = "external_id,rating,text,created_at\n";
  for (int i = from; i <= to; ++i)
    out += prefix + std::to_string(i) + ",4,Fine visit number " + std::to_string(i) + ",2026-02-" +
           (i % 28 < 9 ? "0" : "") + std::to_string(i % 28 + 1) + "\n";
  return out;
}

}  // namespace

TEST_F(FileSourceTest, PartsHoldAtMostPartSizeReviewsAndTogetherTheWholePoll) {
  write("import/a.csv", csv_rows("a", 1, 7));
  write("import/b.jsonl",
        "{\"external_id\":\"b1\",\"rating\":2,\"created_at\":\"2026-01-03\"}\n"
        "{\"external_id\":\"b2\",\"rating\":5,\"created_at\":\"2026-01-04\"}");  // no final \n
  write("import/c.csv", csv_rows("c", 1, 2));
  auto c = make("path = \"import\"\n");
  auto whole = c->fetch("");
  ASSERT_EQ(whole.reviews.size(), 11u);
  EXPECT_TRUE(whole.last);

  auto parts = parts_of(*make("path = \"import\"\n"), "", 3);
  ASSERT_EQ(parts.size(), 4u);  // 3 + 3 + 3 + 2
  std::vector<std::string> ids, whole_ids;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_LE(parts[i].reviews.size(), 3u);
    EXPECT_EQ(parts[i].last, i + 1 == parts.size());
    for (const auto& r : parts[i].reviews) ids.push_back(r.external_id);
  }
  for (const auto& r : whole.reviews) whole_ids.push_back(r.external_id);
  EXPECT_EQ(ids, whole_ids);
  EXPECT_EQ(parts.back().cursor, whole.cursor);
  // After the last part, nothing is new.
  EXPECT_TRUE(c->fetch(parts.back().cursor).reviews.empty());
}

TEST_F(FileSourceTest, APartsCursorNeverCoversAFileNotYetDeliveredWhole) {
  write("import/a.csv", csv_rows("a", 1, 4));
  write("import/b.csv", csv_rows("b", 1, 4));
  // Without removals, so that a poll reads only the files that changed (with them, every file
  // is read again when one changed: the test below).
  auto c = make("path = \"import\"\ndetect_removals = false\n");
  auto parts = parts_of(*c, "", 3);
  ASSERT_EQ(parts.size(), 3u);  // a1-a3 | a4 b1 b2 | b3 b4
  // The poll stops after the first part: a.csv is read again whole (the store finds a1-a3
  // unchanged), and b.csv too. Stopped after the second part: a.csv is done, b.csv is not.
  std::vector<std::string> ids;
  for (const auto& r : c->fetch(parts[0].cursor).reviews) ids.push_back(r.external_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"}));
  ids.clear();
  for (const auto& r : c->fetch(parts[1].cursor).reviews) ids.push_back(r.external_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"b1", "b2", "b3", "b4"}));

  // A later poll in parts keeps what earlier polls stored of the files it has not reached.
  write("import/a.csv", csv_rows("a", 1, 5));  // a5 added
  set_mtime("import/a.csv", 50);
  auto again = parts_of(*c, parts.back().cursor, 1);
  ASSERT_EQ(again.size(), 6u);  // a1..a5 one a part, then the (empty) last part
  EXPECT_TRUE(again.back().reviews.empty());
  // a.csv is not done after its first part, b.csv (unchanged, not read) is still covered.
  EXPECT_EQ(c->fetch(again[0].cursor).reviews.size(), 5u);
  EXPECT_TRUE(c->fetch(again.back().cursor).reviews.empty());
}

// A poll in parts is a complete listing when all its parts together are: the last part says so,
// and a problem in any part (not only in the last) keeps it from saying so.
TEST_F(FileSourceTest, ThePollsLastPartSaysWhetherAllItsPartsListEverything) {
  write("import/a.csv", csv_rows("a", 1, 4));
  write("import/b.csv", csv_rows("b", 1, 4));
  set_mtime("import/a.csv", 300);
  set_mtime("import/b.csv", 300);
  auto c = make("path = \"import\"\n");
  auto parts = parts_of(*c, "", 3);
  ASSERT_EQ(parts.size(), 3u);  // a1-a3 | a4 b1 b2 | b3 b4
  EXPECT_FALSE(parts[0].complete);
  EXPECT_FALSE(parts[1].complete);
  EXPECT_TRUE(parts[2].complete);

  // a.csv changes: b.csv is read again too, in the parts after a.csv's.
  write("import/a.csv", csv_rows("a", 1, 5));
  set_mtime("import/a.csv", 90);
  auto again = parts_of(*c, parts.back().cursor, 3);
  std::vector<std::string> ids;
  for (const auto& p : again)
    for (const auto& r : p.reviews) ids.push_back(r.external_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "b4"}));
  EXPECT_TRUE(again.back().complete);

  // A bad row in a.csv's first part: the listing is not complete, though the last part is
  // without a problem of its own.
  std::string bad = csv_rows("a", 1, 5);
  bad.insert(bad.find('\n') + 1, "a0,9,x,\n");  // no date, rating off the scale
  write("import/a.csv", bad);
  set_mtime("import/a.csv", 90);
  auto broken = parts_of(*c, again.back().cursor, 3);
  ASSERT_GE(broken.size(), 3u);
  EXPECT_FALSE(broken.front().problems.empty()) << problems_of(broken.front());
  EXPECT_TRUE(broken.back().problems.empty()) << problems_of(broken.back());
  EXPECT_FALSE(broken.back().complete);
}

TEST_F(FileSourceTest, AnIdRepeatedInAFileKeepsTheLaterRowWhateverPartsItFallsIn) {
  std::string text = csv_rows("r", 1, 9);
  text += "r2,1,Changed my mind,2026-03-01\n";  // line 11: r2 again, far from line 3
  write("import/a.csv", text);
  auto parts = parts_of(*make("path = \"import\"\n"), "", 2);
  std::vector<const Review*> r2;
  std::string problems;
  size_t n = 0;
  for (const auto& p : parts) {
    EXPECT_LE(p.reviews.size(), 2u);
    for (const auto& r : p.reviews) {
      ++n;
      if (r.external_id == "r2") r2.push_back(&r);
    }
    problems += problems_of(p);
  }
  EXPECT_EQ(n, 9u);
  ASSERT_EQ(r2.size(), 1u);  // never two versions of one id in one poll
  EXPECT_EQ(r2[0]->text, "Changed my mind");
  EXPECT_NE(problems.find("a.csv:11: external_id: \"r2\" is also on line 3; this later row is "
                          "kept"),
            std::string::npos)
      << problems;
}

TEST_F(FileSourceTest, AStopAskedByTheConsumerLeavesFetchParts) {
  write("import/a.csv", csv_rows("a", 1, 9));
  auto c = make("path = \"import\"\n");
  int delivered = 0;
  struct Stop {};
  EXPECT_THROW(c->fetch_parts("", 2,
                              [&](connectors::FetchResult&&) {
                                if (++delivered == 2) throw Stop{};
                              }),
               Stop);
  EXPECT_EQ(delivered, 2);
}
