#include "command_service/http/key_cache.hpp"

#include "events/catalogue/organization.hpp"

#include <spdlog/spdlog.h>

namespace command_service {

KeyCache::KeyCache(std::chrono::milliseconds fresh, std::size_t capacity) : fresh_(fresh), capacity_(capacity) {}

std::optional<Identity> KeyCache::find(const std::string& key_hash) const {
  std::lock_guard lock(mutex_);
  if (Clock::now() - looked_ > fresh_) return std::nullopt;  // the tail is behind: ask the database
  auto it = keys_.find(key_hash);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

bool KeyCache::revoked(const Identity& who) const {
  std::lock_guard lock(mutex_);
  return revoked_.contains(who.actor);
}

void KeyCache::put(const std::string& key_hash, const Identity& who) {
  std::lock_guard lock(mutex_);
  if (revoked_.contains(who.actor)) return;
  if (keys_.size() >= capacity_) keys_.clear();  // bounded; refilled by the next look-ups
  keys_[key_hash] = who;
}

void KeyCache::saw(const std::vector<events::RecordedEvent>& events) {
  std::lock_guard lock(mutex_);
  for (const auto& e : events) {
    if (e.type != events::ApiKeyRevoked::kType) continue;
    auto decoded = events::decode<events::OrganizationEvent>(e);
    const auto* revoked = decoded ? std::get_if<events::ApiKeyRevoked>(&*decoded) : nullptr;
    if (revoked == nullptr) {
      keys_.clear();  // cannot tell which: forget them all
      spdlog::warn("key cache: an ApiKeyRevoked at {} could not be read", e.position.value());
      continue;
    }
    const auto actor = "apikey:" + revoked->key_id.str();
    revoked_.insert(actor);
    std::erase_if(keys_, [&](const auto& entry) { return entry.second.actor == actor; });
  }
  looked_ = Clock::now();
}

void KeyCache::clear() {
  std::lock_guard lock(mutex_);
  keys_.clear();
}

}  // namespace command_service
