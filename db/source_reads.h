// repwatch/db/source_reads.h - the registered sources and locations, each source with its
// poll state, as `repwatch sources`, `summary` and the command-line filters read them.
//
// A source's poll state is the PollState of db/store.h, read by read_poll_states(): the same
// type and the same reader the daemon's ReviewStore uses.
//
//   for (const SourceRow& s : read_sources(db))
//     if (s.poll.consecutive_failures > 0) std::cout << s.id << ": " << s.poll.last_error;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/sqlite.h"
#include "db/store.h"

namespace repwatch::db {

struct SourceRow {
  std::string id, type, location_id;
  std::optional<int64_t> added_at;
  std::optional<int64_t> latest_review_at;  // created_at of its newest review, removed or not
  PollState poll;  // all defaults (never polled) when it has no poll_state row
};

// Every registered source, by id.
std::vector<SourceRow> read_sources(const Database& db);

struct LocationRow {
  std::string id, name;  // name may be "" or the id when the config never named it
};

// Every registered location, by id.
std::vector<LocationRow> read_locations(const Database& db);

}  // namespace repwatch::db
