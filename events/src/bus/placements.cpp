#include "events/bus/placements.hpp"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

namespace events::bus {

void hand_off_placement(NatsClient& nats, const wire::PlacementHandOff& handed) {
  const auto text = to_json_text(handed);
  natsConnection_Publish(nats.connection(), kPlacementSubject, text.data(), static_cast<int>(text.size()));
}

PlacementListener::PlacementListener(NatsClient& nats, Take take)
    : take_(std::move(take)), sub_(nats, kPlacementSubject, [this](std::string_view text) {
        auto handed = from_json_text<wire::PlacementHandOff>(text, "a placement hand-off");
        if (!handed) {
          spdlog::warn("{}", handed.error().message);
          return;
        }
        take_(*handed);
      }) {}

}  // namespace events::bus
