#pragma once
// Wake-up hints: after an append, a core NATS message (no JetStream, no reply) tells the relay
// there is something to publish. Best effort: the relay also polls, so a lost hint costs only
// latency, never an event.
#include "events/bus/nats_client.hpp"

#include <functional>

namespace events::bus {

inline constexpr const char* kAppendedSubject = "events.appended";

// A hook for PgEventStore::on_append that publishes the hint on `nats`.
std::function<void()> append_hint(NatsClient& nats);

}  // namespace events::bus
