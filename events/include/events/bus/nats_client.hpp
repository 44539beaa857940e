#pragma once
// A NATS connection with a JetStream context, and the JetStream stream that carries the log.
// libnats connections are thread-safe; the client reconnects forever in the background.
#include "events/bus/requests.hpp"
#include "events/error.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

struct __natsConnection;
struct __jsCtx;
struct __natsSubscription;

namespace events::bus {

struct StreamSettings {
  std::string name = "EVENTS";
  std::string subjects = "ev.>";
  std::int64_t max_msgs = -1;        // -1: no limit
  std::int64_t max_age_seconds = 7 * 24 * 3600;
  std::int64_t duplicate_window_seconds = 120;
};

class NatsClient final : public Requests {
 public:
  // Connects (or keeps trying in the background when the server is down: `connected()` tells).
  static Result<std::unique_ptr<NatsClient>> connect(const std::string& url, const std::string& name);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  bool connected() const;

  // Creates the stream when missing (or updates its limits). Returns whether it was created.
  Result<bool> ensure_stream(const StreamSettings& settings);

  // Request/reply (requests.hpp); `request` is `unavailable` with no responder or no connection.
  Result<std::string> request(const std::string& subject, std::string_view body,
                              std::chrono::milliseconds timeout) override;
  Result<std::unique_ptr<Serving>> serve(const std::string& subject, const std::string& queue,
                                         Handler handler) override;

  // Publishes `data` on `subject`, core NATS (returns at once; the client's thread sends it).
  void publish(const std::string& subject, std::string_view data);

  // For the bus's own adapters (relay, subscriber, hints) and the tests that inspect the stream.
  __natsConnection* connection() { return nc_; }
  __jsCtx* jetstream() { return js_; }

 private:
  class Service;
  NatsClient() = default;
  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
};

// A core NATS subscription (no JetStream, no reply): `on_message` gets each message's data on
// libnats' thread while it lives; drained when it goes. ok(): the server was asked to subscribe.
class CoreSubscription {
 public:
  using OnMessage = std::function<void(std::string_view data)>;
  CoreSubscription(NatsClient& nats, const char* subject, OnMessage on_message);
  ~CoreSubscription();
  CoreSubscription(const CoreSubscription&) = delete;
  CoreSubscription& operator=(const CoreSubscription&) = delete;
  bool ok() const { return sub_ != nullptr; }

 private:
  OnMessage on_message_;
  __natsSubscription* sub_ = nullptr;
};

// Text for a libnats status, with the JetStream error code when there is one.
std::string nats_error_text(int status, int js_error_code = 0);

}  // namespace events::bus
