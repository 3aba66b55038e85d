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

#include <cstdint>
#include <functional>
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

}  // namespace repwatch::pipeline
