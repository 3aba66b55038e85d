#include "pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <system_error>
#include <thread>
#include <utility>

#include "core/redact.h"
#include "core/time.h"
#include "normalize/limits.h"
#include "normalize/normalize.h"

namespace repwatch::pipeline {

namespace {

// Analyzes one review's text (or the source's translation of it, see analyze_review()). A
// failure of the analyzer on one review is a per-record problem: the review is still stored,
// marked as not scored.
Analysis analyze_one(const sentiment::Analyzer& analyzer, const Review& review,
                     std::vector<Problem>& problems) {
  std::string why;
  try {
    Analysis a =
        analyze_review(review, [&](std::string_view text) { return analyzer.analyze(text); });
    // SQLite stores NaN as NULL, which the store's NOT NULL columns refuse: one such score
    // would fail every poll of the source. Never expected; kept so it cannot stall a source.
    bool finite = std::isfinite(a.score);
    for (const auto& tp : a.touchpoints) finite = finite && std::isfinite(tp.score);
    if (finite) return a;
    why = "the analyzer returned a score that is not a number";
  } catch (const std::exception& e) {
    why = e.what();
  }
  problems.push_back({"review " + review.external_id, "not scored: " + why});
  Analysis unscored;
  unscored.scored = false;
  return unscored;
}

// Analyzes every review, in order. A large poll (a first sync, a big import) is split over
// `cores` of the machine: the Analyzer is immutable and thread-safe, and each worker keeps its
// own problems, appended in review order afterwards.
std::vector<Analysis> analyze_all(const sentiment::Analyzer& analyzer,
                                  const std::vector<Review>& reviews, size_t cores,
                                  std::vector<Problem>& problems) {
  constexpr size_t kPerWorker = 4096;  // below this, a thread costs more than it saves
  const size_t n = reviews.size();
  const size_t workers =
      std::max<size_t>(1, std::min<size_t>({cores, 8, (n + kPerWorker - 1) / kPerWorker}));
  std::vector<Analysis> out(n);
  std::vector<std::vector<Problem>> found(workers);
  auto work = [&](size_t w) {
    for (size_t i = n * w / workers, end = n * (w + 1) / workers; i < end; ++i)
      out[i] = analyze_one(analyzer, reviews[i], found[w]);
  };
  {
    std::vector<std::jthread> threads;
    threads.reserve(workers - 1);
    for (size_t w = 1; w < workers; ++w) {
      try {
        threads.emplace_back(work, w);
      } catch (const std::system_error&) {
        work(w);  // no thread to be had (a tasks limit): do that share here
      }
    }
    work(0);
  }  // joined
  for (auto& f : found) problems.insert(problems.end(), f.begin(), f.end());
  return out;
}

}  // namespace

namespace {

// A connector's message, redacted once more by pattern (core/redact.h: userinfo,
// ?api_key=... values), whatever path it took: connectors scrub the secrets they hold, and
// what goes on to the log, the database and `repwatch sources` is checked again here.
SourceError source_error_of(const std::exception& e) {
  if (const auto* s = dynamic_cast<const SourceError*>(&e)) {
    SourceError redacted(s->kind(), redact_text(s->what()), s->retry_after_seconds());
    redacted.advise(redact_text(s->advice()));  // what to do about it, kept
    return redacted;
  }
  if (dynamic_cast<const ConfigError*>(&e))
    return SourceError(SourceError::Kind::kConfig, redact_text(e.what()));
  // Anything else (out of memory, a filesystem error the connector did not wrap) is worth
  // retrying later rather than taking the daemon down.
  return SourceError(SourceError::Kind::kTransient, redact_text(e.what()));
}

// The machine's cores (at least 1).
size_t all_cores() { return std::max<size_t>(1, std::thread::hardware_concurrency()); }

// Normalizes and analyzes what a fetch (or one part of it) returned, on up to `cores` threads.
// `numbered` counts the reviews of the poll before this part, so that problems number them
// across parts.
Fetched score(connectors::FetchResult&& result, const SourceConfig& source,
              const sentiment::Analyzer& analyzer, size_t cores, size_t& numbered) {
  Fetched out;
  out.source_id = source.id;
  for (Problem& p : result.problems) p.message = redact_text(p.message);

  // The source's identity comes from the config (the location too, unless the connector
  // mapped one per review); a review without its own id cannot be stored (it would have no
  // stable key) and is reported instead.
  std::vector<Review>& reviews = result.reviews;
  size_t kept = 0;
  for (size_t i = 0; i < reviews.size(); ++i) {
    Review& r = reviews[i];
    const std::string number = std::to_string(numbered + i + 1);
    if (r.external_id.empty()) {
      result.problems.push_back({"review " + number, "no external id; skipped"});
      continue;
    }
    r.source_id = source.id;
    if (r.location_id.empty()) r.location_id = source.location;
    normalize(r);
    // Valid UTF-8, no control characters, every field capped (normalize/limits.h).
    if (std::string why; !limit_review(r, why)) {
      result.problems.push_back({"review " + number, why});
      continue;
    }
    if (kept != i) reviews[kept] = std::move(r);
    ++kept;
  }
  numbered += reviews.size();
  reviews.resize(kept);
  // Oldest first: the store's indexes on created_at (by time, by location, by source) then
  // grow at their ends instead of taking inserts all over, which keeps a large first sync
  // within the page cache. Stable, so two versions of one review keep their order (the later
  // wins). Alerts hooked on the store see reviews in the order they were written.
  auto older = [](const Review& a, const Review& b) { return a.created_at < b.created_at; };
  if (!std::is_sorted(reviews.begin(), reviews.end(), older)) {
    // Sort (time, position) keys - compact, so a million of them sort within the CPU caches;
    // the position makes it stable - then move each review once (a Review is a dozen strings).
    std::vector<std::pair<int64_t, size_t>> order(reviews.size());
    for (size_t i = 0; i < reviews.size(); ++i) order[i] = {reviews[i].created_at, i};
    std::sort(order.begin(), order.end());
    std::vector<Review> sorted;
    sorted.reserve(reviews.size());
    for (const auto& [time, i] : order) sorted.push_back(std::move(reviews[i]));
    reviews.swap(sorted);
  }

  out.analyses = analyze_all(analyzer, reviews, cores, result.problems);
  out.result = std::move(result);
  return out;
}

}  // namespace

Fetched fetch_and_score(connectors::Connector& connector, const SourceConfig& source,
                        const std::string& cursor, const sentiment::Analyzer& analyzer) {
  connectors::FetchResult result;
  try {
    result = connector.fetch(cursor);
  } catch (const std::exception& e) {
    Fetched out;
    out.source_id = source.id;
    out.error = source_error_of(e);
    return out;
  }
  size_t numbered = 0;
  return score(std::move(result), source, analyzer, all_cores(), numbered);
}

void fetch_and_score_parts(connectors::Connector& connector, const SourceConfig& source,
                           const std::string& cursor, const sentiment::Analyzer& analyzer,
                           size_t part_size, const std::function<void(Fetched&&)>& deliver) {
  size_t numbered = 0;
  // While a part is scored, the one before it is being stored on another thread (the
  // database's): that thread is the slower one, so it keeps a core to itself.
  const size_t cores = std::max<size_t>(1, all_cores() - 1);
  bool delivering = false;  // an exception now comes from `deliver`: it stops the fetch
  try {
    connector.fetch_parts(cursor, part_size, [&](connectors::FetchResult&& part) {
      Fetched scored = score(std::move(part), source, analyzer, cores, numbered);
      delivering = true;
      deliver(std::move(scored));
      delivering = false;
    });
  } catch (const std::exception& e) {
    if (delivering) throw;
    Fetched failed;
    failed.source_id = source.id;
    failed.error = source_error_of(e);
    deliver(std::move(failed));
  }
}

void fetch_and_score_streamed(connectors::Connector& connector, const SourceConfig& source,
                              const std::string& cursor, const sentiment::Analyzer& analyzer,
                              size_t part_size, const std::function<void(Fetched&&)>& hand_over) {
  struct ConsumerGone {};
  std::shared_ptr<PartChannel> channel;
  try {
    fetch_and_score_parts(connector, source, cursor, analyzer, part_size, [&](Fetched&& part) {
      if (channel) {
        if (!channel->put(std::move(part))) throw ConsumerGone{};
        return;
      }
      if (part.result && !part.result->last) {
        channel = std::make_shared<PartChannel>();
        part.more = MoreParts(channel);
      }
      hand_over(std::move(part));
    });
  } catch (const ConsumerGone&) {
  } catch (const std::exception& e) {
    if (!channel) throw;
    // The consumer waits for a last part: never leave it waiting.
    Fetched failed;
    failed.source_id = source.id;
    failed.error = source_error_of(e);
    channel->put(std::move(failed));
  }
}

// ---- PartChannel ---------------------------------------------------------------------------

bool PartChannel::put(Fetched&& part) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return closed_ || parts_.size() < std::max<size_t>(capacity_, 1); });
  if (closed_) return false;
  parts_.push_back(std::move(part));
  const uint64_t mine = taken_ + parts_.size();  // the take() that returns this part
  cv_.notify_all();
  if (capacity_ == 0) cv_.wait(lock, [&] { return closed_ || taken_ >= mine; });
  return taken_ >= mine || !closed_;
}

Fetched PartChannel::take() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !parts_.empty(); });
  Fetched part = std::move(parts_.front());
  parts_.pop_front();
  ++taken_;
  cv_.notify_all();
  return part;
}

void PartChannel::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  parts_.clear();
  cv_.notify_all();
}

MoreParts& MoreParts::operator=(MoreParts&& other) noexcept {
  if (this != &other) {
    if (channel_) channel_->close();
    channel_ = std::move(other.channel_);
  }
  return *this;
}

MoreParts::~MoreParts() {
  if (channel_) channel_->close();
}

namespace {

// Errors a person must fix before the source can work again.
bool needs_attention(SourceError::Kind kind) {
  return kind == SourceError::Kind::kAuth || kind == SourceError::Kind::kConfig;
}

// Records a failed poll, and runs the poll hook, in its own small transaction. Never throws:
// a database that cannot even take this is logged, and the caller reports the original
// failure. A hook that throws is undone alone (a savepoint) and logged: the failure is still
// counted, and the next failed poll of the run raises what the hook could not. Returns the
// alerts the hook queued.
int record_failure_tx(db::ReviewStore& store, const SourceConfig& source, const SourceError& error,
                      int64_t now, std::optional<int64_t> next_poll_at, const PollHook& poll_hook) {
  try {
    db::Transaction tx(store.database());
    store.ensure_source(source.id, source.type, source.location, now);
    const db::PollState before = store.poll_state(source.id);
    // Said once: `repwatch sources` and the health email name the source already.
    store.record_failure(
        source.id,
        db::PollFailure{error.kind(),
                        std::string(without_context(error.what(), "source " + source.id)),
                        next_poll_at, needs_attention(error.kind()), error.advice()},
        now);
    int queued = 0;
    if (poll_hook) {
      const db::PollState after = store.poll_state(source.id);
      db::Savepoint sp(store.database());
      try {
        queued = poll_hook(PollEvent{source, before, after, false, 0, now, &store.database()});
        sp.release();
      } catch (const std::exception& e) {
        spdlog::error("source {}: the source health hook failed: {}", source.id, e.what());
      }
    }
    tx.commit();
    return queued;
  } catch (const std::exception& e) {
    spdlog::error("source {}: could not record the failed poll: {}", source.id, e.what());
  }
  return 0;
}

// What the parts of one poll share while they are stored one after the other (a whole poll is
// a poll of one part).
struct PollRun {
  db::ReviewStore& store;
  const SourceConfig& source;
  const ReviewHook& hook;
  const PollHook& poll_hook;
  int64_t now;
  std::optional<int64_t> next_poll_at;
  // The poll state from before the poll, read in the first part's transaction: every part's
  // hook sees it (its first_sync_at tells a first sync).
  std::optional<db::PollState> before;
  // Whether the source had reviews stored before the poll (read with `before`). If not, no
  // review can be missing from its listing: every stored one was stored by this poll.
  bool had_reviews = true;
  // The ids of the reviews the committed parts stored: with the last part's, the listing that
  // a complete poll compares the stored reviews with (only kept when `had_reviews`: 8 bytes a
  // review).
  std::vector<int64_t> listed;
  PollOutcome out;  // the totals of the committed parts; the problems of every part so far
};

struct StoreCounts {
  int inserted = 0, edited = 0, unchanged = 0, removed = 0, restored = 0, alerts_queued = 0,
      health_alerts = 0;
};

// Marks the source's stored reviews that a complete listing (`listed`) left out as removed,
// each with the hook.
void mark_removed(PollRun& run, const db::PollState& state, std::vector<int64_t> listed,
                  StoreCounts& counts) {
  const SourceConfig& source = run.source;
  constexpr int kLogged = 10;  // removals logged one by one; then only counted
  for (int64_t id : run.store.mark_removed(source.id, std::move(listed), run.now)) {
    std::optional<db::StoredReview> gone = run.store.get(id);
    if (!gone) throw DbError("review " + std::to_string(id) + " vanished while marked removed");
    if (++counts.removed <= kLogged)
      spdlog::info("source {}: review {} ({}) is no longer listed by the source; marked removed",
                   source.id, gone->review.external_id, format_date(gone->review.created_at));
    else if (counts.removed == kLogged + 1)
      spdlog::info("source {}: more reviews are no longer listed; the poll's summary counts them",
                   source.id);
    if (!run.hook) continue;
    db::UpsertResult u;
    u.review_id = id;
    u.revision = gone->revision;
    StoredEvent ev{source, gone->review, gone->analysis, u, state, run.now};
    ev.change = StoredEvent::Change::kRemoved;
    counts.alerts_queued += run.hook(ev);
  }
}

// Stores a fetched poll, or one part of it, in one transaction: the reviews, then each one's
// hook. A part that is not the last of its poll then moves only the cursor (save_cursor()).
// The last part (or a whole poll) then, when `complete` (the poll listed everything the source
// has), marks the source's reviews that no part listed removed, each with the hook, then
// records the poll state (with every part's problems and `skipped` as warnings) and runs the
// poll hook; commits. With `isolate`, each review is written inside its own savepoint, and a
// review whose data the store refuses (db::is_record_error) is rolled back alone and reported
// in `skipped` (no hook runs for it; then nothing is removed). Throws on any other failure;
// the transaction rolls back. `ids` receives the ids of the reviews stored.
StoreCounts store_in_one_transaction(PollRun& run, const connectors::FetchResult& result,
                                     const std::vector<Analysis>& analyses, bool isolate,
                                     bool complete, std::vector<Problem>& skipped,
                                     std::vector<int64_t>& ids) {
  db::ReviewStore& store = run.store;
  const SourceConfig& source = run.source;
  StoreCounts counts;
  db::Transaction tx(store.database());
  store.ensure_source(source.id, source.type, source.location, run.now);
  if (!run.before) {
    run.before = store.poll_state(source.id);
    run.had_reviews = store.has_reviews(source.id);
  }
  const db::PollState state = *run.before;
  // Exports covering several locations name one per review: make sure each exists.
  const std::string* last_location = &source.location;
  for (const Review& review : result.reviews) {
    if (review.location_id == *last_location) continue;
    store.ensure_location_id(review.location_id);
    last_location = &review.location_id;
  }
  std::vector<db::UpsertResult> stored;
  std::vector<bool> refused;
  if (!isolate) {
    stored = store.upsert_many(result.reviews, analyses, run.now);
  } else {
    stored.resize(result.reviews.size());
    refused.resize(result.reviews.size());
    for (size_t i = 0; i < result.reviews.size(); ++i) {
      db::Savepoint sp(store.database());
      try {
        stored[i] = store.upsert(result.reviews[i], analyses[i], run.now);
        sp.release();
      } catch (const DbError& e) {
        if (!db::is_record_error(e)) throw;
        refused[i] = true;
        skipped.push_back({"review " + result.reviews[i].external_id,
                           std::string("not stored, the store refused it: ") + e.what()});
      }
    }
  }
  ids.clear();
  ids.reserve(stored.size());
  for (size_t i = 0; i < result.reviews.size(); ++i) {
    if (isolate && refused[i]) continue;
    const db::UpsertResult& u = stored[i];
    ids.push_back(u.review_id);
    switch (u.outcome) {
      case db::UpsertOutcome::kInserted:
        ++counts.inserted;
        break;
      case db::UpsertOutcome::kEdited:
        ++counts.edited;
        break;
      case db::UpsertOutcome::kUnchanged:
        ++counts.unchanged;
        break;
    }
    if (u.restored && run.out.restored + ++counts.restored <= 10)  // then only counted
      spdlog::info("source {}: review {} is listed again; no longer marked removed", source.id,
                   result.reviews[i].external_id);
    if (run.hook)
      counts.alerts_queued +=
          run.hook(StoredEvent{source, result.reviews[i], analyses[i], u, state, run.now});
  }
  if (!result.last) {
    store.save_cursor(source.id, result.cursor);
    tx.commit();
    return counts;
  }
  if (complete && skipped.empty() && run.had_reviews) {
    std::vector<int64_t> listed = run.listed;
    listed.insert(listed.end(), ids.begin(), ids.end());
    mark_removed(run, state, std::move(listed), counts);
  }
  store.record_success(source.id, result.cursor, run.now, run.next_poll_at);
  const int inserted = run.out.inserted + counts.inserted;
  if (skipped.empty()) {
    store.record_health(source.id, run.out.problems, inserted, run.now);
  } else {
    std::vector<Problem> all = run.out.problems;
    all.insert(all.end(), skipped.begin(), skipped.end());
    store.record_health(source.id, all, inserted, run.now);
  }
  if (run.poll_hook) {
    const db::PollState after = store.poll_state(source.id);
    counts.health_alerts =
        run.poll_hook(PollEvent{source, state, after, true, inserted, run.now, &store.database()});
  }
  tx.commit();
  return counts;
}

// The transaction has rolled back: nothing of this part is stored, the cursor has not moved
// past the parts before it. The next poll fetches the same reviews again.
void store_failed(PollRun& run, const std::exception& e) {
  PollOutcome& out = run.out;
  out.error = std::string("storing the poll failed, rolled back: ") + e.what();
  spdlog::error("source {}: {}", run.source.id, out.error);
  SourceError error(SourceError::Kind::kTransient, out.error);
  error.advise(
      "repwatch could not write this poll into its database (see the error). Check the free "
      "space and the permissions of the state directory; repwatch tries again on its own.");
  out.health_alerts =
      record_failure_tx(run.store, run.source, error, run.now, run.next_poll_at, run.poll_hook);
}

// Whether the poll that ends with this part may mark what it did not list removed. Removal is
// inferred only from a listing that is whole: a record skipped by the connector or the
// pipeline (in any part) may be a stored review. An empty complete listing while reviews are
// stored looks like a fault at the source (an API answering nothing), not every review
// deleted: that is a problem of the poll.
bool complete_listing(PollRun& run, const connectors::FetchResult& result) {
  if (!result.last || !result.complete || !run.out.problems.empty()) return false;
  if (run.out.fetched > 0) return true;
  if (run.store.count_reviews(run.source.id) > 0) {
    Problem p{"",
              "the source listed no reviews at all; reviews stored for it are not marked "
              "removed (an empty answer is more likely a fault at the source)"};
    spdlog::warn("source {}: {}", run.source.id, p.to_string());
    run.out.problems.push_back(std::move(p));
  }
  return false;
}

// Stores one part (or a whole poll) in its transaction; false when the poll ends here with a
// failure (recorded; run.out says what).
bool store_part(PollRun& run, Fetched& fetched) {
  const SourceConfig& source = run.source;
  PollOutcome& out = run.out;
  if (fetched.error || !fetched.result) {
    SourceError err = fetched.error ? *fetched.error
                                    : SourceError(SourceError::Kind::kTransient,
                                                  "fetch returned neither reviews nor an error");
    // Said once: the log line and `repwatch sources` name the source already.
    out.error = std::string(without_context(err.what(), "source " + source.id));
    if (needs_attention(err.kind()))
      spdlog::error("source {}: {} error, needs attention: {}", source.id, to_string(err.kind()),
                    out.error);
    else
      spdlog::warn("source {}: {} error: {}", source.id, to_string(err.kind()), out.error);
    out.health_alerts =
        record_failure_tx(run.store, source, err, run.now, run.next_poll_at, run.poll_hook);
    return false;
  }

  connectors::FetchResult& result = *fetched.result;
  out.fetched += static_cast<int>(result.reviews.size());
  for (const Problem& p : result.problems)
    spdlog::warn("source {}: {}", source.id, without_context(p.to_string(), "source " + source.id));
  for (Problem& p : result.problems) out.problems.push_back(std::move(p));
  result.problems.clear();
  const bool complete = complete_listing(run, result);
  if (fetched.analyses.size() != result.reviews.size()) {
    out.error = "internal error: " + std::to_string(fetched.analyses.size()) + " analyses for " +
                std::to_string(result.reviews.size()) + " reviews";
    spdlog::error("source {}: {}", source.id, out.error);
    out.health_alerts =
        record_failure_tx(run.store, source, SourceError(SourceError::Kind::kTransient, out.error),
                          run.now, run.next_poll_at, run.poll_hook);
    return false;
  }

  // First all reviews at once. If one review's data breaks a constraint of the store (none is
  // known to; a bug in a connector or the analyzer could), the part is stored again one review
  // at a time and that review is left out with a problem that names it: one bad record must not
  // stall its source forever. Any other failure (disk full, read-only, locked) rolls back the
  // whole part and leaves the cursor where it was.
  bool isolate = false;
  for (;;) {
    try {
      std::vector<Problem> skipped;
      std::vector<int64_t> ids;
      StoreCounts counts =
          store_in_one_transaction(run, result, fetched.analyses, isolate, complete, skipped, ids);
      out.inserted += counts.inserted;
      out.edited += counts.edited;
      out.unchanged += counts.unchanged;
      out.removed += counts.removed;
      out.restored += counts.restored;
      out.alerts_queued += counts.alerts_queued;
      out.health_alerts += counts.health_alerts;
      if (!result.last && run.had_reviews)
        run.listed.insert(run.listed.end(), ids.begin(), ids.end());
      for (Problem& p : skipped) {
        spdlog::error("source {}: {}", source.id, p.to_string());
        out.problems.push_back(std::move(p));
      }
      return true;
    } catch (const DbError& e) {
      if (!isolate && db::is_record_error(e)) {
        spdlog::warn("source {}: {}; storing this poll again one review at a time", source.id,
                     e.what());
        isolate = true;
        continue;
      }
      store_failed(run, e);
      return false;
    } catch (const std::exception& e) {
      store_failed(run, e);
      return false;
    }
  }
}

// While a poll in parts is stored, SQLite's automatic checkpoint (which copies the write-ahead
// log into the database file whenever the log passes ~4 MB, i.e. after nearly every part) waits
// for a log of kPollCheckpointPages (1 GiB of 4 KiB pages): the pages the parts share (the
// indexes' pages, which an import in random time order touches all over in every part) are
// copied once per GiB of log rather than after every part, and the log - every part's changed
// pages, 5x the size of the reviews themselves at a million - does not take the whole poll:
// a million-review import left a 4.0 GB log without the bound, 1.1 GB with it, and the log's
// index (shared memory, counted in the daemon's RSS) stays small with it. Committed parts are
// durable in the log either way; after the poll the usual setting is back.
constexpr int64_t kPollCheckpointPages = 262144;

class CheckpointAfter {
 public:
  explicit CheckpointAfter(const db::Database& db) : db_(db) {
    db::Statement st = db_.prepare("PRAGMA wal_autocheckpoint");
    if (st.step()) pages_ = st.column_int(0);
    db_.exec("PRAGMA wal_autocheckpoint=" + std::to_string(kPollCheckpointPages));
  }
  ~CheckpointAfter() {
    try {
      db_.exec("PRAGMA wal_autocheckpoint=" + std::to_string(pages_));
    } catch (const std::exception& e) {
      spdlog::error("restoring the automatic checkpoint: {}", e.what());
    }
  }
  CheckpointAfter(const CheckpointAfter&) = delete;
  CheckpointAfter& operator=(const CheckpointAfter&) = delete;

 private:
  const db::Database& db_;
  int64_t pages_ = 1000;
};

// The time indexes (db::drop_time_indexes) while a large poll in parts is stored: deferred
// from the part after which the poll has stored as many new reviews as the store held when it
// began (a first sync or an import that at least doubles the store), and built once when the
// poll ends, whether it succeeded or not. Before that point, or for a store much larger than the
// import, maintaining them costs less than sorting the whole table again. Should the daemon stop
// in between, db::open_store() builds them at its next start.
// Deferring them is only a saving: a store that cannot drop them (another writer holding the
// database past the busy timeout) goes on with them.
class DeferredTimeIndexes {
 public:
  DeferredTimeIndexes(const db::Database& db, const std::string& source_id)
      : db_(db), source_id_(source_id), held_(db::highest_review_id(db)) {}
  // After each stored part that more parts follow.
  void after_part(int64_t inserted_so_far) {
    if (deferred_ || inserted_so_far < held_) return;
    deferred_ = true;  // from here on the end of the poll builds whatever is missing
    try {
      db::drop_time_indexes(db_);
    } catch (const std::exception& e) {
      spdlog::warn("source {}: the import goes on with the indexes on created_at: {}", source_id_,
                   e.what());
    }
  }
  ~DeferredTimeIndexes() {
    if (!deferred_) return;
    try {
      const auto start = std::chrono::steady_clock::now();
      db::build_time_indexes(db_);
      spdlog::info("source {}: built the indexes on created_at after the import ({:.1f} s)",
                   source_id_,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    } catch (const std::exception& e) {
      spdlog::error(
          "source {}: building the indexes on created_at after the import: {}; repwatchd "
          "builds them when it next starts, and queries are slower until then",
          source_id_, e.what());
    }
  }
  DeferredTimeIndexes(const DeferredTimeIndexes&) = delete;
  DeferredTimeIndexes& operator=(const DeferredTimeIndexes&) = delete;

 private:
  const db::Database& db_;
  const std::string& source_id_;
  int64_t held_;
  bool deferred_ = false;
};

}  // namespace

PollOutcome store_poll(db::ReviewStore& store, const SourceConfig& source, Fetched&& fetched,
                       const ReviewHook& hook, int64_t now, std::optional<int64_t> next_poll_at,
                       const PollHook& poll_hook) {
  PollRun run{store, source, hook, poll_hook, now, next_poll_at, std::nullopt, true, {}, {}};
  PollOutcome& out = run.out;
  out.source_id = source.id;
  MoreParts more = std::move(fetched.more);
  std::optional<CheckpointAfter> checkpoint;
  std::optional<DeferredTimeIndexes> time_indexes;  // built before the checkpoint is restored
  if (more) {
    checkpoint.emplace(store.database());
    time_indexes.emplace(store.database(), source.id);
  }
  int parts = 0;
  for (Fetched part = std::move(fetched);; part = (*more).take()) {
    ++parts;
    if (!store_part(run, part)) {
      // A whole poll that fails stores nothing; of one in parts, the parts before stay.
      if (parts == 1)
        out.inserted = out.edited = out.unchanged = out.removed = out.restored = out.alerts_queued =
            0;
      return std::move(out);  // (leaving `more` closes the channel: the fetch stops)
    }
    if (!more || part.result->last) break;
    time_indexes->after_part(out.inserted);
  }

  out.ok = true;
  // A poll that changed nothing is not news at the default level (20 sources polled every 15
  // minutes would log 80 such lines an hour).
  const bool news = out.inserted + out.edited + out.removed + out.restored + out.alerts_queued +
                            out.health_alerts >
                        0 ||
                    !out.problems.empty();
  spdlog::log(news ? spdlog::level::info : spdlog::level::debug,
              "source {}: {} fetched, {} new, {} edited, {} unchanged, {} removed, {} restored, "
              "{} alerts, {} problems{}",
              source.id, out.fetched, out.inserted, out.edited, out.unchanged, out.removed,
              out.restored, out.alerts_queued + out.health_alerts, out.problems.size(),
              parts > 1 ? " (in " + std::to_string(parts) + " parts)" : "");
  return std::move(out);
}

}  // namespace repwatch::pipeline
