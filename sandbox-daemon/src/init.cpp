#include "daemon/init.hpp"

#include <csignal>
#include <ctime>
#include <sys/wait.h>
#include <unistd.h>

namespace daemon_init {

namespace {

sigset_t handled() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  return set;
}

void reap() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace

void block_signals() {
  const auto set = handled();
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

int run_init(std::chrono::milliseconds grace) {
  const auto set = handled();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGCHLD) {
      reap();
      continue;
    }
    if (sig == SIGHUP) continue;
    // SIGTERM / SIGINT: the sandbox stops. Everyone else in the namespace first.
    kill(-1, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      const pid_t r = waitpid(-1, nullptr, WNOHANG);
      if (r < 0) return 0;  // no children left
      if (r == 0) {
        timespec pause{0, 10 * 1000 * 1000};
        nanosleep(&pause, nullptr);
      }
    }
    kill(-1, SIGKILL);
    reap();
    return 0;
  }
}

}  // namespace daemon_init
