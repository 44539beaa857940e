#pragma once
// Placement hand-offs (hand_offs.hpp): from the API to the edge proxies when the API has just
// answered a warm-pool claim: where the sandbox runs and which key claimed it (wire/proxy.hpp). A
// proxy that missed one asks the API, as before.
// NATS listens on loopback only and every service on it is the platform's own; code in a sandbox
// cannot reach it (its network namespace has no route to the host's loopback).
#include "events/bus/hand_offs.hpp"
#include "events/wire/proxy.hpp"

namespace events::bus {

inline constexpr const char* kPlacementSubject = "proxy.placements";

inline void hand_off_placement(NatsClient& nats, const wire::PlacementHandOff& handed) {
  hand_off(nats, kPlacementSubject, handed);
}

class PlacementListener : public HandOffListener<wire::PlacementHandOff> {
 public:
  PlacementListener(NatsClient& nats, Take take)
      : HandOffListener(nats, kPlacementSubject, std::move(take), "a placement hand-off") {}
};

}  // namespace events::bus
