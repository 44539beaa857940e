#include "daemon/init.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sys/wait.h>
#include <unistd.h>

namespace daemon_init {

pid_t start_entrypoint(const std::vector<std::string>& argv) {
  if (argv.empty()) return -1;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setsid();
    execvp(args[0], args.data());
    std::fprintf(stderr, "sandbox-daemon: cannot start the entrypoint %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  if (pid < 0) std::fprintf(stderr, "sandbox-daemon: fork: %s\n", std::strerror(errno));
  return pid;
}

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
