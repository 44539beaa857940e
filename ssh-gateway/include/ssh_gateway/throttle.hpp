#pragma once
// Failed authentications per source address (pure, given the time): after `limit` failures in a
// minute a source is refused until its oldest failure is a minute old, whatever it presents.
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace ssh_gateway {

class Throttle {
 public:
  using Time = std::chrono::steady_clock::time_point;
  explicit Throttle(int limit) : limit_(limit) {}
  // Whether `source` may try (again) at `now`.
  bool allowed(const std::string& source, Time now) {
    std::lock_guard lock(mutex_);
    auto& seen = forget(source, now);
    return static_cast<int>(seen.size()) < limit_;
  }
  void failed(const std::string& source, Time now) {
    std::lock_guard lock(mutex_);
    forget(source, now).push_back(now);
  }

 private:
  std::deque<Time>& forget(const std::string& source, Time now) {
    auto& seen = failures_[source];
    while (!seen.empty() && now - seen.front() >= std::chrono::minutes(1)) seen.pop_front();
    return seen;
  }
  int limit_;
  std::mutex mutex_;
  std::map<std::string, std::deque<Time>> failures_;
};

}  // namespace ssh_gateway
