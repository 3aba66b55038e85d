// repwatch/db/read_model.h - what the managers' read models share: which reviews a question is
// about, and one snapshot for a command's several questions.
//
// The read models answer the CLI's questions (and the report's) with typed rows; they own all
// the SQL that reads reviews for people, and work on a connection opened with
// Database::Mode::kReadOnly while repwatchd writes (WAL):
//
//   db/review_reads.h     reviews: listings, export, search, phrases (ReviewRow)
//   db/aggregate_reads.h  figures per day, source, location and touchpoint (Totals)
//   db/source_reads.h     sources with their poll state, locations
//
//   ReadSnapshot snapshot(db);               // every question below sees the same data
//   ReviewFilter f;  f.since = t;  f.negative = true;
//   for (const ReviewRow& r : ReviewReads(db).list(f, 20)) ...
//   Totals all = AggregateReads(db).totals(f, GroupBy::kAll)[""];
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/sqlite.h"

namespace repwatch::db {

// Which reviews a question is about; every field narrows it (AND), a list matches any of its
// values. Times are UTC epoch seconds, [since, until); the aggregate questions
// (db/aggregate_reads.h) count whole UTC days. Reviews marked removed at their source (a
// complete listing lacked them, db/store.h) are left out of every question unless
// include_removed.
struct ReviewFilter {
  std::optional<int64_t> since, until;
  std::vector<std::string> sources;              // source ids; empty: all
  std::vector<std::string> locations;            // location ids; empty: all
  std::vector<std::string> touchpoints;          // ids: reviews mentioning any of them; empty: all
  bool negative = false;                         // only reviews counted as negative
  bool unanswered = false;                       // only reviews without a reply from the practice
  std::optional<double> min_rating, max_rating;  // normalized rating bounds (1..5), inclusive
  bool include_removed = false;                  // also reviews removed at their source

  bool operator==(const ReviewFilter&) const = default;
};

// RAII read transaction (BEGIN ... COMMIT), so that a command's several questions see one
// snapshot of a database the daemon keeps writing.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(const Database& db);
  ~ReadSnapshot();
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  const Database& db_;
};

}  // namespace repwatch::db
