#include "daemon/init.hpp"

#include <csignal>
#include <ctime>
#include <sys/wait.h>
#include <unistd.h>

namespace daemon_init {

void shut_down(std::chrono::milliseconds grace) {
  kill(-1, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t r = waitpid(-1, nullptr, WNOHANG);
    if (r < 0) return;  // no children left
    if (r == 0) {
      timespec pause{0, 10 * 1000 * 1000};
      nanosleep(&pause, nullptr);
    }
  }
  kill(-1, SIGKILL);
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace daemon_init
