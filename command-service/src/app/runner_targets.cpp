#include "command_service/app/runner_targets.hpp"

#include "command_service/http/route_support.hpp"
#include "events/bus/runner_targets.hpp"

#include <spdlog/spdlog.h>

namespace command_service {

namespace sandbox = events::sandbox;
using events::SandboxId;

// What the runner converges a sandbox to (events/wire/runner_target.hpp). The image, when the
// sandbox does not run the host userland: the snapshot's id (its files in the object store),
// state (only an active one can be used) and entrypoint. Rows are read first and their
// transaction closed: the image look-up opens its own (one transaction at a time per connection).
events::wire::RunnerTarget runner_target(DbContext& db, const sandbox::State& st) {
  events::wire::RunnerTarget t;
  t.id = st.id;
  t.organization_id = st.organization_id;
  t.desired = st.desired;
  t.actual = st.actual;
  t.resources = st.resources;
  t.env = st.env;
  for (const auto& v : st.volumes) t.volumes.push_back({v.volume_id, v.mount_path});
  t.network = {st.network, st.network_limit, st.outbound_proxy_url};
  // The organization's limit as it is now, not as the sandbox's last policy change recorded it:
  // a create that raced a new limit is still held to it at its next converge.
  if (auto org = load_organization(db, st.organization_id); org && org->exists) t.network.limit = org->network_limit;
  if (st.snapshot != "default") {
    events::wire::TargetImage image;
    image.name = st.snapshot;
    image.state = "missing";
    if (const auto snapshot = snapshot_for_sandbox(db, st.organization_id.str(), st.snapshot)) {
      image.snapshot_id = events::SnapshotId{snapshot->id};
      image.state = snapshot->state;
      if (snapshot->entrypoint.is_array()) {
        for (const auto& part : snapshot->entrypoint.as_array()) {
          if (part.is_string()) image.entrypoint.emplace_back(part.as_string());
        }
      }
    }
    t.image = std::move(image);
  }
  return t;
}

TargetHandOffs::TargetHandOffs(Db& db, events::bus::NatsClient& nats, Loaded on_loaded)
    : db_(db), nats_(nats), on_loaded_(std::move(on_loaded)), thread_([this](const std::stop_token& stop) { run(stop); }) {}

TargetHandOffs::~TargetHandOffs() {
  thread_.request_stop();
  thread_ = {};  // joins
}

void TargetHandOffs::saw(const std::vector<events::RecordedEvent>& seen) {
  bool any = false;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : seen) {
      if (e.routing_key.empty() || e.category() != "sandbox") continue;
      pending_[e.stream_id()] = e.routing_key;
      any = true;
    }
  }
  if (any) ready_.notify_one();
}

void TargetHandOffs::run(const std::stop_token& stop) {
  // This thread's connections are made (and the stream read prepared) now, not on the first
  // hand-off: that took it 80-130 ms in a debug build, past the 20 ms a runner waits for it.
  try {
    db_.run_blocking([](DbContext& db) { (void)load_sandbox(db, SandboxId::generate()); });
  } catch (const std::exception& e) {  // the first hand-off tries again
    spdlog::warn("target hand-offs: cannot connect yet: {}", e.what());
  }
  while (!stop.stop_requested()) {
    std::map<std::string, std::string> work;
    {
      std::unique_lock lock(mutex_);
      if (!ready_.wait(lock, stop, [this] { return !pending_.empty(); })) return;
      work.swap(pending_);
    }
    for (const auto& [sandbox, runner] : work) {
      try {
        hand_off(sandbox, runner);
      } catch (const std::exception& e) {  // the database went away: the runner asks, as before
        spdlog::warn("target hand-off of sandbox {}: {}", sandbox, e.what());
      }
    }
  }
}

void TargetHandOffs::hand_off(const std::string& sandbox, const std::string& runner) {
  const auto id = SandboxId::parse(sandbox);
  const auto to = events::RunnerId::parse(runner);
  if (!id || !to) return;
  db_.run_blocking([&](DbContext& db) {
    auto loaded = load_sandbox(db, *id);
    if (!loaded || loaded->count == 0) return;  // unreadable now: the runner asks
    const auto& st = loaded->state;
    events::wire::TargetHandOff handed{*id, loaded->count - 1, std::nullopt};
    // As the look-up answers: a sandbox deleted, or moved on to another runner, is not this one's.
    const bool hosted = st.exists && st.actual != events::SandboxState::destroyed && st.runner == *to;
    if (hosted) handed.target = runner_target(db, st);
    events::bus::hand_off_target(nats_, *to, handed);
    if (hosted && on_loaded_) on_loaded_(db, st);
  });
}

}  // namespace command_service
