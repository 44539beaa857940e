#include "events/bus/hints.hpp"

namespace events::bus {

std::function<void()> append_hint(NatsClient& nats) {
  return [&nats] { nats.publish(kAppendedSubject, {}); };
}

HintListener::HintListener(NatsClient& nats, std::shared_ptr<Doorbell> bell)
    : bell_(std::move(bell)), sub_(nats, kAppendedSubject, [bell = bell_.get()](std::string_view) { bell->ring(); }) {}

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
