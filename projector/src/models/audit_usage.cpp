// audit_log: who did what, when, with correlation ids (one row per event).
// usage: sandbox-seconds per organization and state, weighted by cpu, memory and disk.
#include "common.hpp"

namespace projector::models {
namespace {

using namespace events;

class Audit final : public ReadModel {
 public:
  std::string name() const override { return "audit"; }
  std::vector<Table> tables() const override { return {{"audit_log", "position"}}; }
  std::string ddl() const override {
    return R"(create table if not exists audit_log (
      position bigint primary key, recorded_at timestamptz not null, organization_id text not null,
      actor text not null, resource_type text not null, resource_id text not null, action text not null,
      correlation_id text not null, causation_id text not null, data jsonb not null);
    create index if not exists audit_org_time on audit_log (organization_id, recorded_at);
    create index if not exists audit_resource on audit_log (resource_id, position);)";
  }
  void prepare(pqxx::connection_base& c) const override {
    c.prepare("audit_insert",
              "insert into audit_log (position, recorded_at, organization_id, actor, resource_type, "
              "resource_id, action, correlation_id, causation_id, data) values ($1, $2::timestamptz, $3, $4, "
              "$5, $6, $7, $8, $9, $10::jsonb) on conflict (position) do nothing");
  }
  Result<void> apply(pqxx::transaction_base& tx, const RecordedEvent& e) const override {
    auto meta = parse_metadata(e.metadata);
    if (!meta) return meta.error();
    tx.exec_prepared("audit_insert", e.position.value(), e.recorded_at, meta->organization_id, meta->actor,
                     e.category(), e.stream_id(), e.type,
                     meta->correlation_id, meta->causation_id, e.data);
    return {};
  }
};

class Usage final : public ReadModel {
 public:
  std::string name() const override { return "usage"; }
  std::vector<Table> tables() const override {
    return {{"usage", "organization_id, state"}, {"usage_open", "sandbox_id"}};
  }
  std::string ddl() const override {
    return R"(create table if not exists usage (
      organization_id uuid not null, state text not null, sandbox_seconds double precision not null,
      cpu_seconds double precision not null, memory_gib_seconds double precision not null,
      disk_gib_seconds double precision not null, primary key (organization_id, state));
    create table if not exists usage_open (
      sandbox_id uuid primary key, organization_id uuid not null, state text not null,
      since timestamptz not null, cpu int not null, memory int not null, disk int not null);)";
  }
  void prepare(pqxx::connection_base& c) const override {
    c.prepare("usage_open_insert",
              "insert into usage_open (sandbox_id, organization_id, state, since, cpu, memory, disk) values "
              "($1, $2, $3, $4::timestamptz, $5, $6, $7) on conflict (sandbox_id) do nothing");
    // Closes the open interval into usage, then opens the next one with the new state/resources.
    c.prepare("usage_close",
              "with closed as (select organization_id, state, extract(epoch from ($2::timestamptz - since)) as s, "
              "cpu, memory, disk from usage_open where sandbox_id = $1) "
              "insert into usage (organization_id, state, sandbox_seconds, cpu_seconds, memory_gib_seconds, "
              "disk_gib_seconds) select organization_id, state, s, s * cpu, s * memory, s * disk from closed "
              "on conflict (organization_id, state) do update set sandbox_seconds = usage.sandbox_seconds + "
              "excluded.sandbox_seconds, cpu_seconds = usage.cpu_seconds + excluded.cpu_seconds, "
              "memory_gib_seconds = usage.memory_gib_seconds + excluded.memory_gib_seconds, "
              "disk_gib_seconds = usage.disk_gib_seconds + excluded.disk_gib_seconds");
    c.prepare("usage_reopen",
              "update usage_open set state = coalesce($3, state), since = $2::timestamptz, "
              "cpu = coalesce($4, cpu), memory = coalesce($5, memory), disk = coalesce($6, disk) where sandbox_id = $1");
    c.prepare("usage_end", "delete from usage_open where sandbox_id = $1");
    // A claimed warm sandbox: its time so far was the pool's, from here on it is the claimer's.
    c.prepare("usage_claimed", "update usage_open set organization_id = $2::uuid, state = $4, "
                               "since = $3::timestamptz where sandbox_id = $1");
  }
  Result<void> apply(pqxx::transaction_base& tx, const RecordedEvent& e) const override {
    if (e.category() != "sandbox") return {};
    auto decoded = decode<SandboxEvent>(e);
    if (!decoded) return decoded.error();
    const auto id = e.stream_id();
    if (const auto* c = std::get_if<SandboxCreated>(&*decoded)) {
      tx.exec_prepared("usage_open_insert", id, c->organization_id.str(), c->dockerfile ? "pending_build" : "creating",
                       e.recorded_at, c->resources.cpu, c->resources.memory_gib, c->resources.disk_gib);
      return {};
    }
    if (const auto* c = std::get_if<SandboxClaimed>(&*decoded)) {
      tx.exec_prepared("usage_close", id, e.recorded_at);
      tx.exec_prepared("usage_claimed", id, c->organization_id.str(), e.recorded_at,
                       c->env_applied ? "started" : "starting");
      return {};
    }
    std::optional<std::string> state = reached_state(*decoded);
    std::optional<int> cpu, memory, disk;
    if (const auto* r = std::get_if<SandboxResized>(&*decoded)) {
      cpu = r->resources.cpu;
      memory = r->resources.memory_gib;
      disk = r->resources.disk_gib;
    }
    if (!state && !cpu) return {};
    tx.exec_prepared("usage_close", id, e.recorded_at);
    if (state == "destroyed") {
      tx.exec_prepared("usage_end", id);
    } else {
      tx.exec_prepared("usage_reopen", id, e.recorded_at, state, cpu, memory, disk);
    }
    return {};
  }

 private:
  static std::optional<std::string> reached_state(const SandboxEvent& e) {
    return std::visit(
        [](const auto& ev) -> std::optional<std::string> {
          using T = std::decay_t<decltype(ev)>;
          if constexpr (std::is_same_v<T, SandboxPullingSnapshot>) return "pulling_snapshot";
          else if constexpr (std::is_same_v<T, SandboxBuildingSnapshot>) return "building_snapshot";
          else if constexpr (std::is_same_v<T, SandboxStarting>) return "starting";
          else if constexpr (std::is_same_v<T, SandboxStarted>) return "started";
          else if constexpr (std::is_same_v<T, SandboxStopping>) return "stopping";
          else if constexpr (std::is_same_v<T, SandboxStopped>) return "stopped";
          else if constexpr (std::is_same_v<T, SandboxArchiving>) return "archiving";
          else if constexpr (std::is_same_v<T, SandboxArchived>) return "archived";
          else if constexpr (std::is_same_v<T, SandboxRestoring>) return "restoring";
          else if constexpr (std::is_same_v<T, SandboxDestroying>) return "destroying";
          else if constexpr (std::is_same_v<T, SandboxDestroyed>) return "destroyed";
          else if constexpr (std::is_same_v<T, SandboxErrored>) return "error";
          else if constexpr (std::is_same_v<T, SandboxSchedulingFailed>) return "error";
          else if constexpr (std::is_same_v<T, SandboxBuildFailed>) return "build_failed";
          else return std::nullopt;
        },
        e);
  }
};

}  // namespace

std::unique_ptr<ReadModel> make_audit() { return std::make_unique<Audit>(); }
std::unique_ptr<ReadModel> make_usage() { return std::make_unique<Usage>(); }

}  // namespace projector::models
