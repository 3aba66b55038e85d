// repwatch/db/store.h - reviews, their analyses and each source's poll state, in SQLite.
//
// One row per (source, external id), ever. upsert() compares a content hash: an unchanged
// review is left alone, an edited one is updated in place, its previous version copied to
// review_revisions and its analysis replaced. The caller wraps a whole poll (reviews, analyses,
// the alerts they trigger, the new cursor) in one db::Transaction.
//
// Removed reviews: after a poll that listed everything its source has (FetchResult::complete),
// mark_removed() sets removed_at on the source's reviews that poll did not list. They keep
// their row, revisions and analysis, but leave the CLI's aggregates (db/query_index.h) and, by
// default, its listings; upsert() of a removed review (it is listed again) clears removed_at
// and says so (UpsertResult::restored).
//
// Schema (see schema_migrations() in db/schema.cpp for the exact SQL):
//   locations(id, name)
//   sources(id, type, location_id, added_at, first_sync_at)
//   poll_state(source_id, cursor, last_attempt_at, last_success_at, last_error, last_error_kind,
//              last_error_at, consecutive_failures, next_poll_at, needs_attention,
//              failing_since, advice, warnings, warning_count, warnings_at, last_new_at,
//              arrivals)
//   reviews(id, source_id, external_id, location_id, author, raw_rating, scale, rating, text,
//           language, translated_text, created_at, updated_at, reply_text, reply_at, url,
//           content_hash, revision, first_seen_at, last_seen_at, removed_at,
//           sentiment, label, negative)            -- analysis summary, for fast queries
//   review_revisions(review_id, revision, ... the replaced version ..., replaced_at)
//   analyses(review_id, score, label, language, scored, lexicon_version, analyzed_at, terms,
//            on_translation, taxonomy_version)  -- on_translation 1: spans are of translated_text
//   touchpoint_hits(review_id, ord, touchpoint, score, evidence)  -- clustered by review
// terms and evidence are spans of the review's text (of its translated_text when the analysis
// was made on the translation, Analysis::on_translation), stored as [offset, length] pairs (see
// encode_spans()); the phrase itself is not stored twice.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"
#include "core/error.h"
#include "core/review.h"
#include "db/sqlite.h"

namespace repwatch::db {

// Evidence spans as stored in analyses.terms and touchpoint_hits.evidence: a JSON array of
// [offset, length] pairs into the review's text, e.g. [[4,11],[30,5]]. Overwrites `out`.
void encode_spans(const std::vector<Evidence>& spans, std::string& out);
// The spans of such an array with their phrases cut from `text`. A span that does not fit in
// the text is left out; std::nullopt when `json` is not an array of [offset, length] pairs.
std::optional<std::vector<Evidence>> decode_spans(std::string_view json, std::string_view text);

// Every schema change of repwatch, in order. Modules append; never edit an applied one.
const std::vector<Migration>& schema_migrations();

// Opens the database, brings its schema up to date and builds the time indexes if they are
// missing (an import cut short while they were deferred; see below).
Database open_store(const std::filesystem::path& path);

// Bulk loading. Four indexes take each review by its created_at: reviews_by_created,
// reviews_by_location, reviews_by_source and reviews_unanswered_negative. An import whose
// reviews come in no particular time order adds to every page of them in every part, so each
// part's commit writes them out whole again: at 1,000,000 reviews in parts of 10,000, most of
// the import's time. Dropped for the import and built once at its end, they are sorted once.
// While they are missing, readers get the same answers, only without their help (slower).
//
// drop_time_indexes() drops them (those that exist); build_time_indexes() creates those that
// are missing - nothing to do when all four are there - with the sort spilling to a temporary
// file rather than memory, so that building them keeps the import's memory bound. Each runs in
// its own transaction: not inside one that is open.
void drop_time_indexes(const Database& db);
void build_time_indexes(const Database& db);
// The highest review id: how many reviews the store has ever held, near enough, read from the
// end of the table rather than by counting.
int64_t highest_review_id(const Database& db);

struct StoredReview {
  int64_t id = 0;
  int revision = 1;  // 1 for the first version, +1 per edit
  std::string content_hash;
  int64_t first_seen_at = 0;
  std::optional<int64_t> removed_at;  // set while its source's complete listings lack it
  Review review;
  Analysis analysis;  // touchpoints and their evidence included
};

enum class UpsertOutcome { kInserted, kEdited, kUnchanged };

struct UpsertResult {
  UpsertOutcome outcome = UpsertOutcome::kUnchanged;
  int64_t review_id = 0;
  int revision = 1;
  // The review was marked removed and is listed again: removed_at is cleared (and it counts
  // again). Together with kUnchanged or kEdited.
  bool restored = false;
  // For kEdited: the version that was replaced, and its analysis.
  std::optional<Review> previous;
  std::optional<Analysis> previous_analysis;
};

// What a failed poll records (ReviewStore::record_failure).
struct PollFailure {
  SourceError::Kind kind = SourceError::Kind::kTransient;
  std::string message;                  // the API's own message, said once
  std::optional<int64_t> next_poll_at;  // when the scheduler will try again
  bool needs_attention = false;         // a person must act (auth and config errors)
  std::string advice;                   // what a person should do ("": the kind's default)
};

struct PollState {
  std::string source_id;
  std::string cursor;                    // opaque to everyone but the connector
  std::optional<int64_t> first_sync_at;  // end of the first successful poll
  std::optional<int64_t> last_attempt_at;
  std::optional<int64_t> last_success_at;
  std::string last_error;  // the API's own message; "" when healthy
  // What kind of failure last_error is; nullopt when healthy. Stored as to_string(kind).
  std::optional<SourceError::Kind> last_error_kind;
  std::optional<int64_t> last_error_at;
  int consecutive_failures = 0;
  std::optional<int64_t> next_poll_at;
  bool needs_attention = false;  // auth and config errors: a person must act
  // Health (alerts/health.h):
  std::optional<int64_t> failing_since;  // the first failed poll of the current run of failures
  std::string advice;                    // what a person should do about last_error ("": none)
  std::vector<Problem> warnings;         // problems of the last poll that had any (at most 20 kept)
  int warning_count = 0;                 // how many that poll had
  std::optional<int64_t> warnings_at;
  std::optional<int64_t> last_new_at;  // the last poll that stored a review not seen before
  std::vector<int64_t> arrivals;       // the last 20 such polls, newest first
};

// How many of a poll's problems, and of its arrival times, the poll state keeps.
inline constexpr size_t kMaxStoredWarnings = 20;
inline constexpr size_t kMaxStoredArrivals = 20;

// When a review counts as negative (the `negative` column): its normalized rating is at or
// below max_rating, or it has no rating and its sentiment is at or below max_sentiment.
// (A tolerance of 1e-9 keeps normalization noise such as 2.0000000000000004 on the right side.)
struct NegativeRule {
  double max_rating = 2.0;
  double max_sentiment = -0.3;
  bool is_negative(const std::optional<double>& rating, double sentiment) const {
    return rating ? *rating <= max_rating + 1e-9 : sentiment <= max_sentiment + 1e-9;
  }
};

// Every registered source's poll state, by source id (what ReviewStore::all_poll_states()
// returns), also on a read-only connection: the CLI's `repwatch sources`.
std::vector<PollState> read_poll_states(const Database& db);

// Prepares its statements once; use it on one thread (the connection's), like the Database.
class ReviewStore {
 public:
  explicit ReviewStore(const Database& db, NegativeRule negative = {});
  ~ReviewStore();
  ReviewStore(const ReviewStore&) = delete;
  ReviewStore& operator=(const ReviewStore&) = delete;

  const Database& database() const { return db_; }

  // Registers a location / source (or updates its name, type, location). Idempotent.
  void ensure_location(const std::string& id, const std::string& name);
  // Registers a location by id (named by its id) unless it exists; keeps an existing name.
  void ensure_location_id(const std::string& id);
  void ensure_source(const std::string& id, const std::string& type, const std::string& location_id,
                     int64_t now);

  // Inserts or updates one review and its analysis; see the header comment.
  // `review.rating` must already be normalized.
  UpsertResult upsert(const Review& review, const Analysis& analysis, int64_t now);

  // upsert() of each review of a poll, in order (`analyses[i]` is that of `reviews[i]`), with
  // the same results. The new reviews are written 16 at a time: one INSERT for the reviews,
  // one for their analyses, one for their touchpoint hits, because a statement costs about as
  // much as the rows it writes; a source with nothing stored yet (a first sync) needs no
  // lookups either (a quarter fewer instructions per stored review, docs/storage.md).
  std::vector<UpsertResult> upsert_many(std::span<const Review> reviews,
                                        std::span<const Analysis> analyses, int64_t now);

  // Replaces the analysis of a stored review (rescore after a lexicon change).
  void save_analysis(int64_t review_id, const Analysis& analysis, int64_t now);

  std::optional<StoredReview> find(const std::string& source_id,
                                   const std::string& external_id) const;
  std::optional<StoredReview> get(int64_t review_id) const;
  int64_t count_reviews() const;
  // The reviews of one source, those marked removed only with `include_removed`.
  int64_t count_reviews(const std::string& source_id, bool include_removed = false) const;
  int count_revisions(int64_t review_id) const;
  // Whether any review of `source_id` is stored (removed ones too); one index probe.
  bool has_reviews(const std::string& source_id) const;

  // After a poll stored every review of a complete listing of `source_id` (their ids:
  // `listed`, as upsert() returned them): marks the source's other reviews removed at `now`.
  // Returns their ids, ascending; reviews already marked are left as they are. Call it inside
  // the poll's transaction.
  std::vector<int64_t> mark_removed(const std::string& source_id, std::vector<int64_t> listed,
                                    int64_t now);

  PollState poll_state(const std::string& source_id) const;
  std::vector<PollState> all_poll_states() const;
  // Part of a poll delivered in parts is stored: moves the cursor to what it covers and
  // nothing else (the poll is neither a success nor a failure yet; first_sync_at stays unset
  // until the first poll ends, so an interrupted first sync resumes as a first sync).
  void save_cursor(const std::string& source_id, const std::string& cursor);
  // A successful poll: stores the new cursor, clears the error (and its advice and
  // failing_since), resets failures, and sets first_sync_at if this was the first success.
  void record_success(const std::string& source_id, const std::string& cursor, int64_t now,
                      std::optional<int64_t> next_poll_at);
  // A failed poll: one more failure in a row (failing_since is set by the first of them).
  // needs_attention stays set until the next success once one failure of the run set it.
  void record_failure(const std::string& source_id, const PollFailure& failure, int64_t now);
  // What else a successful poll tells about its source's health: its problems (records
  // skipped, paging stopped early) replace the stored warnings when there are any - a poll
  // without problems leaves the last ones and their time, since an incremental poll does not
  // read again what an earlier one skipped - and, when it stored `new_reviews` > 0 reviews not
  // seen before, `now` becomes last_new_at and the newest of the arrivals.
  void record_health(const std::string& source_id, const std::vector<Problem>& problems,
                     int new_reviews, int64_t now);

  const NegativeRule& negative_rule() const { return negative_; }

 private:
  struct Statements;
  UpsertResult upsert_review(const Review& review, const Analysis& analysis, int64_t now);
  struct Batch;
  void upsert_batch(Batch& batch, std::span<const Review> reviews,
                    std::span<const Analysis> analyses, int64_t now,
                    std::span<UpsertResult> results);
  void write_analysis(int64_t review_id, const Analysis& analysis, int64_t now, bool replace_hits);
  const Database& db_;
  NegativeRule negative_;
  std::unique_ptr<Statements> st_;
};

}  // namespace repwatch::db
