#pragma once
// The `daytona` command line (src/cli/commands.cpp): login/logout, create, list, info, start,
// stop, archive, delete, exec, preview-url, ssh, snapshot, volume, events, audit, version,
// autocomplete. Tables by default, `-f json|yaml` for scripts; the return value is the exit code.
#include <map>
#include <string>

namespace command_service::cli {

int run(int argc, char** argv, const std::map<std::string, std::string>& env);

}  // namespace command_service::cli
