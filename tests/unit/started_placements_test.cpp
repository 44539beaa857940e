// The API's memory of which key asked for a sandbox that starts after the request
// (command-service/app/started_placements.hpp): what the proxies are handed once it has started.
#include "command_service/app/started_placements.hpp"
#include "support/catch.hpp"

#include <set>

using command_service::StartedPlacements;
using events::SandboxId;
using namespace std::chrono_literals;

TEST_CASE("started placements: an asker is taken once, in time, and not when its key was revoked") {
  std::set<std::string> revoked;
  int published = 0;
  StartedPlacements placements([&](const auto&) { ++published; },
                               [&](const std::string& actor) { return revoked.contains(actor); }, 10s);
  const auto t0 = StartedPlacements::Clock::now();
  const auto a = SandboxId::generate();
  const auto b = SandboxId::generate();
  const auto c = SandboxId::generate();

  placements.expect(a, {"hash-a", "apikey:1"}, t0);
  CHECK_FALSE(placements.take(b, t0));  // never expected
  const auto taken = placements.take(a, t0 + 1s);
  REQUIRE(taken);
  CHECK(taken->key_sha256 == "hash-a");
  CHECK(taken->actor == "apikey:1");
  CHECK_FALSE(placements.take(a, t0 + 1s));  // once

  placements.expect(b, {"hash-b", "apikey:2"}, t0);
  CHECK_FALSE(placements.take(b, t0 + 11s));  // too late: a start that long after is not this request's
  placements.expect(b, {"hash-b", "apikey:2"}, t0);
  placements.expect(b, {"hash-b2", "apikey:4"}, t0);  // the latest request's key
  CHECK(placements.take(b, t0 + 1s)->key_sha256 == "hash-b2");

  placements.expect(c, {"hash-c", "apikey:3"}, t0);
  revoked.insert("apikey:3");
  CHECK_FALSE(placements.take(c, t0 + 1s));  // revoked since it asked: the proxies ask the API instead
  CHECK(published == 0);  // taking hands nothing over by itself
}

TEST_CASE("started placements: bounded, and the expired make room") {
  StartedPlacements placements([](const auto&) {}, [](const std::string&) { return false; }, 10s);
  const auto t0 = StartedPlacements::Clock::now();
  for (int i = 0; i < 1024; ++i) placements.expect(SandboxId::generate(), {"h", "apikey:x"}, t0);
  const auto over = SandboxId::generate();
  placements.expect(over, {"h", "apikey:x"}, t0 + 1s);
  CHECK_FALSE(placements.take(over, t0 + 2s));  // full of live ones: not remembered
  const auto later = SandboxId::generate();
  placements.expect(later, {"h", "apikey:y"}, t0 + 11s);  // the others have expired: swept
  const auto taken = placements.take(later, t0 + 12s);
  REQUIRE(taken);
  CHECK(taken->actor == "apikey:y");
}
