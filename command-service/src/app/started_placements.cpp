#include "command_service/app/started_placements.hpp"

#include "command_service/http/route_support.hpp"

namespace command_service {

namespace {
constexpr std::size_t kSweepAbove = 1024;  // entries kept before the expired ones are swept
}  // namespace

StartedPlacements::StartedPlacements(Publish publish, Revoked revoked, std::chrono::milliseconds keep)
    : publish_(std::move(publish)), revoked_(std::move(revoked)), keep_(keep) {}

void StartedPlacements::expect(const events::SandboxId& id, Asker asker, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (expected_.size() >= kSweepAbove) std::erase_if(expected_, [&](const auto& e) { return e.second.until <= now; });
  if (expected_.size() >= kSweepAbove) return;  // bounded: past it, the proxies ask as before
  expected_[id.str()] = Expected{std::move(asker), now + keep_};
}

std::optional<StartedPlacements::Asker> StartedPlacements::take(const events::SandboxId& id, Clock::time_point now) {
  std::optional<Asker> asker;
  {
    std::lock_guard lock(mutex_);
    const auto found = expected_.find(id.str());
    if (found == expected_.end()) return std::nullopt;
    if (found->second.until > now) asker = std::move(found->second.asker);
    expected_.erase(found);
  }
  if (asker && revoked_ && revoked_(asker->actor)) return std::nullopt;
  return asker;
}

void StartedPlacements::started(DbContext& db, const events::sandbox::State& st) {
  if (!st.exists || st.actual != events::SandboxState::started || !st.runner) return;
  const auto asker = take(st.id);
  if (!asker) return;
  auto placement = placement_of(db, st);
  if (placement.runner_endpoint.empty()) return;
  publish_(events::wire::PlacementHandOff{std::move(placement), asker->key_sha256});
}

}  // namespace command_service
