#include "db/source_reads.h"

#include <map>

namespace repwatch::db {

std::vector<SourceRow> read_sources(const Database& db) {
  std::vector<SourceRow> out;
  Statement st = db.prepare(
      "SELECT s.id, s.type, s.location_id, s.added_at, "
      "(SELECT max(created_at) FROM reviews r WHERE r.source_id = s.id) FROM sources s "
      "ORDER BY s.id");
  while (st.step()) {
    SourceRow s;
    s.id = st.column_text(0);
    s.type = st.column_text(1);
    s.location_id = st.column_text(2);
    s.added_at = st.column_opt_int(3);
    s.latest_review_at = st.column_opt_int(4);
    s.poll.source_id = s.id;
    out.push_back(std::move(s));
  }
  std::map<std::string, PollState> polls;
  for (PollState& p : read_poll_states(db)) polls[p.source_id] = std::move(p);
  for (SourceRow& s : out)
    if (auto it = polls.find(s.id); it != polls.end()) s.poll = std::move(it->second);
  return out;
}

std::vector<LocationRow> read_locations(const Database& db) {
  std::vector<LocationRow> out;
  Statement st = db.prepare("SELECT id, name FROM locations ORDER BY id");
  while (st.step()) out.push_back({st.column_text(0), st.column_text(1)});
  return out;
}

}  // namespace repwatch::db
