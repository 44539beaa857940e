#pragma once
// When a webhook delivery is tried again and when an endpoint is given up on, as pure functions
// of what happened and a time (the delivery process gives both; tests give tables).
// Svix's schedule: at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h. An attempt
// counts as delivered on a 2xx within the timeout (15 s); a 410 Gone disables the endpoint at
// once; an endpoint that has failed every attempt for 5 days is disabled.
#include "events/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace events::webhooks {

struct RetrySchedule {
  std::vector<std::chrono::seconds> delays;  // before attempt 0, 1, 2, ...

  static RetrySchedule svix();
  // "0,5,300,1800" (seconds); tests compress the schedule with it.
  static Result<RetrySchedule> parse(std::string_view text);
  // The wait before attempt `n` (0-based), counted from the previous attempt; none: no more.
  std::optional<std::chrono::seconds> before(std::size_t n) const;
};

enum class Outcome { delivered, failed, gone };
// status 0: no answer (refused, timed out, unreadable).
Outcome outcome_of(int http_status);
std::string_view to_string(Outcome outcome);  // delivered, failed, gone

struct EndpointHealth {
  std::optional<std::int64_t> failing_since_ms;  // the first failure after the last success
  bool operator==(const EndpointHealth&) const = default;
};

struct HealthDecision {
  EndpointHealth after;
  std::optional<std::string> disable;  // set: disable the endpoint, for this reason
};

HealthDecision after_attempt(const EndpointHealth& before, Outcome outcome, std::int64_t now_ms,
                             std::chrono::hours give_up_after = std::chrono::hours(24 * 5));

}  // namespace events::webhooks
