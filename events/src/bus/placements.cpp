#include "events/bus/placements.hpp"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

namespace events::bus {

void hand_off_placement(NatsClient& nats, const wire::PlacementHandOff& handed) {
  const auto text = to_json_text(handed);
  natsConnection_Publish(nats.connection(), kPlacementSubject, text.data(), static_cast<int>(text.size()));
}

namespace {

void on_placement(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  const std::string_view text(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  auto handed = from_json_text<wire::PlacementHandOff>(text, "a placement hand-off");
  natsMsg_Destroy(msg);
  if (!handed) {
    spdlog::warn("{}", handed.error().message);
    return;
  }
  (*static_cast<PlacementListener::Take*>(closure))(*handed);
}

}  // namespace

PlacementListener::PlacementListener(NatsClient& nats, Take take) : take_(std::move(take)) {
  if (natsConnection_Subscribe(&sub_, nats.connection(), kPlacementSubject, &on_placement, &take_) != NATS_OK) {
    sub_ = nullptr;
  }
}

PlacementListener::~PlacementListener() {
  if (sub_ == nullptr) return;
  natsSubscription_Drain(sub_);
  natsSubscription_WaitForDrainCompletion(sub_, 2000);
  natsSubscription_Destroy(sub_);
}

}  // namespace events::bus
