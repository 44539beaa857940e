#pragma once
// Target hand-offs: a core NATS message (no JetStream, no reply) from the API to a runner right
// after an append routed to it: what the log now says the sandbox should be (wire/runner_target.hpp),
// as of a stream version. The runner converges from it instead of asking
// (GET /api/runners/{runner}/sandboxes/{id}). Best effort: a runner that has none for the event
// it got asks the API, as before. The subject names the runner, so a runner hears only its own.
// NATS listens on loopback only and every service on it is the platform's own; code in a sandbox
// cannot reach it (its network namespace has no route to the host's loopback).
#include "events/bus/nats_client.hpp"
#include "events/wire/runner_target.hpp"

#include <functional>
#include <string>

namespace events::bus {

// runner.targets.<runner>
std::string target_subject(const RunnerId& runner);

// Publishes `handed` to `runner` (returns at once; the client's thread sends it).
void hand_off_target(NatsClient& nats, const RunnerId& runner, const wire::TargetHandOff& handed);

// Calls `take` on libnats' thread with every hand-off to `runner` while it lives; a message that
// does not decode strictly is dropped. Check ok(): without a subscription the runner only asks.
class TargetListener {
 public:
  using Take = std::function<void(wire::TargetHandOff)>;
  TargetListener(NatsClient& nats, const RunnerId& runner, Take take);
  bool ok() const { return sub_.ok(); }

 private:
  Take take_;
  CoreSubscription sub_;
};

}  // namespace events::bus
