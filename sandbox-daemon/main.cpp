// sandbox-daemon: PID 1 of every sandbox. For now its init duties (daemon/init.hpp); the
// toolbox API comes with the toolbox issue.
#include "daemon/init.hpp"

int main() {
  daemon_init::block_signals();
  return daemon_init::run_init(std::chrono::milliseconds(2000));
}
