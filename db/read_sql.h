// repwatch/db/read_sql.h - (internal to the read models' .cpp files) WHERE clauses built from
// a ReviewFilter, with positional parameters: the filter's values are always bound, never
// spliced into the SQL text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "db/read_model.h"
#include "db/sqlite.h"

namespace repwatch::db::read_sql {

inline constexpr int64_t kDaySeconds = 86400;

// The query index's watermark (db/query_index.h), as a scalar subquery.
inline constexpr const char* kWatermark = "(SELECT indexed_upto FROM query_index)";

// SQL text with its parameters, built piece by piece.
class Sql {
 public:
  using Param = std::variant<int64_t, double, std::string>;

  Sql& operator<<(std::string_view text) {
    text_ += text;
    return *this;
  }
  Sql& param(Param p) {
    text_ += "?";
    params_.push_back(std::move(p));
    return *this;
  }
  // "(?, ?, ...)" with one parameter per value.
  Sql& in_list(const std::vector<std::string>& values);
  const std::string& text() const { return text_; }

  // The statement with every parameter bound.
  Statement prepare(const Database& db) const;

 private:
  std::string text_;
  std::vector<Param> params_;
};

// " AND ..." for the review-level conditions of `f` on reviews aliased `r`.
void review_conditions(Sql& sql, const ReviewFilter& f, bool with_time = true);
// " AND <alias>.source_id IN ... AND <alias>.location_id IN ...".
void place_conditions(Sql& sql, const ReviewFilter& f, const char* alias);
// " AND <alias>.day >= ... AND <alias>.day < ...": the UTC days the filter's times touch.
void day_conditions(Sql& sql, const ReviewFilter& f, const char* alias);

}  // namespace repwatch::db::read_sql
