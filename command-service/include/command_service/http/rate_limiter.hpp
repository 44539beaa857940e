#pragma once
// Fixed-window rate limits per key (source address, organization, ...). Pure apart from the
// mutex; the clock is injected, so tests control time. Per instance: several API instances
// each allow the limit (documented in the README).
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace command_service {

struct RateLimitSettings {
  // Requests per minute; 0 = no limit. Defaults are the seed's.
  int anonymous = 100;       // per source address, without an API key
  int authenticated = 1000;  // per organization
  int failed_auth = 5;       // failed authentications per source address
  int sandbox_create = 10;   // sandbox creates per organization
  int lifecycle = 100;       // start/stop/archive/delete per organization
};

struct RateDecision {
  bool allowed = true;
  int limit = 0;
  int remaining = 0;
  int reset_seconds = 0;  // until the window ends
};

class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit RateLimiter(Clock clock = [] { return std::chrono::steady_clock::now(); }) : clock_(std::move(clock)) {}
  // Counts one request against `key` (when allowed) and says whether it may go on.
  RateDecision take(const std::string& key, int per_minute);
  // Looks without counting (for failed-auth blocks).
  RateDecision peek(const std::string& key, int per_minute);

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    int count = 0;
  };
  RateDecision decide(const std::string& key, int per_minute, bool count);
  Clock clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
  std::chrono::steady_clock::time_point last_sweep_{};
};

}  // namespace command_service
