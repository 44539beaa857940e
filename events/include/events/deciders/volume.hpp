#pragma once
// The volume aggregate's decider (pure).
#include "events/catalogue/volume.hpp"

namespace events::volume {

struct State {
  bool exists = false;
  VolumeState state = VolumeState::unknown;
  VolumeId id;
  OrganizationId organization_id;
  std::string name;
  std::string error_reason;
};

struct Create { VolumeCreated spec; };
struct ReportReady {};
struct ReportFailed { std::string reason; };
struct Delete {};
struct ReportDeleted {};

using Command = std::variant<Create, ReportReady, ReportFailed, Delete, ReportDeleted>;
using Events = std::vector<VolumeEvent>;

Result<Events> decide(const Command& command, const State& state);
State evolve(State state, const VolumeEvent& event);

}  // namespace events::volume
