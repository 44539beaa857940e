#pragma once
// PID 1 duties in a sandbox besides reaping (children.hpp reaps every orphan: zombies would
// stay charged to the pids limit) and the entrypoint (sessions.hpp): a clean end on SIGTERM.
#include <chrono>

namespace daemon_init {

// The sandbox stops: every other process is asked to end (SIGTERM), and killed after `grace`.
void shut_down(std::chrono::milliseconds grace);

}  // namespace daemon_init
