#include "events/deciders/organization.hpp"
#include "events/deciders/runner.hpp"
#include "events/deciders/snapshot.hpp"
#include "events/deciders/ssh_access.hpp"
#include "events/deciders/volume.hpp"

#include "support/catch.hpp"

using namespace events;

namespace {

template <class StateT, class EventsT, class Evolve>
StateT fold(StateT s, const EventsT& events, Evolve evolve) {
  for (const auto& e : events) s = evolve(std::move(s), e);
  return s;
}

}  // namespace

TEST_CASE("snapshot decider: pending → pulling → active, failures and removal") {
  using namespace events::snapshot;
  SnapshotCreated spec{SnapshotId::generate(), std::nullopt, "py", "python:3.12", {}, {}};
  State s;
  auto step = [&](const Command& c) {
    auto r = decide(c, s);
    if (r) s = fold(s, *r, evolve);
    return r;
  };
  REQUIRE(step(Create{spec}));
  CHECK(s.state == SnapshotState::pending);
  CHECK(step(Create{spec}).error().code == ErrorCode::already_exists);
  CHECK(step(Deactivate{}).error().code == ErrorCode::invalid_transition);
  REQUIRE(step(ReportPulling{RunnerId::generate()}));
  CHECK(step(ReportPulling{RunnerId::generate()}).error().code == ErrorCode::duplicate_report);
  REQUIRE(step(ReportActive{1024, {"sha256:abc"}}));
  CHECK(s.state == SnapshotState::active);
  CHECK(step(ReportFailed{"late"}).error().code == ErrorCode::invalid_transition);
  REQUIRE(step(Deactivate{}));
  CHECK(s.state == SnapshotState::inactive);
  REQUIRE(step(Activate{}));
  REQUIRE(step(Remove{}));
  REQUIRE(step(ReportRemoved{}));
  CHECK(step(Activate{}).error().code == ErrorCode::not_found);

  State fresh;
  auto bad = decide(Create{SnapshotCreated{SnapshotId::generate(), std::nullopt, "bad name!", "x", {}, {}}}, fresh);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("name"));
}

TEST_CASE("volume decider: create, ready, delete") {
  using namespace events::volume;
  State s;
  auto step = [&](const Command& c) {
    auto r = decide(c, s);
    if (r) s = fold(s, *r, evolve);
    return r;
  };
  CHECK(step(ReportReady{}).error().code == ErrorCode::not_found);
  REQUIRE(step(Create{VolumeCreated{VolumeId::generate(), OrganizationId::generate(), "data"}}));
  REQUIRE(step(ReportReady{}));
  CHECK(step(ReportReady{}).error().code == ErrorCode::duplicate_report);
  REQUIRE(step(Delete{}));
  CHECK(step(Delete{})->empty());
  REQUIRE(step(ReportDeleted{}));
  CHECK(s.state == VolumeState::deleted);
  CHECK(step(Delete{}).error().code == ErrorCode::not_found);
}

TEST_CASE("runner decider: register, heartbeat, cordon, drain, remove") {
  using namespace events::runner;
  State s;
  auto step = [&](const Command& c) {
    auto r = decide(c, s);
    if (r) s = fold(s, *r, evolve);
    return r;
  };
  RunnerRegistered reg{RunnerId::generate(), "local", "127.0.0.1:7000", {2, 8, 50, 100}};
  CHECK(step(Heartbeat{1, {}}).error().code == ErrorCode::not_found);
  auto bad = reg;
  bad.capacity.max_sandboxes = 0;
  CHECK(step(Register{bad}).error().code == ErrorCode::invalid_argument);
  REQUIRE(step(Register{reg}));
  CHECK(step(Register{reg})->empty());  // a restart re-registers the same runner: nothing new
  REQUIRE(step(Heartbeat{100, {3, 1.5, 2, 4}}));
  CHECK(s.load.sandboxes == 3);
  CHECK(step(Heartbeat{100, {}}).error().code == ErrorCode::late_report);
  REQUIRE(step(Cordon{"maintenance"}));
  CHECK(s.state == RunnerState::cordoned);
  REQUIRE(step(Uncordon{}));
  REQUIRE(step(Drain{}));
  CHECK(s.state == RunnerState::draining);
  REQUIRE(step(Register{reg}));  // back after the restart
  CHECK(s.state == RunnerState::ready);
  REQUIRE(step(Remove{}));
  CHECK(step(Heartbeat{200, {}}).error().code == ErrorCode::invalid_transition);
}

TEST_CASE("organization decider: keys are created once and revoked") {
  using namespace events::organization;
  State s;
  auto step = [&](const Command& c) {
    auto r = decide(c, s);
    if (r) s = fold(s, *r, evolve);
    return r;
  };
  const auto key = ApiKeyId::generate();
  const std::string hash(64, 'a');
  CHECK(step(CreateApiKey{key, "k", hash, "dtn_"}).error().code == ErrorCode::not_found);
  REQUIRE(step(Create{OrganizationId::generate(), "acme"}));
  CHECK(step(CreateApiKey{key, "k", "short", "dtn_"}).error().code == ErrorCode::invalid_argument);
  REQUIRE(step(CreateApiKey{key, "k", hash, "dtn_"}));
  CHECK(step(CreateApiKey{key, "k", hash, "dtn_"}).error().code == ErrorCode::already_exists);
  REQUIRE(step(RevokeApiKey{key}));
  CHECK(s.keys.at(key.str()).revoked);
  CHECK(step(RevokeApiKey{key})->empty());
  CHECK(step(RevokeApiKey{ApiKeyId::generate()}).error().code == ErrorCode::not_found);
}

TEST_CASE("organization decider: a webhook message needs an organization, a Svix event type and a JSON object") {
  using namespace events::organization;
  State s;
  CHECK(decide(SendWebhookMessage{"sandbox.created", "{}", {}}, s).error().code == ErrorCode::not_found);
  s = fold(s, *decide(Create{OrganizationId::generate(), "acme"}, s), evolve);
  auto sent = decide(SendWebhookMessage{"test.ping", R"({"hello":1})", "ev-1"}, s);
  REQUIRE(sent);
  REQUIRE(sent->size() == 1);
  const auto& e = std::get<events::WebhookMessageSent>(sent->front());
  CHECK(e.event_type == "test.ping");
  CHECK(e.payload == R"({"hello":1})");
  CHECK(e.event_id == std::optional<std::string>("ev-1"));
  auto refused = [&](const SendWebhookMessage& c) {
    auto r = decide(c, s);
    return !r && r.error().code == ErrorCode::invalid_argument ? r.error().message : std::string{};
  };
  CHECK_THAT(refused({"", "{}", {}}), Catch::Contains("eventType"));
  CHECK_THAT(refused({"has space", "{}", {}}), Catch::Contains("'has space'"));
  CHECK_THAT(refused({std::string(257, 'a'), "{}", {}}), Catch::Contains("eventType"));
  CHECK_THAT(refused({"t", "[1]", {}}), Catch::Contains("JSON object"));
  CHECK_THAT(refused({"t", "{", {}}), Catch::Contains("JSON object"));
  CHECK_THAT(refused({"t", "{}", "a/b"}), Catch::Contains("eventId"));
  CHECK_THAT(refused({"t", R"({"a":")" + std::string(300 * 1024, 'x') + R"("})", {}}),
             Catch::Contains("256 KiB"));
}

TEST_CASE("ssh access decider: a grant replaces the earlier tokens; revoke one or all; expiry by time") {
  using namespace events::ssh_access;
  State s;
  auto step = [&](const Command& c) {
    auto r = decide(c, s);
    if (r) s = fold(s, *r, evolve);
    return r;
  };
  const auto box = SandboxId::generate();
  const auto org = OrganizationId::generate();
  const std::string first(64, 'a');
  const std::string second(64, 'b');
  auto grant = [&](const std::string& hash, int minutes, std::int64_t now) {
    return Grant{SshAccessId::generate(), box, org, hash, minutes, now};
  };
  CHECK(step(grant(first, 0, 1000)).error().code == ErrorCode::invalid_argument);
  CHECK_THAT(step(grant(first, kMaxMinutes + 1, 1000)).error().message, Catch::Contains("expiresInMinutes"));
  CHECK(step(grant("short", 60, 1000)).error().code == ErrorCode::invalid_argument);
  auto granted = step(grant(first, 60, 1000));
  REQUIRE(granted);
  REQUIRE(granted->size() == 1);
  CHECK(std::get<events::SshAccessGranted>(granted->front()).expires_at_ms == 1000 + 60 * 60 * 1000);
  auto replaced = step(grant(second, 1, 2000));
  REQUIRE(replaced);
  REQUIRE(replaced->size() == 2);  // the first token revoked, then the new one
  CHECK(std::get<events::SshAccessRevoked>(replaced->front()).reason == "replaced by a new token");
  CHECK(s.active.size() == 1);
  CHECK(step(Revoke{first}).error().code == ErrorCode::not_found);  // already gone
  CHECK(step(Expire{2000 + 59 * 1000})->empty());
  auto expired = step(Expire{2000 + 60 * 1000});
  REQUIRE(expired);
  CHECK(expired->size() == 1);
  CHECK(s.active.empty());
  REQUIRE(step(grant(first, 60, 3000)));
  REQUIRE(step(grant(second, 60, 3000)));
  CHECK(step(Revoke{second})->size() == 1);
  CHECK(step(Revoke{std::nullopt})->empty());  // nothing left to revoke: no events
}
