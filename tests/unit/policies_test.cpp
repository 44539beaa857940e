// The platform's own decisions (command-service/include/command_service/app/policies.hpp) as tables,
// with a fixed clock: placement, scheduling of a waiting sandbox, the lifecycle timers.
#include "command_service/app/policies.hpp"
#include "support/catch.hpp"

using namespace command_service;
using namespace command_service::policy;
using events::SandboxState;
namespace sandbox = events::sandbox;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

const Time kNow = Time{} + std::chrono::hours(1000);

std::string what(const std::optional<sandbox::Command>& c) {
  if (!c) return "-";
  return std::visit([](const auto& x) -> std::string {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, sandbox::Stop>) return "stop: " + x.reason;
    else if constexpr (std::is_same_v<T, sandbox::Archive>) return "archive: " + x.reason;
    else if constexpr (std::is_same_v<T, sandbox::Destroy>) return "destroy: " + x.reason;
    else if constexpr (std::is_same_v<T, sandbox::AssignRunner>) return "assign";
    else if constexpr (std::is_same_v<T, sandbox::FailScheduling>) return "fail: " + x.reason;
    else return "other";
  }, *c);
}

}  // namespace

TEST_CASE("policies: placement takes the least-loaded live runner with room") {
  const auto a = events::RunnerId::generate();
  const auto b = events::RunnerId::generate();
  const events::Resources needs{1, 0, 2, 3};
  RunnerFacts ra{a, 5, 10, 4, 16, 10, 100, kNow - seconds(5)};
  RunnerFacts rb{b, 2, 10, 4, 16, 10, 100, kNow - seconds(5)};
  CHECK(place({ra, rb}, needs, kNow) == b);                       // fewer sandboxes for its size
  rb.heartbeat = kNow - seconds(31);
  CHECK(place({ra, rb}, needs, kNow) == a);                       // b is silent
  rb.heartbeat.reset();
  CHECK(place({ra, rb}, needs, kNow) == b);                       // registered, not yet beating: alive
  rb.memory_used_gib = 15;
  CHECK(place({ra, rb}, needs, kNow) == a);                       // no memory left on b
  ra.disk_used_gib = 98;
  CHECK(place({ra, rb}, needs, kNow) == std::nullopt);           // nor disk on a
  ra.disk_used_gib = 0;
  ra.sandboxes = 10;
  CHECK(place({ra}, needs, kNow) == std::nullopt);                // full by count
  CHECK(place({}, needs, kNow) == std::nullopt);
}

TEST_CASE("policies: a waiting sandbox is placed, waits, or fails with a reason") {
  const auto r = events::RunnerId::generate();
  CHECK(what(schedule(r, "local", kNow, kNow, seconds(30))) == "assign");
  CHECK(what(schedule(std::nullopt, "local", kNow - seconds(29), kNow, seconds(30))) == "-");
  CHECK_THAT(what(schedule(std::nullopt, "eu", kNow - seconds(30), kNow, seconds(30))),
             Catch::Contains("fail: no runner with free capacity in region 'eu' after 30 s"));
}

TEST_CASE("policies: lifecycle timers, each command with its reason") {
  struct Row {
    const char* name;
    TimerFacts facts;
    std::string expected;
  };
  const std::vector<Row> rows = {
      {"started, idle past auto-stop", {SandboxState::started, 15, 0, -1, kNow - minutes(15), std::nullopt},
       "stop: auto-stop: no activity for 15 minutes"},
      {"started, idle not long enough", {SandboxState::started, 15, 0, -1, kNow - minutes(14), std::nullopt}, "-"},
      {"started, recent activity", {SandboxState::started, 15, 0, -1, kNow - minutes(60), kNow - minutes(1)}, "-"},
      {"started, activity long ago", {SandboxState::started, 15, 0, -1, kNow - minutes(60), kNow - minutes(20)},
       "stop: auto-stop: no activity for 15 minutes"},
      {"started, auto-stop off", {SandboxState::started, 0, 0, -1, kNow - minutes(600), std::nullopt}, "-"},
      {"stopped, delete at once", {SandboxState::stopped, 15, 0, 0, kNow, std::nullopt},
       "destroy: auto-delete: deleted when stopped"},
      {"stopped, delete after 60", {SandboxState::stopped, 15, 0, 60, kNow - minutes(60), std::nullopt},
       "destroy: auto-delete: stopped for 60 minutes"},
      {"stopped, archive due before delete", {SandboxState::stopped, 15, 10, 60, kNow - minutes(10), std::nullopt},
       "archive: auto-archive: stopped for 10 minutes"},
      {"stopped, nothing due yet", {SandboxState::stopped, 15, 10, 60, kNow - minutes(9), std::nullopt}, "-"},
      {"stopped, archive after a week", {SandboxState::stopped, 15, 10080, -1, kNow - minutes(10080), std::nullopt},
       "archive: auto-archive: stopped for 10080 minutes"},
      {"archived: no timer", {SandboxState::archived, 15, 10, 0, kNow - minutes(600), std::nullopt}, "-"},
      {"error: no timer", {SandboxState::error, 15, 10, 0, kNow - minutes(600), std::nullopt}, "-"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(what(lifecycle_due(row.facts, kNow)) == row.expected);
  }
}
