#pragma once
// The snapshot aggregate's decider (pure).
#include "events/catalogue/snapshot.hpp"

namespace events::snapshot {

struct State {
  bool exists = false;
  SnapshotState state = SnapshotState::unknown;
  SnapshotCreated spec;
  std::optional<RunnerId> puller;
  std::int64_t size_bytes = 0;
  std::vector<std::string> layer_digests;
  std::string error_reason;
};

struct Create { SnapshotCreated spec; };
struct ReportPulling { RunnerId runner; };
struct ReportActive { std::int64_t size_bytes; std::vector<std::string> layer_digests; };
struct ReportFailed { std::string reason; };
struct Deactivate {};
struct Activate {};
struct Remove {};
struct ReportRemoved {};

using Command = std::variant<Create, ReportPulling, ReportActive, ReportFailed, Deactivate,
                             Activate, Remove, ReportRemoved>;
using Events = std::vector<SnapshotEvent>;

Result<Events> decide(const Command& command, const State& state);
State evolve(State state, const SnapshotEvent& event);

}  // namespace events::snapshot
