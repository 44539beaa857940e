#pragma once
// API keys this instance has looked up, by their SHA-256: a request whose key is cached is
// authenticated without a database round trip (issue 17, the command path). Revocation is
// pushed: the log's tail (EventFeed, woken by the append hints on NATS, and looking every 250 ms
// without them) hands every new event to saw(); an ApiKeyRevoked drops the key and marks it
// revoked, so that a look-up in a read model that has not caught up yet cannot bring it back
// (revoked() is asked after every database look-up too). An entry
// is used only while the tail has looked within `fresh` (1 s): a tail that stopped — PostgreSQL
// or its thread stuck — turns the cache off rather than let a revoked key through. So a revoked
// key is refused on every instance within a second, and on the instance that revoked it at once.
#include "command_service/http/router.hpp"
#include "events/store/recorded_event.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace command_service {

class KeyCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit KeyCache(std::chrono::milliseconds fresh = std::chrono::milliseconds(1000), std::size_t capacity = 100000);

  std::optional<Identity> find(const std::string& key_hash) const;
  // Whether the tail has seen this identity's key revoked (its actor is "apikey:<key id>").
  bool revoked(const Identity& who) const;
  void put(const std::string& key_hash, const Identity& who);
  // What the log's tail read (possibly nothing): its time, and any revocation.
  void saw(const std::vector<events::RecordedEvent>& events);
  void clear();

 private:
  std::chrono::milliseconds fresh_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, Identity> keys_;
  std::set<std::string> revoked_;  // actors whose key the tail saw revoked
  Clock::time_point looked_{};
};

}  // namespace command_service
