#pragma once
// A durable JetStream pull consumer over the log, with acks and redelivery. The handler sees
// each event of its filter once, in position order:
// - duplicates (redeliveries, replays) are dropped by position against a checkpoint kept in
//   PostgreSQL;
// - when the consumer fell behind the stream's retention, or the stream or consumer was lost,
//   it catches up from PostgreSQL and rejoins the stream where the catch-up ended;
// - an event the handler cannot read (poison) goes to the dead_letters table and is skipped.
#include "events/bus/nats_client.hpp"
#include "events/store/event_store.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <stop_token>

namespace events::bus {

enum class Outcome { done, poison, retry };
struct HandleResult {
  Outcome outcome = Outcome::done;
  std::string reason;
};
using Handler = std::function<HandleResult(const RecordedEvent&)>;

// A handler for one aggregate's events: decodes them, and sends what does not decode to the
// dead letters instead of the handler.
template <class Variant, class F>
Handler typed_handler(F handle) {
  return [handle = std::move(handle)](const RecordedEvent& e) -> HandleResult {
    auto decoded = decode<Variant>(e);
    if (!decoded) return {Outcome::poison, decoded.error().message};
    return handle(e, *decoded);
  };
}

struct SubscriberSettings {
  std::string name;  // durable consumer name and checkpoint key; [A-Za-z0-9_-]
  ReadFilter filter;
  int batch = 200;
  std::chrono::milliseconds fetch_wait{500};
  std::chrono::milliseconds check_every{2000};  // how often to look for lost messages
  std::chrono::milliseconds retry_delay{200};  // between attempts when the handler says retry
  std::chrono::seconds ack_wait{30};
  StreamSettings stream;
};

struct SubscriberStats {
  std::atomic<std::int64_t> handled{0};
  std::atomic<std::int64_t> duplicates_dropped{0};
  std::atomic<std::int64_t> dead_lettered{0};
  std::atomic<std::int64_t> catch_ups{0};            // times it caught up from PostgreSQL
  std::atomic<std::int64_t> caught_up_events{0};     // events handled during those catch-ups
  std::atomic<std::int64_t> position{0};
  std::atomic<bool> live{false};  // subscribed to the stream (not catching up)
};

class Subscriber {
 public:
  Subscriber(SubscriberSettings settings, const std::string& pg_connection, NatsClient& nats,
             Handler handler);
  ~Subscriber();
  // Runs until stop is requested. Blocking: give it a thread.
  void run(std::stop_token stop);
  const SubscriberStats& stats() const { return stats_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  SubscriberStats stats_;
};

}  // namespace events::bus
