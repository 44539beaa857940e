#include "command_service/http/rate_limiter.hpp"
#include "support/catch.hpp"

using namespace command_service;

TEST_CASE("rate limiter: fixed windows per key with an injected clock") {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  RateLimiter limiter([&] { return now; });
  for (int i = 0; i < 3; ++i) {
    auto d = limiter.take("a", 3);
    CHECK(d.allowed);
    CHECK(d.remaining == 2 - i);
    CHECK(d.reset_seconds == 60);
  }
  CHECK_FALSE(limiter.take("a", 3).allowed);
  CHECK(limiter.take("b", 3).allowed);  // keys are independent
  CHECK(limiter.peek("b", 3).remaining == 2);
  CHECK(limiter.peek("b", 3).remaining == 2);  // peeking does not count
  now += std::chrono::seconds(45);
  auto blocked = limiter.take("a", 3);
  CHECK_FALSE(blocked.allowed);
  CHECK(blocked.reset_seconds == 15);
  now += std::chrono::seconds(15);
  CHECK(limiter.take("a", 3).allowed);  // a new window
  CHECK(limiter.take("c", 0).allowed);  // 0 = no limit
}
