#include "command_service/pg/event_feed.hpp"

#include "command_service/http/route_support.hpp"
#include "events/runtime.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace command_service {

namespace asio = boost::asio;
using events::RecordedEvent;

EventFeed::EventFeed(Db& db, std::shared_ptr<events::Doorbell> bell, std::chrono::milliseconds poll, std::size_t keep)
    : db_(db), bell_(std::move(bell)), poll_(poll), keep_(keep) {
  head_ = db_.run_blocking([](DbContext& c) { return log_head(c); });
  thread_ = std::jthread([this](std::stop_token stop) { follow(stop); });
}

EventFeed::~EventFeed() {
  thread_.request_stop();
  if (bell_) bell_->ring();
}

std::int64_t EventFeed::head() const {
  std::lock_guard lock(mutex_);
  return head_;
}

void EventFeed::observe(std::function<void(const std::vector<RecordedEvent>&)> observer) {
  std::lock_guard lock(mutex_);
  observers_.push_back(std::move(observer));
}

void EventFeed::follow(std::stop_token stop) {
  constexpr std::size_t kBatch = 1000;
  auto wait_for_appends = [&](std::uint64_t rings) {
    if (bell_) {
      bell_->wait(stop, rings, poll_);
    } else {
      events::nap(stop, poll_);
    }
  };
  // The batch into the tail kept in memory, and every waiter woken.
  auto keep_and_wake = [&](std::vector<RecordedEvent>& batch) {
    decltype(waiters_) woken;
    {
      std::lock_guard lock(mutex_);
      for (auto& e : batch) tail_.push_back(std::move(e));
      while (tail_.size() > keep_) tail_.pop_front();
      head_ = tail_.back().position.value();
      woken.swap(waiters_);
    }
    for (auto& [executor, weak] : woken) {
      // Expiry in the past both cancels a pending wait and ends one not yet started.
      asio::post(executor, [weak] {
        if (auto timer = weak.lock()) timer->expires_at(asio::steady_timer::time_point::min());
      });
    }
  };
  while (!stop.stop_requested()) {
    const auto rings = bell_ ? bell_->rings() : 0;
    std::int64_t from = 0;
    {
      std::lock_guard lock(mutex_);
      from = head_;
    }
    events::Result<std::vector<RecordedEvent>> batch = std::vector<RecordedEvent>{};
    try {
      batch = db_.run_blocking([&](DbContext& c) { return c.store.read_all(events::GlobalPosition{from}, kBatch); });
    } catch (const std::exception& e) {
      spdlog::warn("event feed: {}", e.what());
      events::nap(stop, std::chrono::milliseconds(500));
      continue;
    }
    if (!batch) {
      spdlog::warn("event feed: {}", batch.error().message);
      events::nap(stop, std::chrono::milliseconds(500));
      continue;
    }
    {
      decltype(observers_) observers;
      {
        std::lock_guard lock(mutex_);
        observers = observers_;
      }
      for (const auto& observer : observers) observer(*batch);
    }
    if (!batch->empty()) keep_and_wake(*batch);
    // A batch short of full read the whole log: wait for the next append (a hint rung while it
    // was read ends the wait at once), instead of a read that finds nothing.
    if (batch->size() < kBatch) wait_for_appends(rings);
  }
}

std::optional<std::vector<RecordedEvent>> EventFeed::from_memory(std::int64_t after, std::size_t max) const {
  std::vector<RecordedEvent> out;
  if (after >= head_) return out;
  if (tail_.empty() || tail_.front().position.value() > after + 1) return std::nullopt;
  auto it = std::lower_bound(tail_.begin(), tail_.end(), after + 1,
                             [](const RecordedEvent& e, std::int64_t p) { return e.position.value() < p; });
  for (; it != tail_.end() && out.size() < max; ++it) out.push_back(*it);
  return out;
}

asio::awaitable<std::vector<RecordedEvent>> EventFeed::next(std::int64_t after, std::size_t max,
                                                            std::chrono::milliseconds wait) {
  auto executor = co_await asio::this_coro::executor;
  // The caller's executor must be a strand (the server's connections are): the feed's wake-up
  // is posted to it and so cannot run while this coroutine is between its check and its wait.
  auto timer = std::make_shared<asio::steady_timer>(executor);
  const auto deadline = asio::steady_timer::clock_type::now() + wait;
  timer->expires_at(deadline);
  for (;;) {
    std::optional<std::vector<RecordedEvent>> found;
    {
      std::lock_guard lock(mutex_);
      found = from_memory(after, max);
      if (found && found->empty()) waiters_.emplace_back(executor, timer);
    }
    if (!found) {
      // Behind what memory holds: read the log (positions may have gaps; read_all skips them).
      auto read = co_await db_.run(
          [&](DbContext& c) { return c.store.read_all(events::GlobalPosition{after}, max); });
      if (!read) throw std::runtime_error(read.error().message);
      co_return std::move(*read);
    }
    if (!found->empty()) co_return std::move(*found);
    if (asio::steady_timer::clock_type::now() >= deadline) co_return std::vector<RecordedEvent>{};
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    timer->expires_at(deadline);  // woken (expiry moved to the past) or timed out: look again
  }
}

}  // namespace command_service
