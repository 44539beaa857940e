#include "events/bus/hints.hpp"

#include <nats/nats.h>

namespace events::bus {

std::function<void()> append_hint(NatsClient& nats) {
  return [&nats] { natsConnection_Publish(nats.connection(), kAppendedSubject, nullptr, 0); };
}

namespace {

void on_hint(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  natsMsg_Destroy(msg);
  static_cast<Doorbell*>(closure)->ring();
}

}  // namespace

HintListener::HintListener(NatsClient& nats, std::shared_ptr<Doorbell> bell) : bell_(std::move(bell)) {
  if (natsConnection_Subscribe(&sub_, nats.connection(), kAppendedSubject, &on_hint, bell_.get()) != NATS_OK) {
    sub_ = nullptr;
  }
}

HintListener::~HintListener() {
  if (sub_ == nullptr) return;
  natsSubscription_Drain(sub_);
  natsSubscription_WaitForDrainCompletion(sub_, 2000);
  natsSubscription_Destroy(sub_);
}

Result<Wake> wake_on_appends(const std::string& url, const std::string& client_name) {
  Wake w;
  if (url.empty()) return w;
  auto connected = NatsClient::connect(url, client_name);
  if (!connected) return connected.error();
  w.nats = std::move(*connected);
  w.hints = std::make_unique<HintListener>(*w.nats, w.bell);
  return w;
}

}  // namespace events::bus
