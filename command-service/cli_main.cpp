// daytona: the platform's command-line client (include/command_service/cli/commands.hpp).
#include "command_service/cli/commands.hpp"

#include <map>
#include <string>

extern char** environ;

int main(int argc, char** argv) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    if (const auto eq = kv.find('='); eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return command_service::cli::run(argc, argv, env);
}
