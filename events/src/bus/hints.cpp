#include "events/bus/hints.hpp"

#include <nats/nats.h>

namespace events::bus {

std::function<void()> append_hint(NatsClient& nats) {
  return [&nats] { natsConnection_Publish(nats.connection(), kAppendedSubject, nullptr, 0); };
}

}  // namespace events::bus
