#pragma once
// The runner aggregate's decider (pure).
#include "events/catalogue/runner.hpp"

namespace events::runner {

struct State {
  bool exists = false;
  RunnerState state = RunnerState::unknown;
  RunnerRegistered registration;
  RunnerLoad load;
  std::int64_t last_heartbeat_ms = 0;
};

struct Register { RunnerRegistered registration; };
struct Heartbeat { std::int64_t at_ms; RunnerLoad load; };
struct Cordon { std::string reason; };
struct Uncordon {};
struct Drain {};
struct Remove {};

using Command = std::variant<Register, Heartbeat, Cordon, Uncordon, Drain, Remove>;
using Events = std::vector<RunnerEvent>;

Result<Events> decide(const Command& command, const State& state);
State evolve(State state, const RunnerEvent& event);

}  // namespace events::runner
