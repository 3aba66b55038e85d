// repwatch/alerts/sender.h - delivers the outbox.
//
//   Sender sender(alerts_config, db);          // channels built from the config
//   SendStats s = sender.deliver_due(now);     // call every minute or so, and after a poll
//
// For each pending delivery whose time has come, oldest first:
//   - non-urgent during quiet hours: held until they end (no attempt counted);
//   - an email to a recipient who already got max_emails_per_hour in the last hour: moved to
//     the digest queue (never dropped);
//   - else claimed (a lease, so a second sender skips it), rendered from the alert's snapshot
//     and sent, and the outcome committed at once: sent (right after the server accepted),
//     failed (the recipient's own refusal; a message that cannot be built), or retried later
//     (anything else: an outage, a timeout, a 4xx) until retry_for has passed since it was
//     queued, then failed.
// Retries back off exponentially from retry_initial to retry_max, each wait lengthened by a
// random 0-25% so that deliveries that failed together do not retry in lockstep.
//
// A relay that is down (no connection, a timeout, a refusal at the greeting, EHLO, STARTTLS,
// AUTH, MAIL FROM or DATA: SendResult::channel_down) is backed off as a whole: the other due
// deliveries of that channel are not tried against it; they wait, with the one that failed,
// until the relay's backoff ends (retry_initial doubling per failure in a row, up to retry_max,
// with the same jitter), and then the oldest goes first. So an outage costs one attempt (one
// timeout at most) per channel per backoff step, however long the backlog, and loses nothing.
//
// A round (deliver_due) can be bounded: no delivery starts after Round::deadline, and
// Round::stop aborts the transfer in flight (that delivery is retried by the next round, no
// attempt counted) and ends the round.
//
// Digests: when a recipient's batched deliveries are due (the daily/weekly digest time, or an
// hourly budget freeing up), one digest alert is queued for them in a transaction that marks
// the batched deliveries `batched` into it; it is then delivered like any other email.
//
// The network I/O happens outside any transaction. A Sender uses its Database connection from
// one thread; the daemon gives it a connection and a thread of its own (daemon/delivery.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stop_token>
#include <string>

#include "alerts/channel.h"
#include "alerts/rules.h"
#include "db/outbox_store.h"
#include "db/sqlite.h"

namespace repwatch::alerts {

struct SendStats {
  int sent = 0;
  int retried = 0;      // temporary failure, will retry
  int failed = 0;       // permanent failure or gave up
  int deferred = 0;     // moved to the digest queue by the hourly limit
  int held = 0;         // quiet hours
  int digests = 0;      // digests queued
  int waiting = 0;      // not tried: their relay is backed off
  int interrupted = 0;  // aborted by Round::stop
  bool more = false;    // the round ended (deadline, stop, limit) with deliveries still due
};

// Bounds of one deliver_due() round.
struct Round {
  int limit = 500;  // deliveries looked at
  // No delivery starts after this (one already running finishes or times out).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::stop_token stop;  // aborts the transfer in flight and ends the round
};

class Sender {
 public:
  // Channels from the config: "email" (SMTP or .eml) and, when configured, "webhook".
  Sender(const AlertsConfig& config, const db::Database& db);
  // Explicit channels by name (tests, or a custom transport).
  Sender(const AlertsConfig& config, const db::Database& db,
         std::map<std::string, std::unique_ptr<Channel>> channels);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Queues due digests, then sends every due delivery (at most `limit`).
  SendStats deliver_due(int64_t now, int limit = 500);
  SendStats deliver_due(int64_t now, const Round& round);

  // Sends one delivery now, whatever its schedule, quiet hours or hourly limit (the CLI's
  // `alerts retry` and `alerts test`). Throws Error if it does not exist or is not pending.
  SendResult deliver_one(int64_t delivery_id, int64_t now);

  // When deliver_due() next has something to do (nullopt: nothing pending).
  std::optional<int64_t> next_due() const;

 private:
  // A channel whose relay is down: not tried again before `until`.
  struct Backoff {
    int failures = 0;  // in a row
    int64_t until = 0;
    std::string error;
  };

  SendResult attempt(const db::DeliveryRow& d, int64_t now, SendStats& stats,
                     const std::stop_token& stop);
  // The relay of d's channel is down: backs it off, holds its other due deliveries until
  // then (failing those older than retry_for). Returns when it is tried again.
  int64_t hold_channel(const db::DeliveryRow& d, const SendResult& result, int64_t now,
                       SendStats& stats);
  void commit_sent(const db::DeliveryRow& d, int64_t now, const std::string& via);
  int queue_digests(int64_t now);
  // retry_initial doubled per failure up to retry_max, plus 0-25% jitter.
  int64_t backoff(int failures);

  AlertsConfig config_;
  db::OutboxStore outbox_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;
  std::map<db::DeliveryChannel, Backoff> down_;
  std::mt19937_64 rng_;
};

}  // namespace repwatch::alerts
