#pragma once
// Wake-up hints: after an append, a core NATS message (no JetStream, no reply) tells the loops
// that read the log (relay, projector) there is something new. Best effort: they also poll, so
// a lost hint costs only latency, never an event.
#include "events/bus/nats_client.hpp"
#include "events/doorbell.hpp"

#include <functional>
#include <memory>

struct __natsSubscription;

namespace events::bus {

inline constexpr const char* kAppendedSubject = "events.appended";

// A hook for PgEventStore::on_append that publishes the hint on `nats`.
std::function<void()> append_hint(NatsClient& nats);

// Rings `bell` on every hint while it lives. Check ok(): without a subscription the bell only
// rings by timeout, which is slower but still correct.
class HintListener {
 public:
  HintListener(NatsClient& nats, std::shared_ptr<Doorbell> bell);
  ~HintListener();
  HintListener(const HintListener&) = delete;
  HintListener& operator=(const HintListener&) = delete;
  bool ok() const { return sub_ != nullptr; }

 private:
  std::shared_ptr<Doorbell> bell_;
  __natsSubscription* sub_ = nullptr;
};

}  // namespace events::bus
