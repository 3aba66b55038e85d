// repwatch/db/store_statements.h - ReviewStore's prepared statements and the helpers its files
// share (db/store.cpp: reviews and analyses, db/poll_state.cpp, db/store_statements.cpp). Not
// part of the store's interface: include db/store.h.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"
#include "core/error.h"
#include "core/review.h"
#include "db/sqlite.h"
#include "db/store.h"

namespace repwatch::db {

namespace detail {

// Resets a cached statement when leaving scope, whatever happened, so that no statement stays
// active (holding a read snapshot) and the next use starts clean.
class Use {
 public:
  explicit Use(Statement& st) : st_(st) {}
  ~Use() { st_.reset(); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  Statement* operator->() { return &st_; }
  Statement& operator*() { return st_; }

 private:
  Statement& st_;
};

// Binds text without copying it: the caller keeps `text` alive until the statement is reset.
inline void bind_static(Statement& st, int index, std::string_view text) {
  if (sqlite3_bind_text64(st.handle(), index, text.data(), text.size(), SQLITE_STATIC,
                          SQLITE_UTF8) != SQLITE_OK)
    throw DbError("bind text: " + std::string(sqlite3_errmsg(sqlite3_db_handle(st.handle()))));
}

inline void bind_opt(Statement& st, int index, const std::optional<double>& v) {
  if (v)
    st.bind(index, *v);
  else
    st.bind_null(index);
}

inline void bind_opt(Statement& st, int index, const std::optional<int64_t>& v) {
  if (v)
    st.bind(index, *v);
  else
    st.bind_null(index);
}

}  // namespace detail

constexpr size_t kHitsPerInsert = 32;
// Reviews per statement on the batch path of upsert_many() (x 21 parameters).
constexpr size_t kReviewsPerInsert = 16;
// Parameters of an analyses row (bind_analysis).
constexpr int kAnalysisParams = 10;

// poll_state joined with sources, one row per registered source, in read_poll_state()'s
// columns (db/poll_state.cpp).
extern const char* const kSelectAllPollStates;

struct ReviewStore::Statements {
  explicit Statements(const Database& db);

  const Database& db_;
  std::array<std::optional<Statement>, kHitsPerInsert> insert_hits_;
  std::array<std::optional<Statement>, kReviewsPerInsert> find_keys_, insert_reviews_,
      insert_analyses_;
  Statement find_key, insert_review, update_review, touch_review, restore_review, listed_ids,
      set_removed, copy_revision, upsert_analysis, delete_hits, index_hits, update_summary,
      select_by_key, select_by_id, select_analysis, select_hits, count_reviews, count_revisions,
      upsert_location, add_location, upsert_source, source_exists, select_poll_state,
      select_all_poll_states, success, save_cursor, first_sync, failure, warnings, arrival;
  Statement max_id, any_review, count_source_reviews;
  std::string spans;  // reused for every evidence array
  // Per review of an upsert_batch(): its content hash, scale column and terms.
  std::vector<std::string> review_hashes, review_scales, term_spans;
  struct Hit {
    int64_t review_id;
    int64_t ord;
    const TouchpointResult* result;
  };
  std::vector<Hit> hits;               // to be written by write_hits()
  std::vector<std::string> hit_spans;  // the same for the hits of one insert_hits() statement
  std::string scale_text;              // the scale column of `scale` (to_string() of every review
  RatingScale scale = RatingScale::none();  // of a poll would format the same numbers again)
  const std::string& scale_column(const RatingScale& s) {
    if (scale_text.empty() || s != scale) {
      scale = s;
      scale_text = s.to_string();
    }
    return scale_text;
  }

  // Statements for n rows (1 <= n <= the array's size), prepared when first needed.
  // touchpoint_hits: OR IGNORE because ord is unique by construction, and a statement that
  // cannot abort halfway needs no statement journal.
  Statement& insert_hits(size_t n);
  // The reviews of upsert_many() with the explicit ids it chose: row i is ?(21i+1) = id, then
  // the 20 parameters of bind_review() from ?(21i+2).
  Statement& insert_reviews(size_t n);
  // Their analyses: kAnalysisParams parameters per row, as upsert_analysis.
  Statement& insert_analyses(size_t n);
  // Writes and clears `hits`, up to kHitsPerInsert rows per statement.
  void write_hits();
  // Which of n external ids (?2..?(n+1)) of source ?1 are stored.
  Statement& find_keys(size_t n);

 private:
  template <size_t N, typename MakeSql>
  Statement& cached(std::array<std::optional<Statement>, N>& cache, size_t n, MakeSql make_sql);
};
}  // namespace repwatch::db
