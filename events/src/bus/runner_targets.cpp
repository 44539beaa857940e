#include "events/bus/runner_targets.hpp"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

namespace events::bus {

std::string target_subject(const RunnerId& runner) { return "runner.targets." + runner.str(); }

void hand_off_target(NatsClient& nats, const RunnerId& runner, const wire::TargetHandOff& handed) {
  const auto text = to_json_text(handed);
  natsConnection_Publish(nats.connection(), target_subject(runner).c_str(), text.data(), static_cast<int>(text.size()));
}

TargetListener::TargetListener(NatsClient& nats, const RunnerId& runner, Take take)
    : take_(std::move(take)), sub_(nats, target_subject(runner).c_str(), [this](std::string_view text) {
        auto handed = from_json_text<wire::TargetHandOff>(text, "a target hand-off");
        if (!handed) {
          spdlog::warn("{}", handed.error().message);
          return;
        }
        take_(std::move(*handed));
      }) {}

}  // namespace events::bus
