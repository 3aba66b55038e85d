// repwatch/daemon/notify.h - telling systemd how the daemon is doing (Type=notify).
//
//   Notifier n;                          // reads NOTIFY_SOCKET / WATCHDOG_USEC once
//   n.ready("3 sources, polling");      // READY=1 + STATUS=
//   n.status("last cycle 12:00:03 ...");
//   if (n.watchdog_due(now)) n.watchdog();  // WATCHDOG=1 at half of WATCHDOG_USEC
//   n.reloading(); ... n.ready(status);  // around a SIGHUP reload (systemd 252 style)
//   n.stopping();                        // STOPPING=1
//   n.extend_timeout(30s);               // EXTEND_TIMEOUT_USEC= (a long migration at start)
//
// Outside systemd (no NOTIFY_SOCKET) every call is a cheap no-op. Uses sd_notify(3) from
// libsystemd; failures to send are ignored, as systemd's own daemons do.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace repwatch::daemon {

class Notifier {
 public:
  using Clock = std::chrono::steady_clock;

  Notifier();

  bool enabled() const { return enabled_; }

  void ready(const std::string& status);
  void status(const std::string& status);
  void reloading();
  void stopping(const std::string& status = "");

  // The watchdog ping interval (half of WATCHDOG_USEC), nullopt when no watchdog is set.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }
  // When the next WATCHDOG=1 is due; nullopt without a watchdog.
  std::optional<Clock::time_point> watchdog_deadline() const;
  bool watchdog_due(Clock::time_point now) const;
  // Sends WATCHDOG=1 and schedules the next ping.
  void watchdog(Clock::time_point now = Clock::now());
  // Sends WATCHDOG=1 only; safe from any thread (see Heartbeat in service.cpp).
  void ping() const;
  // EXTEND_TIMEOUT_USEC=: systemd waits `by` longer for the state the service is in (starting,
  // reloading, stopping) before it times out; send again within `by` to go on. Safe from any
  // thread.
  void extend_timeout(std::chrono::microseconds by) const;

 private:
  void send(const std::string& message) const;

  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_;
  Clock::time_point last_ping_{};
};

}  // namespace repwatch::daemon
