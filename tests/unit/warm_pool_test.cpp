// Warm pools: the pool's size decider, and the sandbox decider's warm create and claim.
#include "support/sandbox_fixtures.hpp"

#include "events/deciders/warm_pool.hpp"
#include "support/catch.hpp"

using namespace fixtures;
using S = SandboxState;

namespace {

const OrganizationId kOtherOrg{"55555555-5555-5555-5555-555555555555"};

SandboxCreated warm_spec() {
  auto c = spec();
  c.organization_id = warm_pool_organization();
  c.name = "warm-1";
  c.env.clear();
  c.labels.clear();
  c.auto_stop_minutes = 0;
  return c;
}

WarmPoolId pool() { return warm_pool_id("default", "local", Resources{}); }

// A warm sandbox on runner 1, started and unclaimed.
State warm_started() {
  auto created = decide(CreateWarm{warm_spec(), pool()}, State{});
  REQUIRE(created);
  auto s = replay(*created);
  return replay_onto(s, {SandboxRunnerAssigned{kRunner1}, SandboxStarted{kRunner1}});
}

SandboxClaimed claim_by(const OrganizationId& org) {
  SandboxClaimed c;
  c.organization_id = org;
  c.name = "mine";
  c.user = "daytona";
  c.env = {{"SECRET", "for " + org.str()}};
  c.labels = {{"team", "a"}};
  c.auto_stop_minutes = 5;
  c.at_ms = 1000;
  return c;
}

}  // namespace

TEST_CASE("warm pool: the size decider validates and is idempotent") {
  namespace wp = events::warm_pool;
  using wp::SetSize;
  auto sized = wp::decide(SetSize{"default", "local", Resources{}, 3}, wp::State{});
  REQUIRE(sized);
  REQUIRE(sized->size() == 1);
  const auto& e = std::get<WarmPoolSized>(sized->front());
  CHECK(e.pool_id == warm_pool_id("default", "local", Resources{}));
  CHECK(e.size == 3);
  const auto state = wp::evolve(wp::State{}, sized->front());
  CHECK(wp::decide(SetSize{"default", "local", Resources{}, 3}, state)->empty());
  CHECK(wp::decide(SetSize{"default", "local", Resources{}, 0}, state)->size() == 1);

  auto too_big = wp::decide(SetSize{"default", "local", Resources{}, wp::kMaxSize + 1}, wp::State{});
  REQUIRE_FALSE(too_big);
  CHECK(too_big.error().message.find("size must be between 0 and") != std::string::npos);
  CHECK_FALSE(wp::decide(SetSize{"default", "local", Resources{}, -1}, wp::State{}));
  CHECK_FALSE(wp::decide(SetSize{"", "local", Resources{}, 1}, wp::State{}));
  CHECK_FALSE(wp::decide(SetSize{"default", "local", Resources{0, 0, 1, 3}, 1}, wp::State{}));
  // Another class is another pool.
  CHECK(warm_pool_id("default", "local", Resources{2, 0, 1, 3}) != pool());
}

TEST_CASE("warm pool: a warm sandbox belongs to the pool organization until claimed") {
  auto created = decide(CreateWarm{warm_spec(), pool()}, State{});
  REQUIRE(created);
  REQUIRE(created->size() == 2);
  CHECK(std::holds_alternative<SandboxJoinedWarmPool>(created->back()));
  const auto s = replay(*created);
  CHECK(unclaimed_warm(s));
  CHECK(s.organization_id == warm_pool_organization());

  auto user_create = spec();
  user_create.organization_id = warm_pool_organization();
  CHECK_FALSE(decide(Create{user_create}, State{}));
  CHECK_FALSE(decide(CreateWarm{spec(), pool()}, State{}));  // a user's organization
}

TEST_CASE("warm pool: a claim takes a started warm sandbox once, and gives it the claimer's settings") {
  const auto ready = warm_started();
  auto claimed = decide(Claim{claim_by(kOrg)}, ready);
  REQUIRE(claimed);
  REQUIRE(claimed->size() == 1);
  const auto s = replay_onto(ready, *claimed);
  CHECK(s.claimed);
  CHECK_FALSE(unclaimed_warm(s));
  CHECK(s.organization_id == kOrg);
  CHECK(s.name == "mine");
  CHECK(s.env.at("SECRET") == "for " + kOrg.str());
  CHECK(s.labels.at("team") == "a");
  CHECK(s.auto_stop_minutes == 5);
  CHECK(s.last_activity_ms == 1000);
  CHECK(s.actual == S::starting);  // until the runner has applied the env

  // Never twice: a second claim (another organization) is refused.
  auto again = decide(Claim{claim_by(kOtherOrg)}, s);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::invalid_transition);
  // The runner's report brings it to started; a claim whose env the API applied first is started at once.
  auto applied = claim_by(kOrg);
  applied.env_applied = true;
  CHECK(replay_onto(ready, *decide(Claim{applied}, ready)).actual == S::started);
  auto started = decide(Report{kRunner1, Reported::started}, s);
  REQUIRE(started);
  CHECK(replay_onto(s, *started).actual == S::started);
}

TEST_CASE("warm pool: only a started, unclaimed warm sandbox can be claimed") {
  // An ordinary sandbox.
  CHECK(decide(Claim{claim_by(kOrg)}, replay(history_to(S::started))).error().code == ErrorCode::invalid_transition);
  // A warm sandbox still starting.
  auto created = decide(CreateWarm{warm_spec(), pool()}, State{});
  auto starting = replay_onto(replay(*created), {SandboxRunnerAssigned{kRunner1}, SandboxStarting{kRunner1}});
  CHECK(decide(Claim{claim_by(kOrg)}, starting).error().code == ErrorCode::invalid_transition);
  // One being destroyed.
  auto leaving = replay_onto(warm_started(), {SandboxDestroyRequested{"pool shrank"}});
  CHECK_FALSE(decide(Claim{claim_by(kOrg)}, leaving));
  // Bad claim content names the problem.
  auto bad = claim_by(kOrg);
  bad.env = {{"1BAD", "x"}};
  CHECK_FALSE(decide(Claim{bad}, warm_started()));
  auto nobody = claim_by(warm_pool_organization());
  CHECK(decide(Claim{nobody}, warm_started()).error().code == ErrorCode::invalid_argument);
}
