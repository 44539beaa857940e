#pragma once
// PID 1 duties in a sandbox besides reaping (children.hpp reaps every orphan: zombies would
// stay charged to the pids limit): the snapshot's entrypoint, and a clean end on SIGTERM.
#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace daemon_init {

// Starts the snapshot's entrypoint as a child in its own session, with PID 1's stdio; the pid,
// or -1 (the reason on stderr) when it cannot be started.
pid_t start_entrypoint(const std::vector<std::string>& argv);
// The sandbox stops: every other process is asked to end (SIGTERM), and killed after `grace`.
void shut_down(std::chrono::milliseconds grace);

}  // namespace daemon_init
