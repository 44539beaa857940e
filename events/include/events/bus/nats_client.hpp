#pragma once
// A NATS connection with a JetStream context, and the JetStream stream that carries the log.
// libnats connections are thread-safe; the client reconnects forever in the background.
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

class NatsClient {
 public:
  // Connects (or keeps trying in the background when the server is down: `connected()` tells).
  static Result<std::unique_ptr<NatsClient>> connect(const std::string& url, const std::string& name);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  bool connected() const;
  __natsConnection* connection() { return nc_; }
  __jsCtx* jetstream() { return js_; }

  // Creates the stream when missing (or updates its limits). Returns whether it was created.
  Result<bool> ensure_stream(const StreamSettings& settings);

  // Request/reply: the reply's body; `unavailable` when nobody answered within `timeout` (no
  // responder, no connection).
  Result<std::string> request(const std::string& subject, std::string_view body, std::chrono::milliseconds timeout);

  // Answers the requests on `subject` (wildcards allowed) as one of the queue group `queue`:
  // handler(subject, body) gives the reply. Held as long as it should answer; dropping it drains
  // the subscription (requests in flight are answered first).
  using Handler = std::function<std::string(const std::string& subject, std::string_view body)>;
  class Service {
   public:
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

   private:
    friend class NatsClient;
    Service() = default;
    Handler handler_;
    __natsSubscription* sub_ = nullptr;
  };
  Result<std::unique_ptr<Service>> serve(const std::string& subject, const std::string& queue, Handler handler);

 private:
  NatsClient() = default;
  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
};

// Text for a libnats status, with the JetStream error code when there is one.
std::string nats_error_text(int status, int js_error_code = 0);

}  // namespace events::bus
