#include "daemon/scheduler.h"

#include <algorithm>

namespace repwatch::daemon {

namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

constexpr Duration kMinBackoffBase = seconds(60);
constexpr Duration kMaxBackoff = std::chrono::hours(6);
constexpr Duration kAttentionBackoff = std::chrono::hours(1);
constexpr Duration kUnavailableBackoff = std::chrono::hours(24);

Duration interval_of(const SourceConfig& source) {
  return seconds(std::max<int64_t>(1, source.interval_seconds));
}

}  // namespace

Schedule::Schedule(uint64_t seed) : rng_(seed) {}

Duration Schedule::jittered(Duration d) {
  // Uniform in [0.9 d, 1.1 d].
  std::uniform_real_distribution<double> factor(0.9, 1.1);
  return Duration(static_cast<int64_t>(static_cast<double>(d.count()) * factor(rng_)));
}

void Schedule::configure(const std::vector<SourceConfig>& sources,
                         const std::map<std::string, Recorded>& recorded, Clock::time_point now,
                         int64_t wall_now) {
  std::map<std::string, Entry> next;
  for (const auto& source : sources) {
    if (!source.enabled) continue;
    auto old = entries_.find(source.id);
    if (old != entries_.end()) {
      Entry e = old->second;
      Duration interval = interval_of(source);
      // A shorter interval takes effect now rather than after the old, longer wait.
      if (!e.in_flight && e.failures == 0 && e.due > now + interval) e.due = now + interval;
      // A reload is likely the fix a person made for a source that waits for one.
      if (!e.in_flight && e.failures > 0 && e.waits_for_a_person) e.due = now;
      e.interval = interval;
      next.emplace(source.id, e);
      continue;
    }
    Entry e;
    e.interval = interval_of(source);
    e.due = now;
    auto r = recorded.find(source.id);
    if (r != recorded.end()) {
      e.failures = r->second.failures;
      e.waits_for_a_person =
          e.failures > 0 && r->second.last_failure && waits_for_a_person(*r->second.last_failure);
    }
    if (r != recorded.end() && r->second.next_poll_at && !e.waits_for_a_person) {
      int64_t wait = *r->second.next_poll_at - wall_now;
      // Never wait longer than one interval (or backoff cap) because of a stale record.
      Duration cap = e.failures > 0 ? std::max(e.interval, kMaxBackoff) : e.interval;
      if (wait > 0) e.due = now + std::min<Duration>(seconds(wait), cap);
    }
    next.emplace(source.id, e);
  }
  entries_ = std::move(next);
}

std::vector<std::string> Schedule::take_due(Clock::time_point now) {
  std::vector<std::pair<Clock::time_point, std::string>> due;
  for (auto& [id, e] : entries_) {
    if (!e.in_flight && e.due <= now) due.emplace_back(e.due, id);
  }
  std::sort(due.begin(), due.end());
  std::vector<std::string> ids;
  for (auto& [t, id] : due) {
    entries_[id].in_flight = true;
    ids.push_back(std::move(id));
  }
  return ids;
}

std::optional<Clock::time_point> Schedule::next_due() const {
  std::optional<Clock::time_point> best;
  for (const auto& [id, e] : entries_) {
    if (e.in_flight) continue;
    if (!best || e.due < *best) best = e.due;
  }
  return best;
}

Clock::time_point Schedule::succeeded(const std::string& source_id, Clock::time_point now) {
  auto it = entries_.find(source_id);
  if (it == entries_.end()) return now;
  Entry& e = it->second;
  e.in_flight = false;
  e.failures = 0;
  e.waits_for_a_person = false;
  e.due = now + jittered(e.interval);
  return e.due;
}

bool Schedule::waits_for_a_person(SourceError::Kind kind) {
  return kind == SourceError::Kind::kAuth || kind == SourceError::Kind::kConfig ||
         kind == SourceError::Kind::kUnavailable;
}

Duration Schedule::backoff(Duration interval, int failures, SourceError::Kind kind,
                           int retry_after_seconds) {
  Duration wait;
  if (kind == SourceError::Kind::kUnavailable) {
    wait = std::max(interval, kUnavailableBackoff);
  } else if (kind == SourceError::Kind::kAuth || kind == SourceError::Kind::kConfig) {
    wait = std::max(interval, kAttentionBackoff);
  } else {
    Duration base = std::min(interval, kMinBackoffBase);
    Duration cap = std::max(interval, kMaxBackoff);
    int doublings = std::clamp(failures - 1, 0, 30);
    wait = base;
    for (int i = 0; i < doublings && wait < cap; ++i) wait *= 2;
    wait = std::min(wait, cap);
  }
  if (retry_after_seconds > 0) wait = std::max<Duration>(wait, seconds(retry_after_seconds));
  return wait;
}

Clock::time_point Schedule::failed(const std::string& source_id, Clock::time_point now,
                                   SourceError::Kind kind, int retry_after_seconds) {
  auto it = entries_.find(source_id);
  if (it == entries_.end()) return now;
  Entry& e = it->second;
  e.in_flight = false;
  e.failures += 1;
  e.waits_for_a_person = waits_for_a_person(kind);
  Duration wait = backoff(e.interval, e.failures, kind, retry_after_seconds);
  Duration j = jittered(wait);
  // Jitter never shortens a wait the source asked for.
  if (retry_after_seconds > 0) j = std::max<Duration>(j, seconds(retry_after_seconds));
  e.due = now + j;
  return e.due;
}

void Schedule::abandoned(const std::string& source_id, Clock::time_point now) {
  auto it = entries_.find(source_id);
  if (it == entries_.end()) return;
  it->second.in_flight = false;
  it->second.due = now;
}

bool Schedule::in_flight(const std::string& source_id) const {
  auto it = entries_.find(source_id);
  return it != entries_.end() && it->second.in_flight;
}

int Schedule::failures(const std::string& source_id) const {
  auto it = entries_.find(source_id);
  return it == entries_.end() ? 0 : it->second.failures;
}

std::optional<Clock::time_point> Schedule::due(const std::string& source_id) const {
  auto it = entries_.find(source_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.due;
}

int64_t Schedule::wall_time(Clock::time_point t, Clock::time_point now, int64_t wall_now) {
  auto delta = std::chrono::duration_cast<seconds>(t - now).count();
  return wall_now + delta;
}

}  // namespace repwatch::daemon
