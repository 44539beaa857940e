#include "command_service/http/rate_limiter.hpp"

namespace command_service {

RateDecision RateLimiter::take(const std::string& key, int per_minute) { return decide(key, per_minute, true); }
RateDecision RateLimiter::peek(const std::string& key, int per_minute) { return decide(key, per_minute, false); }

RateDecision RateLimiter::decide(const std::string& key, int per_minute, bool count) {
  if (per_minute <= 0) return {true, 0, 0, 0};
  constexpr auto kWindow = std::chrono::minutes(1);
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  if (now - last_sweep_ > kWindow) {  // forget windows that ended, so keys do not pile up
    for (auto it = windows_.begin(); it != windows_.end();) {
      it = now - it->second.start >= kWindow ? windows_.erase(it) : std::next(it);
    }
    last_sweep_ = now;
  }
  auto& w = windows_[key];
  if (w.count == 0 || now - w.start >= kWindow) {
    w.start = now;
    w.count = 0;
  }
  const bool allowed = w.count < per_minute;
  if (allowed && count) ++w.count;
  const auto reset = std::chrono::duration_cast<std::chrono::seconds>(w.start + kWindow - now).count();
  return {allowed, per_minute, std::max(0, per_minute - w.count), static_cast<int>(std::max<long long>(1, reset))};
}

}  // namespace command_service
