// fuzz_file_import: the file connector's CSV and JSONL importer (connectors/file_connector.h)
// on arbitrary file contents - what a clinic's export directory may hold (a half-copied file,
// a binary dropped by mistake, an export from a hostile or broken vendor).
//
// Input: a mode byte (format and settings), then the file's bytes. Checks: bad rows become
// Problems naming the file, never an exception or a crash; every imported rating lies on the
// source's scale; a second poll with the returned cursor imports nothing (the file did not
// change); a garbage cursor is survived.
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "connectors/connector.h"
#include "core/error.h"
#include "fuzz/fuzz.h"

namespace repwatch::fuzz::file_import_target {
namespace {

namespace fs = std::filesystem;

const fs::path& work_dir() {
  static const fs::path dir = [] {
    std::string tmpl =
        (fs::exists("/dev/shm") ? std::string("/dev/shm") : fs::temp_directory_path().string()) +
        "/repwatch-fuzz-file.XXXXXX";
    if (!mkdtemp(tmpl.data())) std::abort();
    return fs::path(tmpl);
  }();
  return dir;
}

struct Variant {
  const char* file;
  const char* settings;
  double lo, hi;
};

// Sources as clinics configure them (defaults, a vendor mapping, 0-10 survey, binary, JSONL
// with nested keys, a long-format survey, a Windows-1252 export). The encoding is "auto" but
// for the last: UTF-16, Windows-1252 lines and NUL bytes are all reached through it.
const Variant kVariants[] = {
    {"reviews.csv", "scale = \"1-5\"\n", 1, 5},
    {"export.csv",
     "scale = \"1-5\"\nutc_offset = \"-05:00\"\ndate_format = \"%m/%d/%Y\"\n"
     "[sources.fields]\nexternal_id = \"Review ID\"\nauthor = \"Reviewer\"\n"
     "rating = \"Overall Rating\"\ntext = \"Comments\"\ncreated_at = \"Submitted\"\n"
     "reply_text = \"Practice Response\"\n",
     1, 5},
    {"responses.tsv", "scale = \"0-10\"\n", 0, 10},
    {"survey.csv", "scale = \"binary\"\ndelimiter = \";\"\n", 0, 1},
    {"google.jsonl",
     "scale = \"1-5\"\n[sources.fields]\nexternal_id = \"reviewId\"\nauthor = "
     "\"reviewer.displayName\"\nrating = \"starRating\"\ntext = \"comment\"\n"
     "created_at = \"createTime\"\nupdated_at = \"updateTime\"\nreply_text = "
     "\"reviewReply.comment\"\nreply_at = \"reviewReply.updateTime\"\n",
     1, 5},
    {"reviews.ndjson", "scale = \"0-100\"\n", 0, 100},
    // A patient survey in long format: rows per answer, a labelled rating, two comments.
    {"survey-long.csv",
     "layout = \"long\"\n[sources.fields]\nexternal_id = \"Respondent ID\"\n"
     "question = \"Question ID\"\nquestion_text = \"Question\"\nanswer = \"Answer\"\n"
     "created_at = \"Date\"\nlocation = \"Location\"\n[sources.rating]\nquestion = \"OVERALL\"\n"
     "labels = [\"Very poor\", \"Poor\", \"Fair\", \"Good\", \"Very good\"]\n"
     "[sources.comment]\nquestion = [\"WELL\", \"BETTER\"]\n",
     1, 5},
    // An export in a declared single-byte character set.
    {"latin.csv", "encoding = \"windows-1252\"\nscale = \"1-10\"\n", 1, 10},
};

}  // namespace
}  // namespace repwatch::fuzz::file_import_target

REPWATCH_FUZZ_TARGET(file_import) {
  namespace t = repwatch::fuzz::file_import_target;
  if (size == 0) return 0;
  const auto& v = t::kVariants[data[0] % (sizeof t::kVariants / sizeof t::kVariants[0])];
  const auto dir = t::work_dir();
  const auto file = dir / v.file;
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  std::string toml = "state_dir = \"" + dir.string() +
                     "\"\n[[locations]]\nid = \"downtown\"\n[[locations]]\nid = \"northside\"\n"
                     "[[sources]]\nid = \"import\"\ntype = \"file\"\nlocation = \"downtown\"\n"
                     "path = \"" +
                     file.string() + "\"\n" + v.settings;
  repwatch::Config config = repwatch::parse_config(toml, dir / "repwatch.toml");
  auto connector = repwatch::connectors::make_connector(config.sources.at(0), config);

  repwatch::connectors::FetchResult first;
  try {
    first = connector->fetch("");
  } catch (const repwatch::SourceError& e) {
    FUZZ_CHECK(false,
               std::string("a file with bad content threw instead of reporting: ") + e.what());
  }
  for (const auto& r : first.reviews) {
    if (r.raw_rating) {
      FUZZ_CHECK(std::isfinite(*r.raw_rating) && *r.raw_rating >= v.lo - 1e-9 &&
                     *r.raw_rating <= v.hi + 1e-9,
                 "rating " + std::to_string(*r.raw_rating) + " off the scale");
    }
  }
  for (const auto& p : first.problems)
    FUZZ_CHECK(p.where.rfind(v.file, 0) == 0 || p.where.empty(),
               "problem does not name the file: " + p.to_string());

  // Unchanged file: nothing new.
  auto second = connector->fetch(first.cursor);
  FUZZ_CHECK(second.reviews.empty(), std::to_string(second.reviews.size()) +
                                         " reviews imported again from an unchanged file");
  // A cursor that is not ours (a corrupted database row) means reading everything again.
  (void)connector->fetch(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  return 0;
}
