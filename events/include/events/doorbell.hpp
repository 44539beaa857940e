#pragma once
// A wake-up shared by loops that poll the log: ring() wakes every waiter at once. Waiters pass
// the ring count they saw before their last look at the log, so a ring that came in between
// is never missed; the timeout keeps them polling when rings are lost (they are best effort).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>

namespace events {

class Doorbell {
 public:
  void ring() {
    {
      std::lock_guard lock(mutex_);
      ++rings_;
    }
    cv_.notify_all();
  }

  std::uint64_t rings() const {
    std::lock_guard lock(mutex_);
    return rings_;
  }

  // Returns when rung since `seen`, when stop is requested, or after `timeout`.
  void wait(const std::stop_token& stop, std::uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, stop, timeout, [&] { return rings_ != seen; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable_any cv_;
  std::uint64_t rings_ = 0;
};

}  // namespace events
