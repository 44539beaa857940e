#pragma once
// Request and reply between services, as the code that sends or answers them sees it: the runner's
// reports go out through `request`, the API answers them through `serve`. NatsClient
// (nats_client.hpp) is the adapter; nothing outside events/bus names libnats.
#include "events/error.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace events::bus {

class Requests {
 public:
  virtual ~Requests() = default;

  // The reply's body; `unavailable` when nobody answered within `timeout`.
  virtual Result<std::string> request(const std::string& subject, std::string_view body,
                                      std::chrono::milliseconds timeout) = 0;

  // Answers the requests on `subject` (wildcards allowed) as one of the queue group `queue`:
  // handler(subject, body) gives the reply. The returned handle answers as long as it is held;
  // dropping it stops answering after the requests in flight.
  using Handler = std::function<std::string(const std::string& subject, std::string_view body)>;
  class Serving {
   public:
    virtual ~Serving() = default;
  };
  virtual Result<std::unique_ptr<Serving>> serve(const std::string& subject, const std::string& queue,
                                                 Handler handler) = 0;
};

}  // namespace events::bus
