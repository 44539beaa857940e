#include "events/catalogue.hpp"

#include "support/sandbox_fixtures.hpp"

#include "support/catch.hpp"

using namespace events;

namespace {

// Every alternative of the variant survives encode → decode unchanged (compared as JSON).
template <class Variant>
int round_trip_all() {
  int count = 0;
  boost::mp11::mp_for_each<Variant>([&](auto sample) {
    using Event = decltype(sample);
    const Variant original{sample};
    const auto encoded = encode(original);
    INFO(encoded.type << " " << encoded.data);
    CHECK(encoded.type == Event::kType);
    CHECK(encoded.schema_version == Event::kVersion);
    const auto decoded = decode<Variant>(encoded.type, encoded.schema_version, encoded.data);
    REQUIRE(decoded);
    CHECK(std::holds_alternative<Event>(*decoded));
    CHECK(encode(*decoded).data == encoded.data);
    ++count;
  });
  return count;
}

}  // namespace

TEST_CASE("codec: every catalogue event round-trips") {
  CHECK(round_trip_all<SandboxEvent>() == 28);
  CHECK(round_trip_all<SnapshotEvent>() == 8);
  CHECK(round_trip_all<VolumeEvent>() == 5);
  CHECK(round_trip_all<RunnerEvent>() == 6);
  CHECK(round_trip_all<OrganizationEvent>() == 5);
  CHECK(round_trip_all<WarmPoolEvent>() == 1);
  CHECK(round_trip_all<WebhookEndpointEvent>() == 7);
  CHECK(round_trip_all<SshAccessEvent>() == 3);
}

TEST_CASE("codec: a full SandboxCreated keeps every field") {
  auto created = fixtures::spec(true);
  created.volumes = {{VolumeId{"55555555-5555-5555-5555-555555555555"}, "/data", "sub"}};
  created.resources = {4, 1, 8, 20};
  const auto encoded = encode(SandboxEvent{created});
  const auto decoded = decode<SandboxEvent>(encoded.type, encoded.schema_version, encoded.data);
  REQUIRE(decoded);
  const auto& back = std::get<SandboxCreated>(*decoded);
  CHECK(back.sandbox_id == created.sandbox_id);
  CHECK(back.resources == created.resources);
  CHECK(back.labels == created.labels);
  CHECK(back.env == created.env);
  CHECK(back.volumes == created.volumes);
  CHECK(back.dockerfile == created.dockerfile);
  // Plain JSON: labels are an object, ids are strings.
  CHECK_THAT(encoded.data, Catch::Contains(R"("labels":{"code-toolbox-language":"python"})"));
}

TEST_CASE("codec: a v1 SandboxCreated payload is read as v2") {
  const std::string v1 = R"({
    "sandbox_id": "33333333-3333-3333-3333-333333333333",
    "organization_id": "44444444-4444-4444-4444-444444444444",
    "name": "old", "snapshot": "default", "user": "daytona", "region": "local",
    "cpu": 2, "gpu": 0, "memory": 4, "disk": 10,
    "env": {"A": "1"}, "is_public": true, "volumes": [],
    "auto_stop_minutes": 15, "auto_archive_minutes": 10080, "auto_delete_minutes": -1,
    "dockerfile": null
  })";
  const auto decoded = decode<SandboxEvent>("SandboxCreated", 1, v1);
  REQUIRE(decoded);
  const auto& e = std::get<SandboxCreated>(*decoded);
  CHECK(e.resources == Resources{2, 0, 4, 10});
  CHECK(e.labels.empty());
  CHECK_FALSE(e.network_block_all);
  CHECK(e.is_public);
  CHECK(e.env.at("A") == "1");
}

TEST_CASE("codec: payloads that cannot be read are errors, not crashes") {
  auto r = decode<SandboxEvent>("SandboxCreated", 2, R"({"bogus": 1})");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::decode_failed);
  CHECK_THAT(r.error().message, Catch::Contains("SandboxCreated v2"));

  r = decode<SandboxEvent>("SandboxCreated", 2, "{not json");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::decode_failed);

  r = decode<SandboxEvent>("SandboxTeleported", 1, "{}");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("unknown event type"));

  r = decode<SandboxEvent>("SandboxStarted", 7, R"({"runner_id":"11111111-1111-1111-1111-111111111111"})");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("newer version"));

  r = decode<SandboxEvent>("SandboxStarted", 1, R"({"runner_id":"not-a-uuid"})");
  REQUIRE_FALSE(r);

  CHECK(is_known_type<SandboxEvent>("SandboxStarted"));
  CHECK_FALSE(is_known_type<SandboxEvent>("VolumeReady"));
}
