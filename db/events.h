// repwatch/db/events.h - what happened to the store during a poll, told to whoever must act on
// it inside the same transaction.
//
//   store_poll() (pipeline/pipeline.h)            the hooks (alerts/engine.h, alerts/health.h)
//   ----------------------------------            -----------------------------------------
//   for each review upserted or marked removed -> ReviewHook(StoredEvent)  new_negative, ...
//   once per poll, failed or not, as recorded  -> PollHook(PollEvent)      source_health
//
// A hook runs while the poll's transaction is open and writes on the connection the event
// names (`db`), so that what it queues (alerts in the outbox) commits or rolls back with what
// it is about: no alert without its review, no review without its alerts, no poll told twice.
// A hook returns the number of alerts it queued. One that throws rolls the poll's transaction
// back, except the poll hook of a failed poll: its work alone is undone and logged, and the
// failure is still recorded.
//
// The events hold references into the caller's frame: valid during the call only.
#pragma once

#include <cstdint>
#include <functional>

#include "config/config.h"
#include "core/analysis.h"
#include "core/review.h"
#include "db/sqlite.h"
#include "db/store.h"

namespace repwatch::db {

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
  const UpsertResult& upsert;
  const PollState& state;
  int64_t poll_started_at;
  // The connection whose transaction is open (store_poll sets &store.database()), so that a
  // hook built before the database was opened (alerts::AlertService::hook()) writes its rows
  // into that very transaction. May be null for hooks bound to a connection themselves.
  const Database* db = nullptr;
  Change change = Change::kStored;  // kRemoved: marked removed at poll_started_at
};
using ReviewHook = std::function<int(const StoredEvent&)>;

// Called once per poll, failed or not, inside the transaction that records its outcome in the
// poll state (after the reviews and their hooks, on success), so that what it queues - the
// source-health alerts of alerts/health.h - commits or rolls back with that record: a poll
// that is not recorded raises nothing, one that is cannot be told twice. Returns alerts queued.
struct PollEvent {
  const SourceConfig& source;
  const PollState& before;  // the poll state before this poll
  const PollState& after;   // as this poll left it (failures, advice, arrivals...)
  bool ok;                  // the poll was stored; else it failed and `after` says why
  int inserted;             // reviews not seen before that it stored
  int64_t now;
  const Database* db;  // the connection whose transaction is open (never null)
};
using PollHook = std::function<int(const PollEvent&)>;

}  // namespace repwatch::db
