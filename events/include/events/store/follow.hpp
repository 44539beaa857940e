#pragma once
// One step of a loop that follows the log (webhook-delivery, kafka-export): the events after
// `after`, at most `max`; when there are none yet, a wait for `bell` (rung by append hints) or
// `poll`, and an empty batch. A read that fails throws, so the loop's own handler reconnects.
#include "events/doorbell.hpp"
#include "events/store/event_store.hpp"

#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <vector>

namespace events {

inline std::vector<RecordedEvent> next_batch(EventStore& store, std::int64_t after, std::size_t max, Doorbell& bell,
                                             const std::stop_token& stop, std::chrono::milliseconds poll) {
  const auto seen = bell.rings();
  auto batch = store.read_all(GlobalPosition{after}, max);
  if (!batch) throw std::runtime_error(batch.error().message);
  if (batch->empty()) bell.wait(stop, seen, poll);
  return std::move(*batch);
}

}  // namespace events
