#include "events/webhooks/delivery_policy.hpp"

#include <charconv>

namespace events::webhooks {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

RetrySchedule RetrySchedule::svix() {
  return RetrySchedule{{seconds(0), seconds(5), minutes(5), minutes(30), hours(2), hours(5), hours(10), hours(10)}};
}

Result<RetrySchedule> RetrySchedule::parse(std::string_view text) {
  RetrySchedule out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    const auto part = text.substr(start, comma - start);
    long long value = -1;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || value < 0 || value > 7 * 24 * 3600) {
      return make_error(ErrorCode::invalid_argument, "retry schedule: '" + std::string(part) +
                                                         "' is not a number of seconds (0 to 604800)");
    }
    out.delays.emplace_back(value);
    start = comma + 1;
  }
  if (out.delays.size() > 20) return make_error(ErrorCode::invalid_argument, "retry schedule: at most 20 attempts");
  return out;
}

std::optional<seconds> RetrySchedule::before(std::size_t n) const {
  if (n >= delays.size()) return std::nullopt;
  return delays[n];
}

Outcome outcome_of(int http_status) {
  if (http_status >= 200 && http_status < 300) return Outcome::delivered;
  if (http_status == 410) return Outcome::gone;
  return Outcome::failed;
}

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::delivered: return "delivered";
    case Outcome::failed: return "failed";
    case Outcome::gone: return "gone";
  }
  return "failed";
}

HealthDecision after_attempt(const EndpointHealth& before, Outcome outcome, std::int64_t now_ms, hours give_up_after) {
  switch (outcome) {
    case Outcome::delivered: return HealthDecision{EndpointHealth{}, std::nullopt};
    case Outcome::gone:
      return HealthDecision{before, std::string("the endpoint answered 410 Gone")};
    case Outcome::failed: break;
  }
  EndpointHealth after{before.failing_since_ms.value_or(now_ms)};
  const auto limit_ms = std::chrono::duration_cast<std::chrono::milliseconds>(give_up_after).count();
  if (now_ms - *after.failing_since_ms >= limit_ms) {
    const auto h = give_up_after.count();
    return HealthDecision{after, "every attempt failed for " +
                                     (h % 24 == 0 ? std::to_string(h / 24) + " days" : std::to_string(h) + " hours")};
  }
  return HealthDecision{after, std::nullopt};
}

}  // namespace events::webhooks
