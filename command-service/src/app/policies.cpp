#include "command_service/app/policies.hpp"

#include <algorithm>

namespace command_service {

Clock system_clock() {
  return [] { return std::chrono::system_clock::now(); };
}

namespace policy {

using events::SandboxState;
namespace sandbox = events::sandbox;

std::optional<events::RunnerId> place(const std::vector<RunnerFacts>& runners, const events::Resources& needs,
                                      Time now) {
  const RunnerFacts* best = nullptr;
  auto load = [](const RunnerFacts& r) { return static_cast<double>(r.sandboxes) / std::max(1, r.max_sandboxes); };
  for (const auto& r : runners) {
    const bool room = r.sandboxes < r.max_sandboxes && r.memory_used_gib + needs.memory_gib <= r.memory_gib &&
                      r.disk_used_gib + needs.disk_gib <= r.disk_gib;
    const bool alive = !r.heartbeat || now - *r.heartbeat <= kRunnerSilence;
    if (!room || !alive) continue;
    if (best == nullptr || load(r) < load(*best) || (load(r) == load(*best) && r.memory_used_gib < best->memory_used_gib)) {
      best = &r;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->id;
}

std::optional<sandbox::Command> schedule(const std::optional<events::RunnerId>& runner, const std::string& region,
                                         Time waiting_since, Time now, std::chrono::seconds wait) {
  if (runner) return sandbox::Command{sandbox::AssignRunner{*runner}};
  if (now - waiting_since < wait) return std::nullopt;
  return sandbox::Command{sandbox::FailScheduling{
      "no runner with free capacity in region '" + region + "' after " + std::to_string(wait.count()) +
      " s; register a runner there or free capacity, then start the sandbox"}};
}

std::optional<sandbox::Command> lifecycle_due(const TimerFacts& f, Time now) {
  using std::chrono::minutes;
  if (f.state == SandboxState::started && f.auto_stop_minutes > 0) {
    const auto idle_since = std::max(f.changed_at, f.last_activity.value_or(f.changed_at));
    if (now - idle_since >= minutes(f.auto_stop_minutes)) {
      return sandbox::Command{sandbox::Stop{false, "auto-stop: no activity for " + std::to_string(f.auto_stop_minutes) +
                                                       " minutes"}};
    }
    return std::nullopt;
  }
  if (f.state != SandboxState::stopped) return std::nullopt;
  // Whichever is due first: a delete before an archive when both are.
  if (f.auto_delete_minutes >= 0 && now - f.changed_at >= minutes(f.auto_delete_minutes)) {
    return sandbox::Command{sandbox::Destroy{f.auto_delete_minutes == 0
                                                 ? std::string("auto-delete: deleted when stopped")
                                                 : "auto-delete: stopped for " + std::to_string(f.auto_delete_minutes) +
                                                       " minutes"}};
  }
  if (f.auto_archive_minutes > 0 && now - f.changed_at >= minutes(f.auto_archive_minutes)) {
    return sandbox::Command{
        sandbox::Archive{"auto-archive: stopped for " + std::to_string(f.auto_archive_minutes) + " minutes"}};
  }
  return std::nullopt;
}

}  // namespace policy
}  // namespace command_service
