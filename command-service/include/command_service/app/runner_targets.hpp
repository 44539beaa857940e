#pragma once
// What a runner converges a sandbox to (events/wire/runner_target.hpp), and its hand-off to the
// runner right after an append routed there (events/bus/runner_targets.hpp), so that the runner
// starts work from the event instead of asking GET /api/runners/{runner}/sandboxes/{id} (an API
// thread that, in a burst of creates, waits behind the creates themselves).
#include "command_service/pg/db.hpp"
#include "events/bus/nats_client.hpp"
#include "events/deciders/sandbox.hpp"
#include "events/store/recorded_event.hpp"
#include "events/wire/runner_target.hpp"

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace command_service {

// The target of sandbox `st`: its state, resources, env, volumes and egress from the stream; the
// organization's egress limit as it is now; and, when it does not run the host userland, its
// snapshot (id, state, entrypoint).
events::wire::RunnerTarget runner_target(DbContext& db, const events::sandbox::State& st);

// Follows what the event feed reads (EventFeed::observe). For every sandbox with events routed
// to a runner it loads the sandbox (the aggregate cache: only the new events are read) and, when
// that runner still hosts it, publishes its target as of its newest event. On a thread of its
// own, so neither the feed nor a request waits for it; the events of one sandbox seen together
// are one hand-off. `on_loaded`, when set, is then called with each sandbox loaded that its
// runner still hosts (StartedPlacements hands the proxies a started one from there).
class TargetHandOffs {
 public:
  using Loaded = std::function<void(DbContext&, const events::sandbox::State&)>;
  TargetHandOffs(Db& db, events::bus::NatsClient& nats, Loaded on_loaded = {});
  ~TargetHandOffs();
  TargetHandOffs(const TargetHandOffs&) = delete;
  TargetHandOffs& operator=(const TargetHandOffs&) = delete;

  void saw(const std::vector<events::RecordedEvent>& seen);

 private:
  void run(const std::stop_token& stop);
  void hand_off(const std::string& sandbox, const std::string& runner);

  Db& db_;
  events::bus::NatsClient& nats_;
  Loaded on_loaded_;
  std::mutex mutex_;
  std::condition_variable_any ready_;
  std::map<std::string, std::string> pending_;  // sandbox id → the runner its newest events went to
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace command_service
