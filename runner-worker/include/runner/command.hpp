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
events::Result<CommandResult> run_command(const std::vector<std::string>& argv, const std::string& cwd = {});

// As run_command, but a non-zero exit is an error naming the command and quoting its output.
events::Result<std::string> run_checked(const std::vector<std::string>& argv, const std::string& cwd = {});

}  // namespace runner
