#pragma once
// What the platform decides on its own, as pure functions of facts and a time (the Clock port
// gives it; tests give a fixed one): where a sandbox is placed, what its lifecycle timers ask,
// when a waiting sandbox gives up. The scheduler (scheduler.cpp) reads the facts and appends
// what these decide. Table-tested in tests/unit/policies_test.cpp.
#include "events/deciders/sandbox.hpp"
#include "projector/queries/runners.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace command_service {

using Time = std::chrono::system_clock::time_point;
// The Clock port: what time it is (main: the system's; tests: theirs).
using Clock = std::function<Time()>;
Clock system_clock();

namespace policy {

// A runner as placement sees it: the runners model's row of a ready runner (its load; the
// heartbeat is none when registered and not yet heard from, which counts as alive).
using RunnerFacts = projector::queries::ReadyRunner;

inline constexpr std::chrono::seconds kRunnerSilence{30};  // a runner not heard from longer is passed over

// The least-loaded of the region's ready runners with room for `needs` and a recent heartbeat.
std::optional<events::RunnerId> place(const std::vector<RunnerFacts>& ready_in_region, const events::Resources& needs,
                                      Time now);

// A sandbox waiting for a runner: placed on `runner`, failed after `wait` with a reason a person
// can act on, or nothing yet.
std::optional<events::sandbox::Command> schedule(const std::optional<events::RunnerId>& runner, const std::string& region,
                                                 Time waiting_since, Time now, std::chrono::seconds wait);

// A sandbox as the lifecycle timers see it.
struct TimerFacts {
  events::SandboxState state = events::SandboxState::unknown;
  int auto_stop_minutes = 0;     // 0: off
  int auto_archive_minutes = 0;  // 0: off
  int auto_delete_minutes = -1;  // -1: off, 0: at once when stopped
  Time changed_at;               // its last change of state (a start, a stop)
  std::optional<Time> last_activity;
};

// What the timers ask now: a started sandbox idle for its auto-stop interval is stopped; a stopped
// one is deleted after its auto-delete interval, else archived after its auto-archive interval.
// Each command carries its reason.
std::optional<events::sandbox::Command> lifecycle_due(const TimerFacts& facts, Time now);

}  // namespace policy
}  // namespace command_service
