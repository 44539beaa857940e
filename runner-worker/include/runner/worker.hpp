#pragma once
// The runner-worker's composition root: from Settings, everything a runner does on its host —
// the data image, the engine and its parts, registration, the start-up reconcile, the three
// event consumers (its sandboxes, snapshots, unplaced deletions), the forwarding endpoint and
// the loops that watch the host (heartbeat with toolbox activity; fork bombs and dead PID 1s).
// main only enters the private mount namespace, blocks the signals and waits for one.
#include "events/bus/nats_client.hpp"
#include "events/bus/runner_targets.hpp"
#include "events/bus/subscriber.hpp"
#include "runner/engine.hpp"
#include "runner/forwarder.hpp"
#include "runner/handed_targets.hpp"
#include "runner/net_resolver.hpp"
#include "runner/net_sni_gate.hpp"
#include "runner/reconcile_queue.hpp"
#include "runner/settings.hpp"
#include "runner/snapshots.hpp"

#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

namespace runner {

class Worker {
 public:
  // Call from the private mount namespace (host.hpp), before any other thread.
  static events::Result<std::unique_ptr<Worker>> start(const Settings& settings);
  // Stops consuming and watching; the sandboxes keep running (by design).
  ~Worker();
  // Tells the platform this runner takes no new sandboxes (before a shutdown).
  void drain();
  const std::string& id() const { return id_; }

 private:
  Worker() = default;
  events::Result<void> register_with_platform();
  // Every 5 s: toolbox activity of running sandboxes (defers their auto-stop), then the heartbeat.
  void heartbeat_loop(const std::stop_token& stop);
  // Every second: fork bombs defused; sandboxes whose PID 1 died queued to be reported.
  void guard_loop(const std::stop_token& stop);

  Settings settings_;
  std::string id_;
  std::stop_source stopping_;
  std::unique_ptr<events::bus::NatsClient> nats_;
  std::unique_ptr<ApiClient> api_;
  std::unique_ptr<Reporter> reporter_;
  std::unique_ptr<SandboxFs> fs_;
  std::unique_ptr<Crun> crun_;
  std::unique_ptr<ImageStore> images_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<SnapshotPuller> puller_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<Network> network_;
  std::unique_ptr<Resolver> resolver_;
  std::unique_ptr<SniGate> sni_gate_;
  std::unique_ptr<OomWatch> oom_;
  std::unique_ptr<HandedTargets> handed_;  // before queue_: its threads take from it
  std::unique_ptr<events::bus::TargetListener> hand_offs_;
  std::unique_ptr<ReconcileQueue> queue_;
  std::vector<std::unique_ptr<events::bus::Subscriber>> subscribers_;
  std::vector<std::jthread> threads_;  // last: stopped and joined first
};

}  // namespace runner
