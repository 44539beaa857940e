#include "runner/handed_targets.hpp"

namespace runner {

HandedTargets::HandedTargets(std::chrono::milliseconds wait, std::chrono::milliseconds keep) : wait_(wait), keep_(keep) {}

void HandedTargets::saw(const std::string& sandbox, std::int64_t version) {
  std::lock_guard lock(mutex_);
  auto& e = entries_[sandbox];
  e.seen = std::max(e.seen, version);
}

void HandedTargets::take(events::wire::TargetHandOff handed) {
  if (handed.target && handed.target->id != handed.sandbox_id) return;  // not one sandbox's: unusable
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    forget_old(now);
    auto& e = entries_[handed.sandbox_id.str()];
    if (e.handed && e.handed->version > handed.version) return;
    e.handed = std::move(handed);
    e.at = now;
  }
  arrived_.notify_all();
}

std::optional<events::wire::TargetHandOff> HandedTargets::claim(const std::string& sandbox, const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  auto it = entries_.find(sandbox);
  if (it == entries_.end()) return std::nullopt;
  const std::int64_t seen = it->second.seen;
  auto answers = [&] {
    auto found = entries_.find(sandbox);
    return found != entries_.end() && found->second.handed && found->second.handed->version >= seen &&
           Clock::now() - found->second.at < keep_;
  };
  // Only a reconcile an event started waits: its hand-off left the API with the event.
  if (seen >= 0 && !answers()) arrived_.wait_for(lock, stop, wait_, answers);
  if (!answers()) {
    entries_.erase(sandbox);  // the look-up answers this time; what comes later is for later events
    return std::nullopt;
  }
  auto node = entries_.extract(sandbox);
  return std::move(node.mapped().handed);
}

void HandedTargets::forget_old(Clock::time_point now) {
  if (entries_.size() < 256) return;
  std::erase_if(entries_, [&](const auto& kv) { return !kv.second.handed || now - kv.second.at >= keep_; });
}

}  // namespace runner
