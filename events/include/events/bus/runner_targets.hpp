#pragma once
// Target hand-offs (hand_offs.hpp): from the API to a runner right after an append routed to it:
// what the log now says the sandbox should be (wire/runner_target.hpp), as of a stream version.
// The runner converges from it instead of asking (GET /api/runners/{runner}/sandboxes/{id}); a
// runner that has none for the event it got asks, as before. The subject names the runner, so a
// runner hears only its own.
// NATS listens on loopback only and every service on it is the platform's own; code in a sandbox
// cannot reach it (its network namespace has no route to the host's loopback).
#include "events/bus/hand_offs.hpp"
#include "events/wire/runner_target.hpp"

#include <string>

namespace events::bus {

// runner.targets.<runner>
inline std::string target_subject(const RunnerId& runner) { return "runner.targets." + runner.str(); }

inline void hand_off_target(NatsClient& nats, const RunnerId& runner, const wire::TargetHandOff& handed) {
  hand_off(nats, target_subject(runner), handed);
}

class TargetListener : public HandOffListener<wire::TargetHandOff> {
 public:
  TargetListener(NatsClient& nats, const RunnerId& runner, Take take)
      : HandOffListener(nats, target_subject(runner), std::move(take), "a target hand-off") {}
};

}  // namespace events::bus
