// Random command sequences against the sandbox decider, checking the invariants after each step.
#include "support/sandbox_fixtures.hpp"

#include "support/catch.hpp"

#include <random>

using namespace fixtures;
using S = SandboxState;
using D = DesiredState;

namespace {

Command random_command(std::mt19937& rng, std::int64_t& clock) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const RunnerId& runner = pick(5) == 0 ? kRunner2 : kRunner1;
  switch (pick(16)) {
    case 0: return Create{spec(pick(4) == 0)};
    case 1: return Start{};
    case 2: return Stop{pick(2) == 0, "user"};
    case 3: return Archive{};
    case 4: return pick(3) == 0 ? Command{Destroy{}} : Command{Start{}};
    case 5: return ReplaceLabels{{{"k", std::to_string(pick(3))}}};
    case 6: return SetTimer{static_cast<LifecycleTimer>(pick(3)), pick(4) - 1};
    case 7: return RecordActivity{clock += pick(3)};
    case 8: return Resize{Resources{1 + pick(2), 0, 1 + pick(2), 3}};
    case 9: return AssignRunner{runner};
    case 10: return FailScheduling{"no capacity"};
    case 11: return ReportError{runner, pick(2) == 0 ? "boom" : "crash", pick(4) != 0};
    case 12: return ReportBuildFailed{runner, "bad step"};
    case 13: return ReportOomKilled{runner, 1 << 28, "python3"};
    default: return Report{runner, static_cast<Reported>(pick(11))};
  }
}

void check_invariants(const State& s) {
  if (!s.exists) return;
  INFO("actual " << to_string(s.actual) << ", desired " << to_string(s.desired));
  REQUIRE(s.desired != D::none);
  if (s.actual == S::destroyed) {
    REQUIRE(s.desired == D::destroyed);
    REQUIRE_FALSE(s.runner.has_value());
  }
  if (s.actual == S::stopping) REQUIRE((s.desired == D::stopped || s.desired == D::archived || s.desired == D::destroyed));
  if (s.actual == S::archiving) REQUIRE((s.desired == D::archived || s.desired == D::destroyed));
  if (s.actual == S::starting || s.actual == S::restoring || s.actual == S::pulling_snapshot ||
      s.actual == S::building_snapshot) {
    REQUIRE((s.desired == D::started || s.desired == D::destroyed));
  }
  // A sandbox whose work needs a host has one, except while it waits to be scheduled.
  if (s.actual == S::started || s.actual == S::stopping || s.actual == S::stopped ||
      s.actual == S::starting || s.actual == S::restoring || s.actual == S::archiving ||
      s.actual == S::destroying) {
    REQUIRE(s.runner.has_value());
  }
  if (s.actual == S::archived && s.runner) REQUIRE((s.desired == D::started || s.desired == D::destroyed));
}

}  // namespace

TEST_CASE("sandbox decider: 10,000 random command sequences keep the invariants") {
  std::mt19937 rng(20261129);
  int accepted = 0;
  int rejected = 0;
  int reached_destroyed = 0;
  for (int sequence = 0; sequence < 10000; ++sequence) {
    State state;
    Events log;
    std::int64_t clock = 0;
    const int length = 1 + static_cast<int>(rng() % 60);
    bool destroyed = false;
    for (int step = 0; step < length; ++step) {
      // Most sequences start by creating the sandbox; some never do.
      Command command = (step == 0 && rng() % 10 != 0) ? Command{Create{spec(rng() % 4 == 0)}}
                                                       : random_command(rng, clock);
      const auto before = state;
      const auto decided = decide(command, state);
      if (!decided) {
        ++rejected;
        REQUIRE_FALSE(decided.error().message.empty());
        continue;
      }
      ++accepted;
      REQUIRE_FALSE(destroyed);  // destroyed is terminal: nothing is accepted after it
      // One runner at a time: assigning never replaces an owner.
      if (std::holds_alternative<AssignRunner>(command)) REQUIRE_FALSE(before.runner.has_value());
      for (const auto& e : *decided) {
        state = evolve(std::move(state), e);
        log.push_back(e);
        check_invariants(state);
      }
      if (state.actual == S::destroyed && !destroyed) {
        destroyed = true;
        ++reached_destroyed;
      }
    }
    // Replaying the produced events rebuilds the same state.
    REQUIRE(replay(log) == state);
  }
  // The generator must reach both outcomes and the terminal state, or the test proves little.
  CHECK(accepted > 50000);
  CHECK(rejected > 50000);
  CHECK(reached_destroyed > 1000);
}
