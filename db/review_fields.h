// repwatch/db/review_fields.h - (internal to db/) the columns of `reviews` that a Review holds,
// selected and read in one place: the store (db/store.cpp, its upserts' lookups) and the read
// models (db/review_reads.cpp, listings and search) both select REPWATCH_REVIEW_FIELDS and read
// them with read_review_fields(), so a column added to Review is added once.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/review.h"
#include "db/sqlite.h"

// The columns, in read_review_fields()'s order, as one string literal; `p` is the table's
// prefix as a literal ("" or "r.").
#define REPWATCH_REVIEW_FIELDS(p)                                                                  \
  p "source_id, " p "external_id, " p "location_id, " p "author, " p "raw_rating, " p "scale, " p  \
    "rating, " p "text, " p "language, " p "translated_text, " p "created_at, " p "updated_at, " p \
    "reply_text, " p "reply_at, " p "url"

namespace repwatch::db::detail {

// How many columns REPWATCH_REVIEW_FIELDS names.
inline constexpr int kReviewFieldCount = 15;

// Reads the REPWATCH_REVIEW_FIELDS of the current row of `st`, from column `first`, into `r`.
// `id` names the review in the error for a stored scale this version cannot read (DbError).
inline void read_review_fields(const Statement& st, int first, int64_t id, Review& r) {
  int c = first;
  r.source_id = st.column_text(c++);
  r.external_id = st.column_text(c++);
  r.location_id = st.column_text(c++);
  r.author = st.column_text(c++);
  r.raw_rating = st.column_opt_double(c++);
  try {
    r.scale = RatingScale::parse(st.column_text(c++));
  } catch (const ConfigError& e) {
    throw DbError("review " + std::to_string(id) + ": stored scale: " + e.what());
  }
  r.rating = st.column_opt_double(c++);
  r.text = st.column_text(c++);
  r.language = st.column_text(c++);
  r.translated_text = st.column_text(c++);
  r.created_at = st.column_int(c++);
  r.updated_at = st.column_int(c++);
  r.reply_text = st.column_text(c++);
  r.reply_at = st.column_opt_int(c++);
  r.url = st.column_text(c++);
}

}  // namespace repwatch::db::detail
