#pragma once
// Converges sandboxes on a few threads, so a slow start or stop of one sandbox does not hold up
// the others (a claim of a warm sandbox, a burst of creates). One sandbox is never converged on
// two threads at once: an event for a sandbox already in work marks it to be looked at again
// when that work ends, and several events for a waiting sandbox are one look. The engine is
// level-triggered, so coalescing loses nothing; what was queued when the runner died is
// converged by reconcile_all at its next start.
#include "events/error.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace runner {

class ReconcileQueue {
 public:
  using Work = std::function<events::Result<void>(const std::string& sandbox, const std::stop_token& stop)>;
  // `work` failing with `unavailable` (the API unreachable, say) is tried again after `retry`.
  ReconcileQueue(int threads, Work work, std::chrono::milliseconds retry = std::chrono::milliseconds(500));
  ~ReconcileQueue();  // stops the threads; work in progress finishes first
  void post(const std::string& sandbox);

 private:
  void run(const std::stop_token& stop);

  Work work_;
  std::chrono::milliseconds retry_;
  std::mutex mutex_;
  std::condition_variable_any ready_cv_;
  std::deque<std::string> ready_;
  std::set<std::string> waiting_, busy_, again_;
  std::vector<std::jthread> threads_;
};

}  // namespace runner
