// sandbox-daemon: PID 1 of every sandbox. For now its init duties (daemon/init.hpp) and the
// snapshot's entrypoint (`sandbox-daemon -- ARGV...`); the toolbox API comes with the toolbox issue.
#include "daemon/init.hpp"

#include <string>
#include <vector>

int main(int argc, char** argv) {
  daemon_init::block_signals();
  std::vector<std::string> entrypoint;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      entrypoint.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  if (!entrypoint.empty()) daemon_init::start_entrypoint(entrypoint);
  return daemon_init::run_init(std::chrono::milliseconds(2000));
}
