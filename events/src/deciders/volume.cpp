#include "events/deciders/volume.hpp"

#include "events/deciders/validate.hpp"

namespace events::volume {
namespace {

using S = VolumeState;

Error invalid(const State& s, std::string_view what) {
  return make_error(ErrorCode::invalid_transition, "cannot " + std::string(what) +
                                                       " a volume in state '" +
                                                       std::string(to_string(s.state)) + "'");
}

struct Decider {
  const State& s;
  Result<Events> operator()(const Create& c) const {
    if (s.exists) return make_error(ErrorCode::already_exists, "volume already exists");
    if (auto bad = validate::name("name", c.spec.name)) return *bad;
    return Events{c.spec};
  }
  Result<Events> operator()(const ReportReady&) const {
    if (s.state == S::ready) return make_error(ErrorCode::duplicate_report, "volume is already ready");
    if (s.state != S::pending_create) return invalid(s, "make ready");
    return Events{VolumeReady{}};
  }
  Result<Events> operator()(const ReportFailed& c) const {
    if (s.state != S::pending_create && s.state != S::pending_delete) return invalid(s, "fail");
    return Events{VolumeFailed{c.reason}};
  }
  Result<Events> operator()(const Delete&) const {
    if (s.state == S::pending_delete) return Events{};
    return Events{VolumeDeleteRequested{}};
  }
  Result<Events> operator()(const ReportDeleted&) const {
    if (s.state != S::pending_delete) return invalid(s, "finish deleting");
    return Events{VolumeDeleted{}};
  }
};

struct Evolver {
  State& s;
  void operator()(const VolumeCreated& e) {
    s.exists = true;
    s.id = e.volume_id;
    s.organization_id = e.organization_id;
    s.name = e.name;
    s.state = S::pending_create;
  }
  void operator()(const VolumeReady&) { s.state = S::ready; }
  void operator()(const VolumeFailed& e) {
    s.state = S::error;
    s.error_reason = e.reason;
  }
  void operator()(const VolumeDeleteRequested&) { s.state = S::pending_delete; }
  void operator()(const VolumeDeleted&) { s.state = S::deleted; }
};

}  // namespace

Result<Events> decide(const Command& command, const State& state) {
  if (!std::holds_alternative<Create>(command)) {
    if (!state.exists || state.state == S::deleted) {
      return make_error(ErrorCode::not_found, "volume does not exist");
    }
  }
  return std::visit(Decider{state}, command);
}

State evolve(State state, const VolumeEvent& event) {
  std::visit(Evolver{state}, event);
  return state;
}

}  // namespace events::volume
