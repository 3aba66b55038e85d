// repwatch/daemon/pipeline.h - one poll of one source, from fetch to commit.
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
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/connector.h"
#include "core/analysis.h"
#include "core/error.h"
#include "db/store.h"
#include "sentiment/analyzer.h"

namespace repwatch::daemon {

// The outcome of connector.fetch() with every review normalized and analyzed.
struct Fetched {
  std::string source_id;
  std::optional<connectors::FetchResult> result;  // set on success
  std::vector<Analysis> analyses;                 // one per result->reviews[i]
  std::optional<SourceError> error;               // set on failure
};

// Fetches, normalizes and analyzes one source. Never throws for a source failure: it is
// returned in Fetched::error (a ConfigError from the connector becomes kConfig). Reviews come
// back oldest first (stable by created_at); one without an external id is dropped and
// reported as a Problem. Each review is analysed by analyze_review() (core/analysis.h): on the
// source's translation when the review is in a language the analyzer does not score.
Fetched fetch_and_score(connectors::Connector& connector, const SourceConfig& source,
                        const std::string& cursor, const sentiment::Analyzer& analyzer);

// Called inside the poll's transaction for every review stored or compared, so that alerts
// are queued atomically with the review. `state` is the poll state before this poll (its
// first_sync_at tells whether this is the source's first sync). Returns alerts queued.
struct StoredEvent {
  // kStored: the poll stored (or compared) the review, see `upsert`. kRemoved: a complete
  // listing of the source lacked the review and it was marked removed; `review` and `analysis`
  // are as stored, `upsert` says kUnchanged with its id and revision.
  enum class Change { kStored, kRemoved };
  const SourceConfig& source;
  const Review& review;
  const Analysis& analysis;
  const db::UpsertResult& upsert;
  const db::PollState& state;
  int64_t poll_started_at;
  // The connection whose transaction is open (store_poll sets &store.database()), so that a
  // hook built before the database was opened (alerts::AlertService::hook()) writes its rows
  // into that very transaction. May be null for hooks bound to a connection themselves.
  const db::Database* db = nullptr;
  Change change = Change::kStored;  // kRemoved: marked removed at poll_started_at
};
using ReviewHook = std::function<int(const StoredEvent&)>;

// Called once per poll, failed or not, inside the transaction that records its outcome in the
// poll state (after the reviews and their hooks, on success), so that what it queues - the
// source-health alerts of alerts/health.h - commits or rolls back with that record: a poll
// that is not recorded raises nothing, one that is cannot be told twice. Returns alerts queued.
struct PollEvent {
  const SourceConfig& source;
  const db::PollState& before;  // the poll state before this poll
  const db::PollState& after;   // as this poll left it (failures, advice, arrivals...)
  bool ok;                      // the poll was stored; else it failed and `after` says why
  int inserted;                 // reviews not seen before that it stored
  int64_t now;
  const db::Database* db;  // the connection whose transaction is open (never null)
};
using PollHook = std::function<int(const PollEvent&)>;

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
PollOutcome store_poll(db::ReviewStore& store, const SourceConfig& source, Fetched&& fetched,
                       const ReviewHook& hook, int64_t now,
                       std::optional<int64_t> next_poll_at = std::nullopt,
                       const PollHook& poll_hook = {});

}  // namespace repwatch::daemon
