#pragma once
// A replay's log, read once for several projectors (private to src/: replay.cpp).
#include "events/store/recorded_event.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace projector {

// The log read once for the projectors of a replay, each on its own thread: the replay's thread
// reads it with one COPY (copy_log.hpp) ahead of them (at most kAhead batches), and a batch is
// let go once every projector applied it.
// Read once, the log costs PostgreSQL one conversion of its JSON to text instead of one per
// projector (it was the replay's largest statement: bench/replay with BENCH_STATEMENTS=1).
class SharedRead {
 public:
  using Batch = std::shared_ptr<const std::vector<events::RecordedEvent>>;

  explicit SharedRead(std::size_t readers) : next_(readers, 0) {}

  // The reader: `batch` after the others, waiting while kAhead batches are unread by someone.
  // False when the replay stopped (a projector failed).
  bool put(Batch batch) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopped_ || batches_.size() < kAhead; });
    if (stopped_) return false;
    batches_.push_back(std::move(batch));
    changed_.notify_all();
    return true;
  }

  // Projector `i`: its next batch, or null at the end (or when the replay stopped).
  Batch take(std::size_t i) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopped_ || done_ || next_[i] < first_ + batches_.size(); });
    if (stopped_ || next_[i] >= first_ + batches_.size()) return nullptr;
    auto batch = batches_[next_[i] - first_];
    ++next_[i];
    while (!batches_.empty() && *std::min_element(next_.begin(), next_.end()) > first_) {
      batches_.pop_front();
      ++first_;
    }
    changed_.notify_all();
    return batch;
  }

  void finish() { set([&] { done_ = true; }); }
  void stop() { set([&] { stopped_ = true; }); }

 private:
  static constexpr std::size_t kAhead = 3;

  template <class F>
  void set(F f) {
    std::lock_guard lock(mutex_);
    f();
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> batches_;  // batches_[0] is batch number first_
  std::size_t first_ = 0;
  std::vector<std::size_t> next_;  // per projector, the number of the batch it takes next
  bool done_ = false;
  bool stopped_ = false;
};

}  // namespace projector
