// Messages between services (events/wire/): what one side writes the other reads back whole, and
// anything else — a field missing, one too many, a wrong type, an unknown state — is a clear error.
#include "events/wire/daemon_env.hpp"
#include "events/wire/proxy.hpp"
#include "events/wire/runner_target.hpp"
#include "support/catch.hpp"

using namespace events;

TEST_CASE("wire: a runner target round-trips and is read strictly") {
  wire::RunnerTarget t;
  t.id = SandboxId::generate();
  t.organization_id = OrganizationId::generate();
  t.desired = DesiredState::started;
  t.actual = SandboxState::creating;
  t.env = {{"A", "1"}};
  t.volumes = {{VolumeId::generate(), "/data"}};
  t.image = wire::TargetImage{"busybox", SnapshotId::generate(), "active", {"sh"}};
  const auto text = to_json_text(t);
  auto back = from_json_text<wire::RunnerTarget>(text, "target");
  REQUIRE(back);
  CHECK(back->id == t.id);
  CHECK(back->desired == DesiredState::started);
  CHECK(back->actual == SandboxState::creating);
  CHECK(back->env == t.env);
  CHECK(back->volumes.size() == 1);
  CHECK(back->image->name == "busybox");
  CHECK_THAT(text, Catch::Contains("\"desired\":\"started\""));

  auto v = boost::json::parse(text).as_object();
  auto without = v;
  without.erase("actual");
  CHECK_FALSE(from_json<wire::RunnerTarget>(without, "target"));
  auto extra = v;
  extra["surprise"] = 1;
  CHECK_FALSE(from_json<wire::RunnerTarget>(extra, "target"));
  auto unknown = v;
  unknown["actual"] = "flying";
  CHECK_FALSE(from_json<wire::RunnerTarget>(unknown, "target"));
  auto wrong = v;
  wrong["env"] = "A=1";
  const auto refused = from_json<wire::RunnerTarget>(wrong, "the platform's target");
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::StartsWith("the platform's target: "));
}

TEST_CASE("wire: placements, toolbox access and daemon env round-trip") {
  const wire::SandboxPlacement p{SandboxId::generate(), OrganizationId::generate(), SandboxState::started, true,
                                 RunnerId::generate(), "127.0.0.1:4100"};
  auto back = from_json_text<wire::SandboxPlacement>(to_json_text(p), "placement");
  REQUIRE(back);
  CHECK(back->runner_endpoint == "127.0.0.1:4100");
  CHECK(back->runner_id == p.runner_id);
  wire::SandboxPlacement none = p;
  none.runner_id.reset();
  CHECK(from_json_text<wire::SandboxPlacement>(to_json_text(none), "placement")->runner_id == std::nullopt);
  CHECK_FALSE(from_json_text<wire::ToolboxAccessRequest>(R"({"api_key":"k","sandbox_id":"s"})", "request"));
  CHECK(from_json_text<wire::ToolboxAccessRequest>(R"({"api_key":"k","sandbox_id":"s","source":"1.2.3.4"})", "request"));
  const auto env = to_json_text(wire::DaemonEnv{{{"A", "1"}}, {"B"}});
  CHECK(env == R"({"set":{"A":"1"},"unset":["B"]})");
}
