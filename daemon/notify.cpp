#include "daemon/notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <ctime>

namespace repwatch::daemon {

Notifier::Notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  uint64_t usec = 0;
  // 0 (unset 0): keep WATCHDOG_USEC in the environment; > 0 when the watchdog is on for us.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_ = std::chrono::microseconds(usec / 2);
  }
  last_ping_ = Clock::now();
}

void Notifier::send(const std::string& message) const {
  if (!enabled_) return;
  sd_notify(0, message.c_str());
}

namespace {

// STATUS= is one line: newlines would start a new assignment.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

void Notifier::ready(const std::string& status) { send("READY=1\nSTATUS=" + one_line(status)); }

void Notifier::status(const std::string& status) { send("STATUS=" + one_line(status)); }

void Notifier::reloading() {
  // MONOTONIC_USEC lets systemd >= 253 match the reload; 252 ignores it.
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t usec =
      static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  send("RELOADING=1\nSTATUS=Reloading configuration\nMONOTONIC_USEC=" + std::to_string(usec));
}

void Notifier::stopping(const std::string& status) {
  send("STOPPING=1\nSTATUS=" + one_line(status.empty() ? std::string("Stopping") : status));
}

std::optional<Notifier::Clock::time_point> Notifier::watchdog_deadline() const {
  if (!watchdog_) return std::nullopt;
  return last_ping_ + *watchdog_;
}

bool Notifier::watchdog_due(Clock::time_point now) const {
  return watchdog_ && now >= last_ping_ + *watchdog_;
}

void Notifier::ping() const {
  if (watchdog_) send("WATCHDOG=1");
}

void Notifier::extend_timeout(std::chrono::microseconds by) const {
  send("EXTEND_TIMEOUT_USEC=" + std::to_string(by.count()));
}

void Notifier::watchdog(Clock::time_point now) {
  if (!watchdog_) return;
  send("WATCHDOG=1");
  last_ping_ = now;
}

}  // namespace repwatch::daemon
