#include "events/deciders/runner.hpp"

namespace events::runner {
namespace {

using S = RunnerState;

Error invalid(const State& s, std::string_view what) {
  return make_error(ErrorCode::invalid_transition, "cannot " + std::string(what) +
                                                       " a runner in state '" +
                                                       std::string(to_string(s.state)) + "'");
}

struct Decider {
  const State& s;
  Result<Events> operator()(const Register& c) const {
    const auto& r = c.registration;
    if (r.capacity.cpu < 1 || r.capacity.memory_gib < 1 || r.capacity.disk_gib < 1 ||
        r.capacity.max_sandboxes < 1) {
      return make_error(ErrorCode::invalid_argument,
                        "runner capacity (cpu, memory, disk, max sandboxes) must all be positive");
    }
    if (r.endpoint.empty()) return make_error(ErrorCode::invalid_argument, "runner endpoint is empty");
    if (r.region.empty()) return make_error(ErrorCode::invalid_argument, "runner region is empty");
    // Re-registration after a restart is normal; it returns the runner to service.
    if (s.exists && s.state != S::removed && s.registration.region == r.region &&
        s.registration.endpoint == r.endpoint && s.registration.capacity == r.capacity &&
        s.state == S::ready) {
      return Events{};
    }
    return Events{r};
  }
  Result<Events> operator()(const Heartbeat& c) const {
    if (s.state == S::removed) return invalid(s, "heartbeat");
    if (c.at_ms <= s.last_heartbeat_ms) {
      return make_error(ErrorCode::late_report, "heartbeat is older than the last one");
    }
    return Events{RunnerHeartbeat{c.at_ms, c.load}};
  }
  Result<Events> operator()(const Cordon& c) const {
    if (s.state == S::cordoned) return Events{};
    if (s.state != S::ready) return invalid(s, "cordon");
    return Events{RunnerCordoned{c.reason}};
  }
  Result<Events> operator()(const Uncordon&) const {
    if (s.state == S::ready) return Events{};
    if (s.state != S::cordoned) return invalid(s, "uncordon");
    return Events{RunnerUncordoned{}};
  }
  Result<Events> operator()(const Drain&) const {
    if (s.state == S::draining) return Events{};
    if (s.state == S::removed) return invalid(s, "drain");
    return Events{RunnerDraining{}};
  }
  Result<Events> operator()(const Remove&) const {
    if (s.state == S::removed) return Events{};
    return Events{RunnerRemoved{}};
  }
};

struct Evolver {
  State& s;
  void operator()(const RunnerRegistered& e) {
    s.exists = true;
    s.registration = e;
    s.state = S::ready;
  }
  void operator()(const RunnerHeartbeat& e) {
    s.last_heartbeat_ms = e.at_ms;
    s.load = e.load;
  }
  void operator()(const RunnerCordoned&) { s.state = S::cordoned; }
  void operator()(const RunnerUncordoned&) { s.state = S::ready; }
  void operator()(const RunnerDraining&) { s.state = S::draining; }
  void operator()(const RunnerRemoved&) { s.state = S::removed; }
};

}  // namespace

Result<Events> decide(const Command& command, const State& state) {
  if (!std::holds_alternative<Register>(command) && !state.exists) {
    return make_error(ErrorCode::not_found, "runner is not registered");
  }
  return std::visit(Decider{state}, command);
}

State evolve(State state, const RunnerEvent& event) {
  std::visit(Evolver{state}, event);
  return state;
}

}  // namespace events::runner
