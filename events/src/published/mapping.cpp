#include "events/published/mapping.hpp"

#include "events/catalogue/warm_pool.hpp"

#include <type_traits>

namespace events::published {

namespace {

template <class... F>
struct Cases : F... {
  using F::operator()...;
};

// Daytona's sandbox classes, from the resources: small up to 2 CPUs and 4 GiB, medium up to 4
// CPUs and 8 GiB, large beyond.
std::string sandbox_class(const Resources& r) {
  if (r.cpu <= 2 && r.memory_gib <= 4) return "small";
  if (r.cpu <= 4 && r.memory_gib <= 8) return "medium";
  return "large";
}

// A request's reason as a person reads it ("user" is the API's word for "the caller asked").
std::string requested(std::string_view what, std::string_view reason) {
  if (reason.empty() || reason == "user") return std::string(what) + " requested by the user";
  return std::string(reason);
}

PublicEvent make(const Origin& at, std::size_t n, std::string_view type, std::string subject, std::string organization,
                 boost::json::value data) {
  PublicEvent e;
  e.id = std::to_string(at.position) + "." + std::to_string(n);
  e.position = at.position;
  e.index = static_cast<int>(n);
  e.type = std::string(type);
  e.subject = std::move(subject);
  e.organization_id = std::move(organization);
  e.time = at.time;
  e.data = std::move(data.as_object());
  return e;
}

// --- sandboxes ---

struct SandboxOut {
  const Origin& at;
  SandboxTrack& after;
  std::vector<PublicEvent>& out;
  bool state_update = true;  // a change of state is published as sandbox.state.updated

  std::string id() const { return after.state.id.str(); }
  std::string org() const { return after.state.organization_id.str(); }
  void add(std::string_view type, boost::json::value data) { out.push_back(make(at, out.size(), type, id(), org(), std::move(data))); }

  void created() {
    after.created_at = at.time;
    add("sandbox.created", http::to_json(SandboxCreatedWebhook{"sandbox.created", at.time, id(), org(),
                                                                std::string(to_string(after.state.actual)),
                                                                sandbox_class(after.state.resources), at.time}));
    state_update = false;
  }

  void operator()(const SandboxCreated&) {
    after.reason = "created";
    if (after.state.organization_id == warm_pool_organization()) {  // a warm-pool member: nobody's until claimed
      after.created_at = at.time;
      state_update = false;
      return;
    }
    created();
  }
  void operator()(const SandboxClaimed&) {
    after.reason = "claimed from a warm pool";
    created();
  }
  void operator()(const SandboxJoinedWarmPool&) {}
  void operator()(const SandboxRunnerAssigned&) {}
  void operator()(const SandboxSchedulingFailed& e) { after.reason = e.reason; }
  void operator()(const SandboxStartRequested&) { after.reason = requested("start", "user"); }
  void operator()(const SandboxStopRequested& e) { after.reason = requested("stop", e.reason); }
  void operator()(const SandboxArchiveRequested& e) { after.reason = requested("archive", e.reason); }
  void operator()(const SandboxDestroyRequested& e) { after.reason = requested("delete", e.reason); }
  void operator()(const SandboxLabelsReplaced&) {}
  void operator()(const SandboxTimerSet&) {}
  void operator()(const SandboxActivityRecorded&) {}
  void operator()(const SandboxResized&) {}
  void operator()(const SandboxNetworkChanged&) {}  // in the audit log; not a public event
  void operator()(const SandboxPullingSnapshot&) {}
  void operator()(const SandboxBuildingSnapshot&) {}
  void operator()(const SandboxStarting&) {}
  void operator()(const SandboxStarted&) {}
  void operator()(const SandboxStopping&) {}
  void operator()(const SandboxStopped&) {}
  void operator()(const SandboxArchiving&) {}
  void operator()(const SandboxArchived&) {}
  void operator()(const SandboxRestoring&) {}
  void operator()(const SandboxDestroying&) {}
  void operator()(const SandboxDestroyed&) {}
  void operator()(const SandboxErrored& e) {
    if (!e.reason.empty()) after.reason = e.reason;
  }
  void operator()(const SandboxBuildFailed& e) { after.reason = "build failed: " + e.reason; }
  void operator()(const SandboxOomKilled& e) {
    const std::string what = e.process.empty() ? std::string("a process") : e.process;
    after.reason = "out of memory: " + what + " was killed at the limit of " + std::to_string(e.memory_limit_bytes) +
                   " bytes";
    add("sandbox.oom_killed", http::to_json(SandboxOomKilledWebhook{"sandbox.oom_killed", at.time, id(), org(),
                                                                     e.memory_limit_bytes, e.process, after.reason}));
  }
};

// Not yet anyone's: never created, or a warm-pool member no create has claimed (its organization
// is the pool's until then).
bool unpublished(const sandbox::State& s) { return !s.exists || s.organization_id == warm_pool_organization(); }

// --- snapshots and volumes ---

std::string snapshot_org(const snapshot::State& s) {
  return s.spec.organization_id ? s.spec.organization_id->str() : std::string();
}

}  // namespace

bool is_published_category(std::string_view category) {
  return category == "sandbox" || category == "snapshot" || category == "volume";
}

Mapped<SandboxTrack> map_event(const SandboxTrack& before, const SandboxEvent& e, const Origin& at) {
  Mapped<SandboxTrack> m{{}, before};
  m.after.state = sandbox::evolve(before.state, e);
  SandboxOut out{at, m.after, m.events};
  std::visit(out, e);
  // A warm-pool member's own history stays out; its claim is its creation for the claimer.
  if (unpublished(m.after.state)) {
    m.events.clear();
    return m;
  }
  if (out.state_update && !unpublished(before.state) && before.state.actual != m.after.state.actual) {
    const auto s = std::string(to_string(m.after.state.actual));
    out.add("sandbox.state.updated",
            http::to_json(SandboxStateUpdatedWebhook{"sandbox.state.updated", at.time, out.id(), out.org(),
                                                     std::string(to_string(before.state.actual)), s, at.time,
                                                     m.after.reason}));
  }
  if (std::holds_alternative<SandboxDestroyed>(e)) {
    out.add("sandbox.deleted", http::to_json(SandboxDeletedWebhook{"sandbox.deleted", at.time, out.id(), out.org(),
                                                                    at.time, m.after.reason}));
  }
  return m;
}

Mapped<SnapshotTrack> map_event(const SnapshotTrack& before, const SnapshotEvent& e, const Origin& at) {
  Mapped<SnapshotTrack> m{{}, before};
  m.after.state = snapshot::evolve(before.state, e);
  auto& a = m.after;
  const auto id = a.state.spec.snapshot_id.str();
  const auto org = snapshot_org(a.state);
  auto add = [&](std::string_view type, boost::json::value data) {
    m.events.push_back(make(at, m.events.size(), type, id, org, std::move(data)));
  };
  bool state_update = true;
  std::visit(Cases{
                 [&](const SnapshotCreated&) {
                   a.created_at = at.time;
                   a.reason = "created";
                   state_update = false;
                   add("snapshot.created",
                       http::to_json(SnapshotCreatedWebhook{"snapshot.created", at.time, id, a.state.spec.name, org,
                                                            std::string(to_string(a.state.state)), at.time}));
                 },
                 [&](const SnapshotPulling&) { a.reason = "pulling the image"; },
                 [&](const SnapshotActivated&) { a.reason = "image ready"; },
                 [&](const SnapshotFailed& f) { a.reason = f.reason; },
                 [&](const SnapshotDeactivated&) { a.reason = "deactivated by the user"; },
                 [&](const SnapshotReactivated&) { a.reason = "activated by the user"; },
                 [&](const SnapshotRemoveRequested&) { a.reason = "remove requested by the user"; },
                 [&](const SnapshotRemoved&) {
                   state_update = false;  // Daytona's snapshot states end at removing: removed is this event
                   add("snapshot.removed", http::to_json(SnapshotRemovedWebhook{"snapshot.removed", at.time, id,
                                                                                a.state.spec.name, org, at.time}));
                 },
             },
             e);
  if (state_update && before.state.exists && before.state.state != a.state.state) {
    add("snapshot.state.updated",
        http::to_json(SnapshotStateUpdatedWebhook{"snapshot.state.updated", at.time, id, a.state.spec.name, org,
                                                  std::string(to_string(before.state.state)),
                                                  std::string(to_string(a.state.state)), at.time, a.reason}));
  }
  // General snapshots (no organization) are the platform's: no organization is sent their events.
  if (org.empty()) m.events.clear();
  return m;
}

Mapped<VolumeTrack> map_event(const VolumeTrack& before, const VolumeEvent& e, const Origin& at) {
  Mapped<VolumeTrack> m{{}, before};
  m.after.state = volume::evolve(before.state, e);
  auto& a = m.after;
  const auto id = a.state.id.str();
  const auto org = a.state.organization_id.str();
  bool state_update = true;
  std::visit(Cases{
                 [&](const VolumeCreated&) {
                   a.created_at = at.time;
                   a.reason = "created";
                   state_update = false;
                   m.events.push_back(make(at, m.events.size(), "volume.created", id, org,
                                           http::to_json(VolumeCreatedWebhook{"volume.created", at.time, id,
                                                                              a.state.name, org,
                                                                              std::string(to_string(a.state.state)),
                                                                              at.time})));
                 },
                 [&](const VolumeReady&) { a.reason = "storage ready"; },
                 [&](const VolumeFailed& f) { a.reason = f.reason; },
                 [&](const VolumeDeleteRequested&) { a.reason = "delete requested by the user"; },
                 [&](const VolumeDeleted&) {},
             },
             e);
  if (state_update && before.state.exists && before.state.state != a.state.state) {
    m.events.push_back(make(at, m.events.size(), "volume.state.updated", id, org,
                            http::to_json(VolumeStateUpdatedWebhook{"volume.state.updated", at.time, id, a.state.name,
                                                                    org, std::string(to_string(before.state.state)),
                                                                    std::string(to_string(a.state.state)), at.time,
                                                                    a.reason})));
  }
  return m;
}

namespace {

template <class Variant, class Track>
std::vector<PublicEvent> feed_stream(std::map<std::string, Track>& tracks, const RecordedEvent& e, bool emit,
                                     std::size_t& undecodable) {
  auto decoded = decode<Variant>(e);
  if (!decoded) {
    ++undecodable;
    return {};
  }
  auto& track = tracks[e.stream_id()];
  auto m = map_event(track, *decoded, Origin{e.position.value(), contract_time(e.recorded_at)});
  track = std::move(m.after);
  if (!emit) return {};
  return std::move(m.events);
}

}  // namespace

std::vector<PublicEvent> Publisher::feed(const RecordedEvent& e, bool emit) {
  const auto category = e.category();
  if (category == "sandbox") {
    auto out = feed_stream<SandboxEvent>(sandboxes_, e, emit, undecodable_);
    if (sandboxes_[e.stream_id()].state.actual == SandboxState::destroyed) sandboxes_.erase(e.stream_id());
    return out;
  }
  if (category == "snapshot") {
    auto out = feed_stream<SnapshotEvent>(snapshots_, e, emit, undecodable_);
    if (snapshots_[e.stream_id()].state.state == SnapshotState::removed) snapshots_.erase(e.stream_id());
    return out;
  }
  if (category == "volume") {
    auto out = feed_stream<VolumeEvent>(volumes_, e, emit, undecodable_);
    if (volumes_[e.stream_id()].state.state == VolumeState::deleted) volumes_.erase(e.stream_id());
    return out;
  }
  return {};
}

std::vector<PublicEvent> Publisher::publish(const RecordedEvent& e) { return feed(e, true); }

std::vector<PublicEvent> Publisher::publish(const RecordedEvent& e, const ReadStream& read) {
  if (needs_history(e)) {
    auto stream = StreamName::parse(e.stream);
    auto history = stream ? read(*stream) : Result<std::vector<RecordedEvent>>(stream.error());
    if (history) {
      for (const auto& earlier : *history) {
        if (earlier.version.value() < e.version.value()) absorb(earlier);
      }
    }
  }
  return publish(e);
}

void Publisher::absorb(const RecordedEvent& e) { feed(e, false); }

bool Publisher::needs_history(const RecordedEvent& e) const {
  if (e.version.value() == 0) return false;
  const auto category = e.category();
  const auto id = e.stream_id();
  if (category == "sandbox") return !sandboxes_.contains(id);
  if (category == "snapshot") return !snapshots_.contains(id);
  if (category == "volume") return !volumes_.contains(id);
  return false;
}

}  // namespace events::published
