#pragma once
// The warm pool's decider (pure): an operator sets a pool's size.
#include "events/catalogue/warm_pool.hpp"

namespace events::warm_pool {

// The most warm sandboxes one pool may keep (each is a running sandbox on a runner).
inline constexpr int kMaxSize = 100;

struct State {
  bool exists = false;
  WarmPoolSized pool;
};

struct SetSize {
  std::string snapshot;
  std::string region;
  Resources resources;
  int size = 0;
};

using Command = std::variant<SetSize>;
using Events = std::vector<WarmPoolEvent>;

Result<Events> decide(const Command& command, const State& state);
State evolve(State state, const WarmPoolEvent& event);

}  // namespace events::warm_pool
