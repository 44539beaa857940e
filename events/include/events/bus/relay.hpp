#pragma once
// The outbox relay: publishes the log to JetStream in position order, Nats-Msg-Id = position,
// and records how far it got in PostgreSQL. With NATS down it waits and catches up later;
// PostgreSQL stays the source of truth. Appenders wake it with hints (bus/hints.hpp); it also
// looks every idle_poll.
#include "events/bus/nats_client.hpp"

#include <atomic>
#include <chrono>
#include <stop_token>

namespace events {
class PgEventStore;
}

namespace events::bus {

struct RelaySettings {
  std::string checkpoint_name = "relay";
  std::size_t batch_size = 500;
  std::chrono::milliseconds idle_poll{100};   // wait for an append hint at most this long
  // While events keep coming the checkpoint is saved at most this often, and once the relay
  // is idle: a durable write per batch kept the next append waiting behind its fsync. A
  // checkpoint that is behind costs nothing after a crash: the stream says how far it got.
  std::chrono::milliseconds checkpoint_every{200};
  std::chrono::milliseconds publish_timeout{3000};
  std::chrono::milliseconds max_backoff{2000};
  StreamSettings stream;
};

class Relay {
 public:
  Relay(RelaySettings settings, const std::string& pg_connection, NatsClient& nats);
  ~Relay();
  // Runs until stop is requested. Blocking: give it a thread.
  void run(std::stop_token stop);

  std::int64_t published() const { return published_.load(); }
  std::int64_t position() const { return position_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::int64_t> published_{0};
  std::atomic<std::int64_t> position_{0};
};

}  // namespace events::bus
