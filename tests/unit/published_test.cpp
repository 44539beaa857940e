// The public event contract (events/published/): every internal event type has its row here,
// so a new one fails this test until someone decides what outside consumers see of it; the
// reasons on state updates; warm-pool members; nothing internal in the payloads; the stream
// resumed from its middle; CloudEvents.
#include "events/catalogue.hpp"
#include "events/published/mapping.hpp"
#include "support/catch.hpp"

#include <boost/mp11/algorithm.hpp>

#include <map>

using namespace events;
using events::published::Origin;
using events::published::PublicEvent;

namespace {

const OrganizationId kOrg{"0b6a1f6e-0000-4000-8000-000000000001"};
const SandboxId kSandbox{"0b6a1f6e-0000-4000-8000-0000000000a1"};
const RunnerId kRunner{"0b6a1f6e-0000-4000-8000-0000000000f1"};

Origin at(std::int64_t position) { return Origin{position, "2026-12-01T10:00:00.000Z"}; }

std::vector<std::string> types_of(const std::vector<PublicEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

SandboxCreated created_spec(OrganizationId org = kOrg) {
  SandboxCreated c;
  c.sandbox_id = kSandbox;
  c.organization_id = org;
  c.name = "box";
  c.env = {{"SECRET_TOKEN", "hunter2"}};
  return c;
}

published::SandboxTrack fold(published::SandboxTrack t, const std::vector<SandboxEvent>& events) {
  std::int64_t position = 1;
  for (const auto& e : events) t = published::map_event(t, e, at(position++)).after;
  return t;
}

published::SandboxTrack started_sandbox() {
  return fold({}, {created_spec(), SandboxRunnerAssigned{kRunner}, SandboxStarting{kRunner}, SandboxStarted{kRunner}});
}

published::SnapshotTrack active_snapshot() {
  SnapshotCreated c;
  c.snapshot_id = SnapshotId{"0b6a1f6e-0000-4000-8000-0000000000b1"};
  c.organization_id = kOrg;
  c.name = "py";
  published::SnapshotTrack t;
  t = published::map_event(t, c, at(1)).after;
  return published::map_event(t, SnapshotActivated{}, at(2)).after;
}

published::VolumeTrack ready_volume() {
  VolumeCreated c;
  c.volume_id = VolumeId{"0b6a1f6e-0000-4000-8000-0000000000c1"};
  c.organization_id = kOrg;
  c.name = "data";
  published::VolumeTrack t;
  t = published::map_event(t, c, at(1)).after;
  return published::map_event(t, VolumeReady{}, at(2)).after;
}

// What each internal event gives, from a started sandbox, an active snapshot, a ready volume
// (creations from nothing). Every type of the catalogue must be here.
const std::map<std::string_view, std::vector<std::string>> kRows = {
    {"SandboxCreated", {"sandbox.created"}},
    {"SandboxRunnerAssigned", {}},
    {"SandboxSchedulingFailed", {"sandbox.state.updated"}},
    {"SandboxStartRequested", {}},
    {"SandboxStopRequested", {}},
    {"SandboxArchiveRequested", {}},
    {"SandboxDestroyRequested", {}},
    {"SandboxLabelsReplaced", {}},
    {"SandboxTimerSet", {}},
    {"SandboxActivityRecorded", {}},
    {"SandboxResized", {}},
    {"SandboxNetworkChanged", {}},
    {"SandboxPullingSnapshot", {"sandbox.state.updated"}},
    {"SandboxBuildingSnapshot", {"sandbox.state.updated"}},
    {"SandboxStarting", {"sandbox.state.updated"}},
    {"SandboxStarted", {}},  // already started
    {"SandboxStopping", {"sandbox.state.updated"}},
    {"SandboxStopped", {"sandbox.state.updated"}},
    {"SandboxArchiving", {"sandbox.state.updated"}},
    {"SandboxArchived", {"sandbox.state.updated"}},
    {"SandboxRestoring", {"sandbox.state.updated"}},
    {"SandboxDestroying", {"sandbox.state.updated"}},
    {"SandboxDestroyed", {"sandbox.state.updated", "sandbox.deleted"}},
    {"SandboxErrored", {"sandbox.state.updated"}},
    {"SandboxBuildFailed", {"sandbox.state.updated"}},
    {"SandboxOomKilled", {"sandbox.oom_killed"}},
    {"SandboxJoinedWarmPool", {}},
    {"SandboxClaimed", {"sandbox.created"}},  // from a warm-pool member: the claimer's new sandbox
    {"SnapshotCreated", {"snapshot.created"}},
    {"SnapshotPulling", {"snapshot.state.updated"}},
    {"SnapshotActivated", {}},  // already active
    {"SnapshotFailed", {"snapshot.state.updated"}},
    {"SnapshotDeactivated", {"snapshot.state.updated"}},
    {"SnapshotReactivated", {}},  // active again: no change
    {"SnapshotRemoveRequested", {"snapshot.state.updated"}},
    {"SnapshotRemoved", {"snapshot.removed"}},
    {"VolumeCreated", {"volume.created"}},
    {"VolumeReady", {}},  // already ready
    {"VolumeFailed", {"volume.state.updated"}},
    {"VolumeDeleteRequested", {"volume.state.updated"}},
    {"VolumeDeleted", {"volume.state.updated"}},
    // The platform's own aggregates: nothing of them is public.
    {"RunnerRegistered", {}},
    {"RunnerHeartbeat", {}},
    {"RunnerCordoned", {}},
    {"RunnerUncordoned", {}},
    {"RunnerDraining", {}},
    {"RunnerRemoved", {}},
    {"OrganizationCreated", {}},
    {"ApiKeyCreated", {}},
    {"ApiKeyRevoked", {}},
    {"WebhookMessageSent", {}},
    {"OrganizationNetworkSet", {}},
    {"SshAccessGranted", {}},
    {"SshAccessRevoked", {}},
    {"SshAccessExpired", {}},  // delivered to webhooks as sent (an admin's test), never on the stream
    {"SandboxNameClaimed", {}},
    {"WarmPoolSized", {}},
    {"WebhookEndpointCreated", {}},
    {"WebhookEndpointUpdated", {}},
    {"WebhookEndpointSecretRotated", {}},
    {"WebhookEndpointDisabled", {}},
    {"WebhookEndpointRecoveryRequested", {}},
    {"WebhookEndpointResendRequested", {}},
    {"WebhookEndpointDeleted", {}},
};

published::SandboxTrack warm_member() {
  auto spec = created_spec(warm_pool_organization());
  return fold({}, {spec, SandboxJoinedWarmPool{}, SandboxRunnerAssigned{kRunner}, SandboxStarting{kRunner},
                   SandboxStarted{kRunner}});
}

std::vector<std::string> sandbox_row(const SandboxEvent& e) {
  if (std::holds_alternative<SandboxCreated>(e)) {
    return types_of(published::map_event({}, created_spec(), at(9)).events);
  }
  if (std::holds_alternative<SandboxClaimed>(e)) {
    SandboxClaimed claim;
    claim.organization_id = kOrg;
    claim.name = "claimed";
    return types_of(published::map_event(warm_member(), claim, at(9)).events);
  }
  return types_of(published::map_event(started_sandbox(), e, at(9)).events);
}

template <class Variant, class F>
void each_type(F&& f) {
  boost::mp11::mp_for_each<boost::mp11::mp_rename<Variant, boost::mp11::mp_list>>(
      [&](auto sample) { f(decltype(sample)::kType, Variant{sample}); });
}

}  // namespace

TEST_CASE("published: every internal event type has a row, and gives what its row says") {
  std::size_t seen = 0;
  auto check = [&](std::string_view type, std::vector<std::string> got) {
    ++seen;
    CAPTURE(type);
    REQUIRE(kRows.contains(type));  // a new internal event: decide what consumers see of it, here
    CHECK(got == kRows.at(type));
  };
  each_type<SandboxEvent>([&](std::string_view t, const SandboxEvent& e) { check(t, sandbox_row(e)); });
  each_type<SnapshotEvent>([&](std::string_view t, const SnapshotEvent& e) {
    const bool creation = std::holds_alternative<SnapshotCreated>(e);
    SnapshotEvent ev = e;
    if (creation) {
      SnapshotCreated c;
      c.organization_id = kOrg;
      ev = c;
    }
    check(t, types_of(published::map_event(creation ? published::SnapshotTrack{} : active_snapshot(), ev, at(9)).events));
  });
  each_type<VolumeEvent>([&](std::string_view t, const VolumeEvent& e) {
    const bool creation = std::holds_alternative<VolumeCreated>(e);
    check(t, types_of(published::map_event(creation ? published::VolumeTrack{} : ready_volume(), e, at(9)).events));
  });
  // The other aggregates' streams are not read for public events at all.
  for (auto category : {"runner", "organization", "sandboxname", "warmpool", "webhookendpoint", "sshaccess"}) {
    CHECK_FALSE(published::is_published_category(category));
  }
  each_type<RunnerEvent>([&](std::string_view t, const RunnerEvent&) { check(t, {}); });
  each_type<OrganizationEvent>([&](std::string_view t, const OrganizationEvent&) { check(t, {}); });
  each_type<SandboxNameEvent>([&](std::string_view t, const SandboxNameEvent&) { check(t, {}); });
  each_type<WarmPoolEvent>([&](std::string_view t, const WarmPoolEvent&) { check(t, {}); });
  each_type<WebhookEndpointEvent>([&](std::string_view t, const WebhookEndpointEvent&) { check(t, {}); });
  each_type<SshAccessEvent>([&](std::string_view t, const SshAccessEvent&) { check(t, {}); });
  CHECK(seen == kRows.size());  // and no row for a type that no longer exists
  for (const auto& [type, row] : kRows) {
    for (const auto& t : row) CHECK(published::is_type(t));
  }
}

TEST_CASE("published: state updates carry the old and new state and why") {
  auto t = fold({}, {created_spec(), SandboxRunnerAssigned{kRunner}});
  auto starting = published::map_event(t, SandboxStarting{kRunner}, at(3));
  REQUIRE(starting.events.size() == 1);
  const auto& update = starting.events[0].data;
  CHECK(update.at("event") == "sandbox.state.updated");
  CHECK(update.at("oldState") == "creating");
  CHECK(update.at("newState") == "starting");
  CHECK(update.at("reason") == "created");
  CHECK(update.at("organizationId").as_string() == kOrg.str());
  CHECK(starting.events[0].id == "3.0");

  auto running = fold(starting.after, {SandboxStarted{kRunner}});
  auto asked = published::map_event(running, SandboxStopRequested{false, "auto-stop: no activity for 15 minutes"}, at(5));
  CHECK(asked.events.empty());  // a request is not a change of state
  auto stopping = published::map_event(asked.after, SandboxStopping{kRunner}, at(6));
  REQUIRE(stopping.events.size() == 1);
  CHECK(stopping.events[0].data.at("reason") == "auto-stop: no activity for 15 minutes");

  auto user = published::map_event(running, SandboxStopRequested{false, "user"}, at(5)).after;
  CHECK(published::map_event(user, SandboxStopping{kRunner}, at(6)).events[0].data.at("reason") ==
        "stop requested by the user");

  SandboxOomKilled oom;
  oom.runner_id = kRunner;
  oom.memory_limit_bytes = 1 << 30;
  oom.process = "python3";
  auto killed = published::map_event(running, oom, at(7));
  REQUIRE(types_of(killed.events) == std::vector<std::string>{"sandbox.oom_killed"});
  CHECK(killed.events[0].data.at("memoryLimitBytes") == (1 << 30));
  auto errored = published::map_event(killed.after, SandboxErrored{kRunner, "", false}, at(8));
  REQUIRE(errored.events.size() == 1);
  CHECK(errored.events[0].data.at("newState") == "error");
  CHECK(std::string(errored.events[0].data.at("reason").as_string()).find("out of memory: python3") == 0);

  auto gone = published::map_event(published::map_event(running, SandboxDestroyRequested{"user"}, at(9)).after,
                                   SandboxDestroyed{kRunner}, at(10));
  REQUIRE(types_of(gone.events) == std::vector<std::string>{"sandbox.state.updated", "sandbox.deleted"});
  CHECK(gone.events[1].id == "10.1");
  CHECK(gone.events[1].data.at("reason") == "delete requested by the user");
}

TEST_CASE("published: a warm-pool member is nobody's until claimed, then its claimer's new sandbox") {
  auto spec = created_spec(warm_pool_organization());
  published::SandboxTrack t;
  std::int64_t position = 1;
  for (const SandboxEvent& e : std::vector<SandboxEvent>{spec, SandboxJoinedWarmPool{}, SandboxRunnerAssigned{kRunner},
                                                         SandboxStarting{kRunner}, SandboxStarted{kRunner}}) {
    auto m = published::map_event(t, e, at(position++));
    CHECK(m.events.empty());
    t = m.after;
  }
  SandboxClaimed claim;
  claim.organization_id = kOrg;
  claim.env_applied = true;
  auto claimed = published::map_event(t, claim, at(position));
  REQUIRE(claimed.events.size() == 1);
  CHECK(claimed.events[0].type == "sandbox.created");
  CHECK(claimed.events[0].organization_id == kOrg.str());
  CHECK(claimed.events[0].data.at("state") == "started");
  CHECK(claimed.events[0].data.at("class") == "small");
}

TEST_CASE("published: nothing internal leaves (env, runners), and general snapshots go to nobody") {
  auto t = started_sandbox();
  std::string all;
  for (const SandboxEvent& e : std::vector<SandboxEvent>{SandboxStopping{kRunner}, SandboxStopped{kRunner},
                                                         SandboxArchived{kRunner, "/var/archive/x"},
                                                         SandboxDestroyed{kRunner}}) {
    auto m = published::map_event(t, e, at(20));
    for (const auto& p : m.events) all += boost::json::serialize(published::to_cloudevent(p, published::kSource));
    t = m.after;
  }
  for (const auto& p : published::map_event({}, created_spec(), at(1)).events) all += boost::json::serialize(p.data);
  CHECK(all.find("hunter2") == std::string::npos);
  CHECK(all.find("SECRET_TOKEN") == std::string::npos);
  CHECK(all.find(kRunner.str()) == std::string::npos);
  CHECK(all.find("/var/archive") == std::string::npos);

  SnapshotCreated general;
  general.name = "default";
  CHECK(published::map_event({}, general, at(1)).events.empty());
}

TEST_CASE("published: a stream met in its middle is read from its start first") {
  const std::vector<SandboxEvent> history{created_spec(), SandboxRunnerAssigned{kRunner}, SandboxStarting{kRunner},
                                          SandboxStarted{kRunner}, SandboxStopRequested{false, "user"}};
  auto recorded = [](const SandboxEvent& e, std::int64_t version) {
    RecordedEvent r;
    r.position = GlobalPosition{100 + version};
    r.stream = "sandbox-" + kSandbox.str();
    r.version = StreamVersion{version};
    const auto encoded = encode(e);
    r.type = encoded.type;
    r.schema_version = encoded.schema_version;
    r.data = encoded.data;
    r.recorded_at = "2026-12-01T10:00:00.123456Z";
    return r;
  };
  published::Publisher publisher;
  const auto stopping = recorded(SandboxStopping{kRunner}, 5);
  REQUIRE(publisher.needs_history(stopping));
  for (std::int64_t v = 0; v < 5; ++v) publisher.absorb(recorded(history[static_cast<std::size_t>(v)], v));
  CHECK_FALSE(publisher.needs_history(stopping));
  const auto out = publisher.publish(stopping);
  REQUIRE(out.size() == 1);
  CHECK(out[0].data.at("oldState") == "started");
  CHECK(out[0].data.at("reason") == "stop requested by the user");
  CHECK(out[0].time == "2026-12-01T10:00:00.123Z");
  CHECK(out[0].id == "105.0");
  const auto ce = published::to_cloudevent(out[0], published::kSource);
  CHECK(ce.at("specversion") == "1.0");
  CHECK(ce.at("id") == "105.0");
  CHECK(ce.at("subject").as_string() == kSandbox.str());
  CHECK(ce.at("type") == "sandbox.state.updated");
  CHECK(ce.at("datacontenttype") == "application/json");
  CHECK(ce.at("data").at("newState") == "stopping");

  RecordedEvent junk = stopping;
  junk.position = GlobalPosition{200};
  junk.version = StreamVersion{6};
  junk.data = "{not json";
  CHECK(publisher.publish(junk).empty());
  CHECK(publisher.undecodable() == 1);
}

TEST_CASE("published: type lists are checked by name") {
  auto ok = published::parse_types("sandbox.created,volume.state.updated");
  REQUIRE(ok);
  CHECK(ok->size() == 2);
  auto bad = published::parse_types("sandbox.created,SandboxStarted");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("'SandboxStarted' is not a public event type") != std::string::npos);
  CHECK_FALSE(published::parse_types(""));
  CHECK(published::contract_time("2026-12-01T10:00:00.123456Z") == "2026-12-01T10:00:00.123Z");
}
