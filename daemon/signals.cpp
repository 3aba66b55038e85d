#include "daemon/signals.h"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.h"

namespace repwatch::daemon {

SignalWatcher::SignalWatcher(std::vector<int> signals) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : signals) sigaddset(&mask, sig);
  // pthread_sigmask == sigprocmask for the calling thread; threads created later inherit it.
  if (int rc = pthread_sigmask(SIG_BLOCK, &mask, &old_mask_); rc != 0) {
    throw Error(std::string("cannot block signals: ") + std::strerror(rc));
  }
  fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    throw Error(std::string("signalfd: ") + std::strerror(err));
  }
}

SignalWatcher::~SignalWatcher() {
  if (fd_ >= 0) close(fd_);
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

std::vector<int> SignalWatcher::read() {
  std::vector<int> got;
  signalfd_siginfo info;
  for (;;) {
    ssize_t n = ::read(fd_, &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) {
      got.push_back(static_cast<int>(info.ssi_signo));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN: nothing more pending
  }
  return got;
}

}  // namespace repwatch::daemon
