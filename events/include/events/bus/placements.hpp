#pragma once
// Placement hand-offs: a core NATS message (no JetStream, no reply) from the API to the edge
// proxies when the API has just answered a warm-pool claim: where the sandbox runs and which key
// claimed it (wire/proxy.hpp). Best effort: a proxy that missed one asks the API, as before.
// NATS listens on loopback only and every service on it is the platform's own; code in a sandbox
// cannot reach it (its network namespace has no route to the host's loopback).
#include "events/bus/nats_client.hpp"
#include "events/wire/proxy.hpp"

#include <functional>

namespace events::bus {

inline constexpr const char* kPlacementSubject = "proxy.placements";

// Publishes `handed` on `nats` (returns at once; the client's thread sends it).
void hand_off_placement(NatsClient& nats, const wire::PlacementHandOff& handed);

// Calls `take` on libnats' thread with every hand-off while it lives; a message that does not
// decode strictly is dropped. Check ok(): without a subscription the proxy only asks.
class PlacementListener {
 public:
  using Take = std::function<void(const wire::PlacementHandOff&)>;
  PlacementListener(NatsClient& nats, Take take);
  bool ok() const { return sub_.ok(); }

 private:
  Take take_;
  CoreSubscription sub_;
};

}  // namespace events::bus
