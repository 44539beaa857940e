#pragma once
// PID 1 duties in a sandbox: every orphan is reaped (zombies would stay charged to the pids
// limit and fill it for good), and SIGTERM ends the sandbox cleanly: every process is asked to
// stop, then killed after a grace period.
#include <chrono>

namespace daemon_init {

// Blocks the signals PID 1 handles; call first, before any thread starts (threads inherit it).
void block_signals();
// Waits for signals until SIGTERM/SIGINT, reaping children; returns the exit code.
int run_init(std::chrono::milliseconds grace);

}  // namespace daemon_init
