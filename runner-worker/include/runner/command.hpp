#pragma once
// Running the host tools the runner drives (crun, btrfs, tar, mount helpers): argv in, exit
// status and combined output back, never through a shell.
#include "events/error.hpp"

#include <string>
#include <vector>

namespace runner {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string output;  // stdout and stderr together
};

// Runs argv[0] (searched in PATH) and waits; an error only when it could not be started.
// With `log_file`, stdout and stderr are appended there instead of captured: for commands that
// leave a process behind holding them (crun create: the container's init), which would keep
// a pipe open and the wait from ending.
events::Result<CommandResult> run_command(const std::vector<std::string>& argv, const std::string& cwd = {},
                                          const std::string& log_file = {});

// As run_command, but a non-zero exit is an error naming the command and quoting its output.
events::Result<std::string> run_checked(const std::vector<std::string>& argv, const std::string& cwd = {});

}  // namespace runner
