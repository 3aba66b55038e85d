// repwatch/db/review_reads.h - stored reviews as the managers read them: listings, export,
// full-text search, the phrases of their complaints.
//
// Listings read the reviews table through its indexes (newest or oldest first, or the most
// negative first), search reads the FTS5 index of db/query_index.h plus a temporary index of
// the reviews not folded into it yet, so a search finds a review as soon as it is stored.
//
//   ReviewReads reads(db);
//   ReviewFilter f;  f.negative = true;  f.since = t;
//   for (const ReviewRow& r : reads.list(f, 20, {.with_touchpoints = true}))
//     std::cout << r.review.text << " " << to_string(r.analysis.label);
//   reads.search("\"front desk\" rude", f, 20);    // best match first
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "db/read_model.h"
#include "db/sqlite.h"
#include "db/store.h"

namespace repwatch::db {

// A stored review as a listing returns it: the StoredReview (the type ReviewStore::get()
// returns: the review with its typed scale, its revision, removal) whose `analysis` holds the
// summary the reviews table keeps (score, label, on_translation) and, when asked, the
// touchpoints with their evidence (spans of analyzed_text()). Not read, since no listing
// shows them and search would compute them for every ranked match: content_hash,
// first_seen_at, and the analysis' terms, language and versions.
struct ReviewRow : StoredReview {
  bool negative = false;  // counted as negative (the `negative` column, db/store.h NegativeRule)
  // search(): the byte spans of review.text that matched, and a short excerpt around the first
  // with the matches between \x01 and \x02.
  std::vector<std::pair<size_t, size_t>> matches;
  std::string snippet;

  // The text the touchpoints' evidence spans point into.
  const std::string& analyzed_text() const { return repwatch::analyzed_text(review, analysis); }
};

// How ReviewReads::list() and each() read.
struct ReviewOrder {
  bool with_touchpoints = false;  // each review's touchpoint hits too
  bool newest_first = true;       // by created_at (then id); else oldest first
};

// search(): how many of the newest matches are ranked.
inline constexpr int64_t kSearchWindow = 20000;

// search(): the query has no words, or FTS5 cannot parse it. reason() is FTS5's own words
// ("" when there were no words).
class SearchQueryError : public Error {
 public:
  explicit SearchQueryError(std::string reason)
      : Error(reason.empty() ? "no words to search for" : reason), reason_(std::move(reason)) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

// The FTS5 query for what a person typed: bare words are quoted (so "e-mail" or "8:00" do not
// break the syntax), "phrases", word*, OR, AND, NOT and parentheses are kept.
std::string fts_query(std::string_view typed);

class ReviewReads {
 public:
  explicit ReviewReads(const Database& db) : db_(db) {}

  // The filter's reviews in `order`, at most `limit` (< 0: all).
  std::vector<ReviewRow> list(const ReviewFilter& filter, int64_t limit,
                              ReviewOrder order = {}) const;
  // The same, streamed (for export): `fn` sees each row before the next is read.
  void each(const ReviewFilter& filter, ReviewOrder order,
            const std::function<void(const ReviewRow&)>& fn) const;
  int64_t count(const ReviewFilter& filter) const;
  // The filter's negative reviews, most negative sentiment first, with touchpoints.
  std::vector<ReviewRow> most_negative(const ReviewFilter& filter, int64_t limit) const;
  // The filter's reviews that have a reply from the practice, the latest reply first (by
  // reply_at, else created_at).
  void each_replied(const ReviewFilter& filter,
                    const std::function<void(const ReviewRow&)>& fn) const;
  // One review by id (removed or not); nullopt when there is none.
  std::optional<ReviewRow> get(int64_t id) const;

  // Full-text search, best match first (BM25). `query` as a person types it (fts_query()):
  // words (all must match), "quoted phrases", prefix*, OR, NOT. Throws SearchQueryError.
  // Ranks among the newest kSearchWindow matches; sets *windowed when there were more.
  std::vector<ReviewRow> search(std::string_view query, const ReviewFilter& filter, int64_t limit,
                                bool* windowed = nullptr) const;

  // The most frequent evidence phrases (lowercased, each counted once per mention) per
  // touchpoint in the filter's reviews, most frequent first, at most `per_touchpoint` each;
  // counted over at most the `max_mentions` latest mentions. Sets *capped when it stopped there.
  std::map<std::string, std::vector<std::pair<std::string, int64_t>>> top_phrases(
      const ReviewFilter& filter, size_t per_touchpoint, int64_t max_mentions, bool* capped) const;

  // Earliest and latest review time, nullopt when there are no reviews.
  std::optional<std::pair<int64_t, int64_t>> span() const;

 private:
  const Database& db_;
};

// `repwatch rescore`: which reviews to analyse again, in batches keyed by id.
struct RescoreSelection {
  bool outdated_only = false;   // only those analysed with another lexicon or taxonomy
  std::string lexicon_version;  // the current ones (sentiment::Analyzer)
  std::string taxonomy_version;
};
// At most `limit` reviews with id > `after_id` of `selection`, by id, each with its id,
// review.text, review.translated_text, review.language and analysis.label (nothing else).
std::vector<ReviewRow> reviews_to_rescore(const Database& db, int64_t after_id, int64_t limit,
                                          const RescoreSelection& selection);

}  // namespace repwatch::db
