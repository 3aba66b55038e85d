// repwatch/daemon/signals.h - SIGTERM, SIGINT and SIGHUP as readable events (signalfd).
//
//   SignalWatcher signals;   // FIRST thing in main(), before any thread exists: it blocks the
//                            // signals so that every thread inherits the mask and none of them
//                            // is interrupted; the kernel queues them on a file descriptor.
//   poll({signals.fd(), ...});
//   for (int sig : signals.read()) ...   // handled in the main loop, no async-signal handler
//
// The destructor restores the previous signal mask.
#pragma once

#include <signal.h>

#include <vector>

namespace repwatch::daemon {

class SignalWatcher {
 public:
  explicit SignalWatcher(std::vector<int> signals = {SIGTERM, SIGINT, SIGHUP});
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // Non-blocking, close-on-exec; readable when a signal is pending.
  int fd() const { return fd_; }
  // The signals received since the last call, in order (empty if none).
  std::vector<int> read();

 private:
  int fd_ = -1;
  sigset_t old_mask_{};
};

}  // namespace repwatch::daemon
