// runner-worker: one per compute host (worker.hpp does the work). main enters the private mount
// namespace (crun, overlays) and blocks the signals before any thread exists, reads the declared
// settings (`runner-worker --help`), starts the worker and waits for SIGTERM/SIGINT, then drains.
#include "runner/host.hpp"
#include "runner/worker.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  runner::Settings settings;
  events::settings::Declared declared("runner-worker");
  runner::declare(declared, settings);
  if (auto code = declared.load_for_main(argc, argv)) return *code;
  // First, before any thread: the private mount namespace and the blocked signals.
  if (auto ns = runner::enter_private_mount_namespace(); !ns) {
    std::cerr << "runner-worker: " << ns.error().message << "\n";
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto worker = runner::Worker::start(settings);
  if (!worker) {
    std::cerr << "runner-worker: " << worker.error().message << "\n";
    return worker.error().code == events::ErrorCode::invalid_argument ? 2 : 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("runner {}: draining (signal {})", (*worker)->id(), sig);
  (*worker)->drain();
  return 0;
}
