// repwatch/daemon/scheduler.h - when each source is polled next.
//
// Pure bookkeeping, no threads and no clock of its own: the daemon's main loop asks which
// sources are due, starts their fetches, reports each outcome, and sleeps until next_due().
//
//   Schedule s(seed);
//   s.configure(config.sources, db_states, steady_now, wall_now);   // at start and on reload
//   for (auto& id : s.take_due(now)) start_fetch(id);               // marks them in flight
//   s.succeeded(id, now) / s.failed(id, now, kind, retry_after)      // gives the next due time
//   sleep until *s.next_due() (or a signal)
//
// Policy:
// - A healthy source is polled every `interval`, plus or minus 10% jitter so that sources with
//   the same interval drift apart instead of hitting the network together.
// - At start a source is due at the next_poll_at its poll state recorded (so a restart does not
//   re-poll everything), or at once if that is past or unknown.
// - A failing source backs off exponentially: min(interval, 60s) doubled per failure in a row,
//   capped at max(interval, 6h). A source that asked us to wait (Retry-After) waits at least
//   that long. Auth and config errors need a person, so they retry no sooner than
//   max(interval, 1h). A source the site says is unavailable for good (SourceError
//   kUnavailable: a deprecated edge, a business the API does not serve) is asked again once a
//   day, max(interval, 24h). The backoff also gets the 10% jitter.
// - A source waiting for a person (its last failure was auth, config or unavailable) is due at
//   once after a reload (SIGHUP) or a restart: that is how the person's fix - a new token, a
//   corrected id - is tried without waiting out the backoff.
// - One fetch per source at a time: a source in flight is never due.
//
// Times are steady-clock time points (immune to wall-clock jumps); wall_time() converts one
// for the poll state's next_poll_at.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace repwatch::daemon {

using Clock = std::chrono::steady_clock;
using Duration = std::chrono::milliseconds;

class Schedule {
 public:
  explicit Schedule(uint64_t seed = std::random_device{}());

  // Sets the enabled sources to schedule. Sources already known keep their due time, failure
  // count and in-flight mark (a reload does not reset them) but take the new interval;
  // sources no longer configured are forgotten; new ones are due at their recorded
  // next_poll_at (from `recorded`) or at once.
  struct Recorded {                       // from the source's poll state in the database
    std::optional<int64_t> next_poll_at;  // wall-clock epoch seconds
    int failures = 0;
    std::optional<SourceError::Kind> last_failure;  // kind of the last error, when failing
  };
  void configure(const std::vector<SourceConfig>& sources,
                 const std::map<std::string, Recorded>& recorded, Clock::time_point now,
                 int64_t wall_now);

  // The sources due at `now` and not in flight, earliest first; each is marked in flight.
  std::vector<std::string> take_due(Clock::time_point now);
  // The earliest due time of a source not in flight; nullopt when there is none.
  std::optional<Clock::time_point> next_due() const;

  // Reports the end of a fetch started by take_due(); returns the source's next due time.
  Clock::time_point succeeded(const std::string& source_id, Clock::time_point now);
  Clock::time_point failed(const std::string& source_id, Clock::time_point now,
                           SourceError::Kind kind, int retry_after_seconds);
  // A fetch whose result was dropped (e.g. its config changed under it): due again at once,
  // failure count unchanged.
  void abandoned(const std::string& source_id, Clock::time_point now);

  // The delay before the next try after `failures` failures in a row (without jitter).
  static Duration backoff(Duration interval, int failures, SourceError::Kind kind,
                          int retry_after_seconds);
  // Does a failure of this kind wait for a person (auth, config, unavailable)?
  static bool waits_for_a_person(SourceError::Kind kind);

  bool known(const std::string& source_id) const { return entries_.count(source_id) != 0; }
  bool in_flight(const std::string& source_id) const;
  int failures(const std::string& source_id) const;
  std::optional<Clock::time_point> due(const std::string& source_id) const;
  size_t size() const { return entries_.size(); }

  // The wall-clock epoch seconds of a steady time point, given a (steady, wall) pair "now".
  static int64_t wall_time(Clock::time_point t, Clock::time_point now, int64_t wall_now);

 private:
  struct Entry {
    Duration interval{};
    Clock::time_point due{};
    int failures = 0;
    bool in_flight = false;
    bool waits_for_a_person = false;  // the last failure did (see the policy above)
  };
  Duration jittered(Duration d);

  std::map<std::string, Entry> entries_;
  std::mt19937_64 rng_;
};

}  // namespace repwatch::daemon
