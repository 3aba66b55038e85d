// repwatch/pipeline/pipeline.h - one poll of one source, from fetch to commit.
//
//   connector.fetch(cursor) -> normalize -> analyze        fetch_and_score(): no database,
//                                                          safe to run on worker threads
//   upsert reviews + analyses + alerts + new cursor        store_poll(): ONE transaction on the
//                                                          daemon's database thread
//
// If the fetch fails, store_poll() records the failure in the poll state (last error and what
// to do about it, failures in a row since when, next poll) and stores nothing else; the cursor
// stays where it was.
//
// A poll whose connector listed everything the source has (FetchResult::complete) and that had
// no problem at all also marks the source's stored reviews it did not list as removed
// (ReviewStore::mark_removed), in the same transaction; each one is a StoredEvent of its own.
// A complete listing with no review at all while reviews are stored is taken for a fault at the
// source, not as the removal of every review: nothing is marked, and that is a problem. If anything
// in the transaction throws, it rolls back whole: no review is half stored, no alert is queued
// without its review, the cursor does not move past reviews that were not committed. Either way
// the PollHook (source health, alerts/health.h) runs in the transaction that records the outcome.
//
// The one place the stages meet: connectors/, normalize/ and sentiment/ feed db/, and nothing
// here knows who listens (the hooks of db/events.h: alerts/) or who runs it (daemon/ on its
// FetchPool, bench/, the tests).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/connector.h"
#include "core/analysis.h"
#include "core/error.h"
#include "db/events.h"
#include "db/store.h"
#include "sentiment/analyzer.h"

namespace repwatch::pipeline {

// What store_poll() tells its hooks inside the poll's transaction (db/events.h).
using db::PollEvent;
using db::PollHook;
using db::ReviewHook;
using db::StoredEvent;

class PartChannel;

// The consumer's end of a PartChannel: closes it when let go of, so that the producer stops.
class MoreParts {
 public:
  MoreParts() = default;
  explicit MoreParts(std::shared_ptr<PartChannel> channel) : channel_(std::move(channel)) {}
  MoreParts(MoreParts&& other) noexcept = default;
  MoreParts& operator=(MoreParts&& other) noexcept;
  MoreParts(const MoreParts&) = delete;
  MoreParts& operator=(const MoreParts&) = delete;
  ~MoreParts();
  explicit operator bool() const { return channel_ != nullptr; }
  PartChannel& operator*() const { return *channel_; }

 private:
  std::shared_ptr<PartChannel> channel_;
};

// The outcome of connector.fetch() with every review normalized and analyzed: a whole poll, or
// one part of a poll delivered in parts (result->last tells which).
struct Fetched {
  std::string source_id;
  std::optional<connectors::FetchResult> result;  // set on success
  std::vector<Analysis> analyses;                 // one per result->reviews[i]
  std::optional<SourceError> error;               // set on failure
  // On the first part of a poll delivered in parts: where the next parts come from, each
  // stored by store_poll() in its own transaction.
  MoreParts more;
};

// A poll in parts on its way from the thread that fetches and scores it to the thread that
// stores it: at most `capacity` parts wait, so that memory holds a few parts, never a poll.
// With capacity 0 (the default) a part is handed over, never left waiting: put() returns once
// the consumer took it, and the producer reads the next part while this one is stored - two
// parts in memory, the one being stored and the next one ready.
class PartChannel {
 public:
  explicit PartChannel(size_t capacity = 0) : capacity_(capacity) {}
  // Producer: waits for room (with capacity 0: until the consumer took the part); false once
  // the consumer has closed the channel (stop).
  bool put(Fetched&& part);
  // Consumer: waits for the next part.
  Fetched take();
  // Consumer: gives up; put() returns false from now on.
  void close();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Fetched> parts_;
  size_t capacity_;
  bool closed_ = false;
  uint64_t taken_ = 0;  // parts take() returned, ever
};

// Reviews per part of a poll delivered in parts (the daemon's and the benchmark's). Each part
// is a transaction, and each commit writes every page the part changed - in an import in random
// time order, nearly every page of the four created_at indexes - so a part's size trades
// commits against memory: two parts are held (about 1.4 KB a review), next to SQLite's page
// cache (64 MiB). 10,000 keeps a million-review import under 150 MB.
inline constexpr size_t kPartSize = 10000;

// Fetches, normalizes and analyzes one source. Never throws for a source failure: it is
// returned in Fetched::error (a ConfigError from the connector becomes kConfig). Reviews come
// back oldest first (stable by created_at); one without an external id is dropped and
// reported as a Problem. Each review is analysed by analyze_review() (core/analysis.h): on the
// source's translation when the review is in a language the analyzer does not score.
Fetched fetch_and_score(connectors::Connector& connector, const SourceConfig& source,
                        const std::string& cursor, const sentiment::Analyzer& analyzer);

// The same in parts of about `part_size` reviews (Connector::fetch_parts()), each normalized,
// analyzed and handed to `deliver` in order (result->last set on the last). A failure of the
// source is delivered as a last Fetched with `error`, after the parts that came before it. An
// exception from `deliver` stops the fetch and leaves this function.
void fetch_and_score_parts(connectors::Connector& connector, const SourceConfig& source,
                           const std::string& cursor, const sentiment::Analyzer& analyzer,
                           size_t part_size, const std::function<void(Fetched&&)>& deliver);

// fetch_and_score_parts() for a fetch on a worker thread whose parts another thread stores:
// hands the first part to `hand_over` - with Fetched::more set when more parts follow, which
// then come through that channel while the store_poll() on the other thread takes them.
// Returns when the poll is fetched, or soon after the consumer let go of the channel.
void fetch_and_score_streamed(connectors::Connector& connector, const SourceConfig& source,
                              const std::string& cursor, const sentiment::Analyzer& analyzer,
                              size_t part_size, const std::function<void(Fetched&&)>& hand_over);

struct PollOutcome {
  std::string source_id;
  bool ok = false;
  int fetched = 0;
  int inserted = 0;
  int edited = 0;
  int unchanged = 0;
  int removed = 0;   // marked removed: a complete listing lacked them
  int restored = 0;  // had been marked removed and were listed again
  int alerts_queued = 0;
  std::vector<Problem> problems;  // per-record problems of a successful fetch
  std::string error;              // the failure, when !ok
  int health_alerts = 0;          // queued by the poll hook
};

// Stores one Fetched in a single transaction (see above) and updates the poll state: on
// success the cursor and ReviewStore::record_health() (the poll's problems as warnings, the
// arrival of new reviews); on failure the error with its advice, needs_attention for errors a
// person must fix (auth, config). `next_poll_at` is when the scheduler plans the next poll of
// this source. `poll_hook`, when set, runs in that same transaction.
// A poll in parts (`fetched.more`): each part in its own transaction, with its reviews, their
// alerts and the cursor it covers; the last part's transaction records the outcome (a success,
// the removals of a complete listing - compared with the reviews of every part - and the poll
// hook), a failure if a part could not be fetched or stored (the parts before it stay stored
// and the cursor where they left it). Every part's hook sees the poll state from before the
// poll.
PollOutcome store_poll(db::ReviewStore& store, const SourceConfig& source, Fetched&& fetched,
                       const ReviewHook& hook, int64_t now,
                       std::optional<int64_t> next_poll_at = std::nullopt,
                       const PollHook& poll_hook = {});

}  // namespace repwatch::pipeline
