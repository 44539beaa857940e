#pragma once
// PID 1 duties in a sandbox: every orphan is reaped (zombies would stay charged to the pids
// limit and fill it for good), and SIGTERM ends the sandbox cleanly: every process is asked to
// stop, then killed after a grace period.
#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace daemon_init {

// Blocks the signals PID 1 handles; call first, before any thread starts (threads inherit it).
void block_signals();
// Starts the snapshot's entrypoint as a child in its own session, with PID 1's stdio; the pid,
// or -1 (the reason on stderr) when it cannot be started.
pid_t start_entrypoint(const std::vector<std::string>& argv);
// Waits for signals until SIGTERM/SIGINT, reaping children; returns the exit code.
int run_init(std::chrono::milliseconds grace);

}  // namespace daemon_init
