#pragma once
// Child processes of the daemon (PID 1): spawned in their own process group, with a pipe for
// stdin and one for stdout+stderr. One SIGCHLD handler reaps every child — the daemon's own and
// the orphans a sandbox leaves behind — and hands each exit status to whoever waits for it.
#include <boost/asio.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace daemon_tb {

namespace asio = boost::asio;

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] searched in PATH
  std::vector<std::string> env;   // KEY=VALUE, added to (and overriding) the daemon's own
  std::string cwd;
  bool stdin_pipe = true;         // else /dev/null
  bool is_activity = true;        // a toolbox process: while it runs, the sandbox is in use
  std::string stdout_file;        // when set: stdout and stderr go to these files (appended),
  std::string stderr_file;        // not to the pipe (output_fd is then -1)
  bool own_session = false;       // setsid instead of only a process group
  bool separate_stderr = false;   // stderr to a pipe of its own (stderr_fd), not with stdout
};

struct Spawned {
  pid_t pid = -1;
  int stdin_fd = -1;   // write end, or -1
  int output_fd = -1;  // read end: stdout and stderr together (stdout only with separate_stderr)
  int stderr_fd = -1;  // read end of stderr, with separate_stderr
  std::string error;   // why it could not start (then pid is -1)
};

class Children {
 public:
  explicit Children(asio::io_context& io);
  Spawned spawn(const SpawnSpec& spec);
  // Called once with the wait status when `pid` exits (at once if it already did).
  void on_exit(pid_t pid, std::function<void(int status)> callback);
  // Toolbox processes still running (not the sessions' idle shells): the sandbox is in use.
  std::size_t active() const { return active_; }

 private:
  void wait_signal();
  void reap();
  asio::signal_set signals_;
  std::map<pid_t, std::function<void(int)>> waiting_;
  std::map<pid_t, int> exited_;  // exits nobody asked for yet (kept briefly)
  std::map<pid_t, bool> running_;  // pid -> counts as activity
  std::size_t active_ = 0;
};

// The daemon's environment with `extra` (KEY=VALUE) added, replacing variables of the same name.
std::vector<std::string> environment_with(const std::vector<std::string>& extra);

// The exit code a shell would show: the code, or 128 + the signal.
int exit_code_of(int status);

}  // namespace daemon_tb
