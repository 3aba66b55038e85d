#include "db/read_model.h"

#include "db/read_sql.h"

namespace repwatch::db {

ReadSnapshot::ReadSnapshot(const Database& db) : db_(db) { db_.exec("BEGIN"); }
ReadSnapshot::~ReadSnapshot() {
  try {
    db_.exec("COMMIT");
  } catch (...) {
  }
}

namespace read_sql {

Sql& Sql::in_list(const std::vector<std::string>& values) {
  text_ += "(";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) text_ += ", ";
    param(values[i]);
  }
  text_ += ")";
  return *this;
}

Statement Sql::prepare(const Database& db) const {
  Statement st = db.prepare(text_);
  for (size_t i = 0; i < params_.size(); ++i) {
    int idx = static_cast<int>(i + 1);
    std::visit([&](const auto& v) { st.bind(idx, v); }, params_[i]);
  }
  return st;
}

void review_conditions(Sql& sql, const ReviewFilter& f, bool with_time) {
  if (with_time && f.since) sql << " AND r.created_at >= ", sql.param(*f.since);
  if (with_time && f.until) sql << " AND r.created_at < ", sql.param(*f.until);
  if (!f.sources.empty()) sql << " AND r.source_id IN ", sql.in_list(f.sources);
  if (!f.locations.empty()) sql << " AND r.location_id IN ", sql.in_list(f.locations);
  if (!f.touchpoints.empty()) {
    sql << " AND EXISTS (SELECT 1 FROM touchpoint_hits h WHERE h.review_id = r.id AND "
           "h.touchpoint IN ";
    sql.in_list(f.touchpoints);
    sql << ")";
  }
  if (f.negative) sql << " AND r.negative = 1";
  if (f.unanswered) sql << " AND r.reply_text = ''";
  if (f.min_rating) sql << " AND r.rating >= ", sql.param(*f.min_rating - 1e-9);
  if (f.max_rating) sql << " AND r.rating <= ", sql.param(*f.max_rating + 1e-9);
  if (!f.include_removed) sql << " AND r.removed_at IS NULL";
}

void place_conditions(Sql& sql, const ReviewFilter& f, const char* alias) {
  std::string a(alias);
  if (!f.sources.empty()) sql << " AND " << a << ".source_id IN ", sql.in_list(f.sources);
  if (!f.locations.empty()) sql << " AND " << a << ".location_id IN ", sql.in_list(f.locations);
}

void day_conditions(Sql& sql, const ReviewFilter& f, const char* alias) {
  std::string a(alias);
  if (f.since) sql << " AND " << a << ".day >= ", sql.param(*f.since / kDaySeconds);
  if (f.until)
    sql << " AND " << a << ".day < ", sql.param((*f.until + kDaySeconds - 1) / kDaySeconds);
}

}  // namespace read_sql
}  // namespace repwatch::db
