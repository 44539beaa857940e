#include "events/deciders/snapshot.hpp"

#include "events/deciders/validate.hpp"

namespace events::snapshot {
namespace {

using S = SnapshotState;

Error invalid(const State& s, std::string_view what) {
  return make_error(ErrorCode::invalid_transition, "cannot " + std::string(what) +
                                                       " a snapshot in state '" +
                                                       std::string(to_string(s.state)) + "'");
}

struct Decider {
  const State& s;
  Result<Events> operator()(const Create& c) const {
    if (s.exists) return make_error(ErrorCode::already_exists, "snapshot already exists");
    if (auto bad = validate::name("name", c.spec.name)) return *bad;
    if (c.spec.image_name.empty()) {
      return make_error(ErrorCode::invalid_argument, "imageName must not be empty");
    }
    if (auto bad = validate::resources(c.spec.resources)) return *bad;
    return Events{c.spec};
  }
  Result<Events> operator()(const ReportPulling& c) const {
    if (s.state == S::pulling) {
      if (s.puller == c.runner) return Events{};  // the same runner again (after a restart): go on
      return make_error(ErrorCode::duplicate_report, "snapshot is already being pulled by another runner");
    }
    if (s.state != S::pending) return invalid(s, "pull");
    return Events{SnapshotPulling{c.runner}};
  }
  Result<Events> operator()(const ReportActive& c) const {
    if (s.state == S::active) return make_error(ErrorCode::duplicate_report, "snapshot is already active");
    if (s.state != S::pending && s.state != S::pulling) return invalid(s, "activate");
    return Events{SnapshotActivated{c.size_bytes, c.layer_digests}};
  }
  Result<Events> operator()(const ReportFailed& c) const {
    if (s.state != S::pending && s.state != S::pulling) return invalid(s, "fail");
    return Events{SnapshotFailed{c.reason}};
  }
  Result<Events> operator()(const Deactivate&) const {
    if (s.state == S::inactive) return Events{};
    if (s.state != S::active) return invalid(s, "deactivate");
    return Events{SnapshotDeactivated{}};
  }
  Result<Events> operator()(const Activate&) const {
    if (s.state == S::active) return Events{};
    if (s.state != S::inactive) return invalid(s, "activate");
    return Events{SnapshotReactivated{}};
  }
  Result<Events> operator()(const Remove&) const {
    if (s.state == S::removing) return Events{};
    return Events{SnapshotRemoveRequested{}};
  }
  Result<Events> operator()(const ReportRemoved&) const {
    if (s.state != S::removing) return invalid(s, "finish removing");
    return Events{SnapshotRemoved{}};
  }
};

struct Evolver {
  State& s;
  void operator()(const SnapshotCreated& e) {
    s.exists = true;
    s.spec = e;
    s.state = S::pending;
  }
  void operator()(const SnapshotPulling& e) {
    s.state = S::pulling;
    s.puller = e.runner_id;
  }
  void operator()(const SnapshotActivated& e) {
    s.state = S::active;
    s.size_bytes = e.size_bytes;
    s.layer_digests = e.layer_digests;
    s.error_reason.clear();
  }
  void operator()(const SnapshotFailed& e) {
    s.state = S::error;
    s.error_reason = e.reason;
  }
  void operator()(const SnapshotDeactivated&) { s.state = S::inactive; }
  void operator()(const SnapshotReactivated&) { s.state = S::active; }
  void operator()(const SnapshotRemoveRequested&) { s.state = S::removing; }
  void operator()(const SnapshotRemoved&) { s.state = S::removed; }
};

}  // namespace

Result<Events> decide(const Command& command, const State& state) {
  if (!std::holds_alternative<Create>(command)) {
    if (!state.exists || state.state == S::removed) {
      return make_error(ErrorCode::not_found, "snapshot does not exist");
    }
  }
  return std::visit(Decider{state}, command);
}

State evolve(State state, const SnapshotEvent& event) {
  std::visit(Evolver{state}, event);
  return state;
}

}  // namespace events::snapshot
