#include "runner/reconcile_queue.hpp"

#include "events/runtime.hpp"

#include <spdlog/spdlog.h>

namespace runner {

ReconcileQueue::ReconcileQueue(int threads, Work work, std::chrono::milliseconds retry)
    : work_(std::move(work)), retry_(retry) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this](std::stop_token stop) { run(stop); });
  }
}

ReconcileQueue::~ReconcileQueue() {
  for (auto& t : threads_) t.request_stop();
  ready_cv_.notify_all();
  threads_.clear();  // joins
}

void ReconcileQueue::post(const std::string& sandbox) {
  {
    std::lock_guard lock(mutex_);
    if (busy_.contains(sandbox)) {
      again_.insert(sandbox);
      return;
    }
    if (!waiting_.insert(sandbox).second) return;
    ready_.push_back(sandbox);
  }
  ready_cv_.notify_one();
}

void ReconcileQueue::run(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    std::string sandbox;
    {
      std::unique_lock lock(mutex_);
      if (!ready_cv_.wait(lock, stop, [this] { return !ready_.empty(); })) return;
      sandbox = std::move(ready_.front());
      ready_.pop_front();
      waiting_.erase(sandbox);
      busy_.insert(sandbox);
    }
    auto done = work_(sandbox, stop);
    const bool retry = !done && done.error().code == events::ErrorCode::unavailable;
    if (!done) spdlog::warn("sandbox {}: {}{}", sandbox, done.error().message, retry ? " (trying again)" : "");
    if (retry) events::nap(stop, retry_);
    bool again = false;
    {
      std::lock_guard lock(mutex_);
      busy_.erase(sandbox);
      again = again_.erase(sandbox) > 0 || retry;
    }
    if (again && !stop.stop_requested()) post(sandbox);
  }
}

}  // namespace runner
