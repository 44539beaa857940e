#pragma once
// Child processes and ports for integration tests. Children get SIGKILL if the test process
// dies (PR_SET_PDEATHSIG), so a crashed test leaves no server behind.
#include <chrono>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace testing_support {

class ChildProcess {
 public:
  ChildProcess() = default;
  // Starts argv[0] (searched in PATH) with argv; as `run_as_user` when given and we are root.
  ChildProcess(std::vector<std::string> argv, const std::string& run_as_user = {},
               const std::string& log_file = {});
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Sends `signal` and waits up to `timeout_ms` for the exit (then SIGKILL). Returns the status.
  int stop(int signal, int timeout_ms = 10000);
  // Waits up to `timeout_ms` for the child to exit by itself (then SIGKILL). Returns the status.
  int wait(int timeout_ms);

 private:
  pid_t pid_ = -1;
};

// Runs a command to completion; returns its exit status (throws when it cannot start).
int run_command(std::vector<std::string> argv, const std::string& run_as_user = {},
                const std::string& log_file = {});

int free_port();
// Waits until something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port, int timeout_ms);
// Polls `done` every 10 ms until it holds or `limit` passes; its last answer.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(60));
// A new directory under $TMPDIR (or /tmp), removed by the caller.
std::string make_temp_dir(const std::string& prefix);
void remove_tree(const std::string& path);

}  // namespace testing_support
