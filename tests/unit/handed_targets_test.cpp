// The runner's box of targets the API handed over (runner/handed_targets.hpp): which reconcile
// may converge from a hand-off, and which must ask the API.
#include "runner/handed_targets.hpp"

#include "support/catch.hpp"

#include <thread>

using runner::HandedTargets;
using namespace std::chrono_literals;

namespace {

const events::SandboxId kSandbox{"11111111-1111-1111-1111-111111111111"};
const std::string kId = kSandbox.str();

events::wire::TargetHandOff handed(std::int64_t version, bool ours = true, const events::SandboxId& sandbox = kSandbox) {
  events::wire::TargetHandOff h;
  h.sandbox_id = sandbox;
  h.version = version;
  if (ours) {
    h.target = events::wire::RunnerTarget{};
    h.target->id = sandbox;
    h.target->env = {{"V", std::to_string(version)}};
  }
  return h;
}

}  // namespace

TEST_CASE("handed targets: a hand-off as new as the event is taken once; anything else asks") {
  std::stop_source stop;
  HandedTargets box(30ms, 5s);

  SECTION("nothing seen, nothing handed: ask") { CHECK_FALSE(box.claim(kId, stop.get_token())); }

  SECTION("the event's own version is taken, once") {
    box.saw(kId, 2);
    box.take(handed(2));
    auto got = box.claim(kId, stop.get_token());
    REQUIRE(got);
    REQUIRE(got->target);
    CHECK(got->target->env.at("V") == "2");
    CHECK_FALSE(box.claim(kId, stop.get_token()));  // a second reconcile with no new event asks
  }

  SECTION("a hand-off older than the newest event is not an answer: ask after the wait") {
    box.take(handed(2));
    box.saw(kId, 3);
    CHECK_FALSE(box.claim(kId, stop.get_token()));
  }

  SECTION("a newer hand-off than the event answers for it") {
    box.saw(kId, 2);
    box.take(handed(4));
    auto got = box.claim(kId, stop.get_token());
    REQUIRE(got);
    CHECK(got->version == 4);
  }

  SECTION("an older hand-off arriving late does not replace a newer one") {
    box.take(handed(5));
    box.take(handed(3));
    box.saw(kId, 3);
    auto got = box.claim(kId, stop.get_token());
    REQUIRE(got);
    CHECK(got->version == 5);
  }

  SECTION("a hand-off that comes while the reconcile waits is taken") {
    HandedTargets slow(10s, 5s);  // a wait that would time the test out: only the hand-off ends it
    slow.take(handed(1));  // hand-offs are heard on this runner
    slow.saw(kId, 2);
    std::jthread later_slow([&slow] {
      std::this_thread::sleep_for(5ms);
      slow.take(handed(2));
    });
    auto got = slow.claim(kId, stop.get_token());
    REQUIRE(got);
    CHECK(got->version == 2);
  }

  SECTION("no longer this runner's: the hand-off says so with no target") {
    box.saw(kId, 7);
    box.take(handed(7, false));
    auto got = box.claim(kId, stop.get_token());
    REQUIRE(got);
    CHECK_FALSE(got->target);
  }

  SECTION("a hand-off whose target is another sandbox's is dropped") {
    auto mixed = handed(2);
    mixed.target->id = events::SandboxId{"44444444-4444-4444-4444-444444444444"};
    box.take(mixed);
    box.saw(kId, 2);
    CHECK_FALSE(box.claim(kId, stop.get_token()));
  }

  SECTION("a hand-off kept past its time is not used") {
    HandedTargets brief(30ms, 1ms);
    brief.saw(kId, 1);
    brief.take(handed(1));
    std::this_thread::sleep_for(5ms);
    CHECK_FALSE(brief.claim(kId, stop.get_token()));
  }
}

TEST_CASE("handed targets: a reconcile no event started, or one of a stopping runner, does not wait") {
  std::stop_source stop;
  const auto t0 = std::chrono::steady_clock::now();
  HandedTargets box(10s, 5s);  // a wait of 10 s, which neither claim may take
  box.take(handed(0, true));
  const events::SandboxId other{"22222222-2222-2222-2222-222222222222"};
  box.take(handed(3, true, other));
  // A PID 1 that died: no event, so what is there answers, and nothing there means ask.
  auto there = box.claim(other.str(), stop.get_token());
  REQUIRE(there);
  CHECK(there->version == 3);
  CHECK_FALSE(box.claim("33333333-3333-3333-3333-333333333333", stop.get_token()));

  box.saw(kId, 1);
  stop.request_stop();
  CHECK_FALSE(box.claim(kId, stop.get_token()));
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}
