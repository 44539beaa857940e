#pragma once
// The log's tail for live streams (SSE, Socket.IO). One thread follows the log, woken by the
// append hints, and keeps the newest events in memory; streams take them from there and wait
// for more without touching PostgreSQL. A stream further behind than the memory holds reads
// the log itself (catch-up), then joins the tail.
#include "command_service/pg/db.hpp"
#include "events/doorbell.hpp"
#include "events/store/recorded_event.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace command_service {

class EventFeed {
 public:
  // `bell` is rung on append hints; without rings the feed still looks every `poll`.
  EventFeed(Db& db, std::shared_ptr<events::Doorbell> bell, std::chrono::milliseconds poll = std::chrono::milliseconds(250),
            std::size_t keep = 10000);
  ~EventFeed();
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // Events after position `after` (at most `max`, in order); when there are none yet, waits
  // up to `wait` for some. An empty result means the wait ran out.
  boost::asio::awaitable<std::vector<events::RecordedEvent>> next(std::int64_t after, std::size_t max,
                                                                  std::chrono::milliseconds wait);
  std::int64_t head() const;
  // Called on the feed's thread after every look at the log, with what it read (often nothing);
  // each observer added is called, in the order added.
  void observe(std::function<void(const std::vector<events::RecordedEvent>&)> observer);

 private:
  void follow(std::stop_token stop);
  // Events after `after` from memory; nullopt when memory does not reach back that far.
  std::optional<std::vector<events::RecordedEvent>> from_memory(std::int64_t after, std::size_t max) const;

  Db& db_;
  std::shared_ptr<events::Doorbell> bell_;
  std::chrono::milliseconds poll_;
  std::size_t keep_;
  mutable std::mutex mutex_;
  std::deque<events::RecordedEvent> tail_;
  std::int64_t head_ = 0;  // the position the feed has read up to
  std::vector<std::pair<boost::asio::any_io_executor, std::weak_ptr<boost::asio::steady_timer>>> waiters_;
  std::vector<std::function<void(const std::vector<events::RecordedEvent>&)>> observers_;  // under mutex_
  std::jthread thread_;
};

}  // namespace command_service
