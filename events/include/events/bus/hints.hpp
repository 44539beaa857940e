#pragma once
// Wake-up hints: after an append, a core NATS message (no JetStream, no reply) tells the loops
// that read the log (relay, projector) there is something new. Best effort: they also poll, so
// a lost hint costs only latency, never an event.
#include "events/bus/nats_client.hpp"
#include "events/doorbell.hpp"

#include <functional>
#include <memory>

namespace events::bus {

inline constexpr const char* kAppendedSubject = "events.appended";

// A hook for PgEventStore::on_append that publishes the hint on `nats`.
std::function<void()> append_hint(NatsClient& nats);

// Rings `bell` on every hint while it lives. Check ok(): without a subscription the bell only
// rings by timeout, which is slower but still correct.
class HintListener {
 public:
  HintListener(NatsClient& nats, std::shared_ptr<Doorbell> bell);
  bool ok() const { return sub_.ok(); }

 private:
  std::shared_ptr<Doorbell> bell_;
  CoreSubscription sub_;
};

// A doorbell rung by the append hints of the NATS server at `url`, for a process that follows
// the log (webhook-delivery, kafka-export); with an empty url, a bell nobody rings (the follower
// polls). Holds the connection as long as it lives.
struct Wake {
  std::shared_ptr<Doorbell> bell = std::make_shared<Doorbell>();
  std::unique_ptr<NatsClient> nats;
  std::unique_ptr<HintListener> hints;
};
Result<Wake> wake_on_appends(const std::string& url, const std::string& client_name);

}  // namespace events::bus
