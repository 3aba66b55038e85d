#include "db/alert_queries.h"

namespace repwatch::db {

std::vector<TouchpointAverage> touchpoint_averages(const Database& db,
                                                   const TouchpointAverageQuery& q) {
  std::string sql;
  if (q.measure == AverageMeasure::kRating) {
    sql =
        "SELECT r.location_id, h.touchpoint, AVG(r.rating), COUNT(DISTINCT r.id) "
        "FROM touchpoint_hits h JOIN reviews r ON r.id = h.review_id "
        "WHERE r.created_at >= ?1 AND r.rating IS NOT NULL AND r.removed_at IS NULL";
  } else {
    sql =
        "SELECT r.location_id, h.touchpoint, AVG(3 + 2 * h.score), COUNT(DISTINCT r.id) "
        "FROM touchpoint_hits h JOIN reviews r ON r.id = h.review_id "
        "WHERE r.created_at >= ?1 AND r.removed_at IS NULL";
  }
  for (size_t i = 0; i < q.sources.size(); ++i)
    sql += (i == 0 ? " AND r.source_id IN (?" : ", ?") + std::to_string(i + 2) +
           (i + 1 == q.sources.size() ? ")" : "");
  sql += " GROUP BY r.location_id, h.touchpoint ORDER BY r.location_id, h.touchpoint";
  Statement st = db.prepare(sql);
  st.bind(1, q.since);
  for (size_t i = 0; i < q.sources.size(); ++i) st.bind(static_cast<int>(i + 2), q.sources[i]);
  std::vector<TouchpointAverage> out;
  while (st.step()) {
    TouchpointAverage a;
    a.location_id = st.column_text(0);
    a.touchpoint = st.column_text(1);
    a.average = st.column_double(2);
    a.reviews = static_cast<int>(st.column_int(3));
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<int64_t> newest_review_dates(const Database& db, const std::string& source_id,
                                         int limit) {
  Statement st = db.prepare(
      "SELECT created_at FROM reviews WHERE source_id = ?1 ORDER BY created_at DESC LIMIT ?2");
  st.bind(1, source_id).bind(2, static_cast<int64_t>(limit));
  std::vector<int64_t> out;
  while (st.step()) out.push_back(st.column_int(0));
  return out;
}

}  // namespace repwatch::db
