// snapshots and volumes: what the snapshot and volume list endpoints show.
#include "common.hpp"

namespace projector::models {
namespace {

using namespace events;

class Snapshots final : public ReadModel {
 public:
  std::string name() const override { return "snapshots"; }
  std::vector<Table> tables() const override { return {{"snapshots", "id"}}; }
  std::string ddl() const override {
    return R"(create table if not exists snapshots (
      id uuid primary key, organization_id uuid, name text not null, image_name text not null,
      state text not null, size_bytes bigint, entrypoint jsonb not null, cpu int not null,
      gpu int not null, memory int not null, disk int not null, layer_digests jsonb,
      error_reason text, created_at timestamptz not null, updated_at timestamptz not null);
    create index if not exists snapshots_name on snapshots (name);)";
  }
  void prepare(pqxx::connection_base& c) const override {
    c.prepare("snap_insert",
              "insert into snapshots (id, organization_id, name, image_name, state, entrypoint, cpu, gpu, "
              "memory, disk, created_at, updated_at) values ($1, $2::uuid, $3, $4, 'pending', $5::jsonb, $6, "
              "$7, $8, $9, $10::timestamptz, $10::timestamptz) on conflict (id) do nothing");
    c.prepare("snap_state",
              "update snapshots set state = $2, error_reason = coalesce($3, error_reason), "
              "updated_at = $4::timestamptz where id = $1");
    c.prepare("snap_active",
              "update snapshots set state = 'active', size_bytes = $2, layer_digests = $3::jsonb, "
              "error_reason = null, updated_at = $4::timestamptz where id = $1");
  }
  bool wants(const RecordedEvent& e) const override { return e.category() == "snapshot"; }
  Result<void> apply(pqxx::transaction_base& tx, const RecordedEvent& e) const override {
    if (!wants(e)) return {};
    auto decoded = decode<SnapshotEvent>(e);
    if (!decoded) return decoded.error();
    const auto id = e.stream_id();
    const std::optional<std::string> no_reason;
    std::visit(
        [&](const auto& ev) {
          using T = std::decay_t<decltype(ev)>;
          if constexpr (std::is_same_v<T, SnapshotCreated>) {
            tx.exec_prepared("snap_insert", id,
                             ev.organization_id ? std::optional<std::string>(ev.organization_id->str()) : std::nullopt,
                             ev.name, ev.image_name, json_of(ev.entrypoint), ev.resources.cpu, ev.resources.gpu,
                             ev.resources.memory_gib, ev.resources.disk_gib, e.recorded_at);
          } else if constexpr (std::is_same_v<T, SnapshotPulling>) {
            tx.exec_prepared("snap_state", id, "pulling", no_reason, e.recorded_at);
          } else if constexpr (std::is_same_v<T, SnapshotActivated>) {
            tx.exec_prepared("snap_active", id, ev.size_bytes, json_of(ev.layer_digests), e.recorded_at);
          } else if constexpr (std::is_same_v<T, SnapshotFailed>) {
            tx.exec_prepared("snap_state", id, "error", std::optional<std::string>(ev.reason), e.recorded_at);
          } else if constexpr (std::is_same_v<T, SnapshotDeactivated>) {
            tx.exec_prepared("snap_state", id, "inactive", no_reason, e.recorded_at);
          } else if constexpr (std::is_same_v<T, SnapshotReactivated>) {
            tx.exec_prepared("snap_state", id, "active", no_reason, e.recorded_at);
          } else if constexpr (std::is_same_v<T, SnapshotRemoveRequested>) {
            tx.exec_prepared("snap_state", id, "removing", no_reason, e.recorded_at);
          } else if constexpr (std::is_same_v<T, SnapshotRemoved>) {
            tx.exec_prepared("snap_state", id, "removed", no_reason, e.recorded_at);
          }
        },
        *decoded);
    return {};
  }
};

class Volumes final : public ReadModel {
 public:
  std::string name() const override { return "volumes"; }
  std::vector<Table> tables() const override { return {{"volumes", "id"}}; }
  std::string ddl() const override {
    return R"(create table if not exists volumes (
      id uuid primary key, organization_id uuid not null, name text not null, state text not null,
      error_reason text, created_at timestamptz not null, updated_at timestamptz not null,
      last_used_at timestamptz);
    create index if not exists volumes_org_name on volumes (organization_id, name);)";
  }
  void prepare(pqxx::connection_base& c) const override {
    c.prepare("vol_insert",
              "insert into volumes (id, organization_id, name, state, created_at, updated_at) values "
              "($1, $2, $3, 'pending_create', $4::timestamptz, $4::timestamptz) on conflict (id) do nothing");
    c.prepare("vol_state",
              "update volumes set state = $2, error_reason = coalesce($3, error_reason), "
              "updated_at = $4::timestamptz where id = $1");
  }
  bool wants(const RecordedEvent& e) const override { return e.category() == "volume"; }
  Result<void> apply(pqxx::transaction_base& tx, const RecordedEvent& e) const override {
    if (!wants(e)) return {};
    auto decoded = decode<VolumeEvent>(e);
    if (!decoded) return decoded.error();
    const auto id = e.stream_id();
    const std::optional<std::string> no_reason;
    std::visit(
        [&](const auto& ev) {
          using T = std::decay_t<decltype(ev)>;
          if constexpr (std::is_same_v<T, VolumeCreated>) {
            tx.exec_prepared("vol_insert", id, ev.organization_id.str(), ev.name, e.recorded_at);
          } else if constexpr (std::is_same_v<T, VolumeReady>) {
            tx.exec_prepared("vol_state", id, "ready", no_reason, e.recorded_at);
          } else if constexpr (std::is_same_v<T, VolumeFailed>) {
            tx.exec_prepared("vol_state", id, "error", std::optional<std::string>(ev.reason), e.recorded_at);
          } else if constexpr (std::is_same_v<T, VolumeDeleteRequested>) {
            tx.exec_prepared("vol_state", id, "pending_delete", no_reason, e.recorded_at);
          } else if constexpr (std::is_same_v<T, VolumeDeleted>) {
            tx.exec_prepared("vol_state", id, "deleted", no_reason, e.recorded_at);
          }
        },
        *decoded);
    return {};
  }
};

}  // namespace

std::unique_ptr<ReadModel> make_snapshots() { return std::make_unique<Snapshots>(); }
std::unique_ptr<ReadModel> make_volumes() { return std::make_unique<Volumes>(); }

}  // namespace projector::models
