#pragma once
// One webhook attempt: resolves the endpoint's host, refuses it when any address it resolves to
// may not be sent to (events/webhooks/targets.hpp: checked at every attempt, so a name turned
// toward a private address since the endpoint was made is caught), connects to a checked address,
// speaks TLS for https (certificate and host name verified), POSTs the signed body, follows no
// redirect, and reads at most a bounded answer. Blocking; one call per attempt.
#include "events/webhooks/targets.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace projector::webhooks {

struct Post {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // the signature headers
  std::string body;
};

struct Answer {
  int status = 0;             // 0: no answer (refused, timed out, not allowed)
  std::int64_t duration_ms = 0;
  std::string excerpt;        // the answer's first bytes, or why there was none
};

Answer post(const Post& p, const events::webhooks::TargetPolicy& policy, std::chrono::milliseconds timeout,
            std::size_t excerpt_bytes = 1024);

}  // namespace projector::webhooks
