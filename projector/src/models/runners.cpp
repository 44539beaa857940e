// runners: capacity, load and liveness of each compute host, and how many sandboxes it holds
// (for scheduling: the least-loaded runner with capacity in the region).
#include "common.hpp"
#include "events/store/sql.hpp"

namespace projector::models {
namespace {

using namespace events;

class Runners final : public ReadModel {
 public:
  std::string name() const override { return "runners"; }
  std::vector<Table> tables() const override {
    return {{"runners", "id"}, {"runner_sandboxes", "sandbox_id"}};
  }
  std::string ddl() const override {
    return R"(create table if not exists runners (
      id uuid primary key, region text not null, endpoint text not null, state text not null,
      cpu int not null, memory int not null, disk int not null, max_sandboxes int not null,
      reported_sandboxes int not null default 0, cpu_used double precision not null default 0,
      memory_used double precision not null default 0, disk_used double precision not null default 0,
      assigned_sandboxes int not null default 0, assigned_cpu int not null default 0,
      assigned_memory int not null default 0, assigned_disk int not null default 0,
      last_heartbeat_at timestamptz, registered_at timestamptz not null, updated_at timestamptz not null);
    create table if not exists runner_sandboxes (
      sandbox_id uuid primary key, runner_id uuid, cpu int not null, memory int not null, disk int not null);)";
  }
  void prepare(pqxx::connection_base& c) const override {
    c.prepare("runner_register",
              "insert into runners (id, region, endpoint, state, cpu, memory, disk, max_sandboxes, "
              "registered_at, updated_at) values ($1, $2, $3, 'ready', $4, $5, $6, $7, $8::timestamptz, "
              "$8::timestamptz) on conflict (id) do update set region = excluded.region, endpoint = "
              "excluded.endpoint, state = 'ready', cpu = excluded.cpu, memory = excluded.memory, disk = "
              "excluded.disk, max_sandboxes = excluded.max_sandboxes, updated_at = excluded.updated_at");
    c.prepare("runner_heartbeat",
              "update runners set reported_sandboxes = $2, cpu_used = $3, memory_used = $4, disk_used = $5, "
              "last_heartbeat_at = $6::timestamptz, updated_at = $6::timestamptz where id = $1");
    c.prepare("runner_state", "update runners set state = $2, updated_at = $3::timestamptz where id = $1");
    c.prepare("runner_assign",
              "update runners set assigned_sandboxes = assigned_sandboxes + $2, assigned_cpu = assigned_cpu + $3, "
              "assigned_memory = assigned_memory + $4, assigned_disk = assigned_disk + $5 where id = $1");
  }
  Result<void> apply(pqxx::transaction_base& tx, const RecordedEvent& e) const override {
    if (e.category() == "runner") return apply_runner(tx, e);
    if (e.category() == "sandbox") return apply_sandbox(tx, e);
    return {};
  }

 private:
  static Result<void> apply_runner(pqxx::transaction_base& tx, const RecordedEvent& e) {
    auto decoded = decode<RunnerEvent>(e);
    if (!decoded) return decoded.error();
    const auto id = e.stream_id();
    std::visit(
        [&](const auto& ev) {
          using T = std::decay_t<decltype(ev)>;
          if constexpr (std::is_same_v<T, RunnerRegistered>) {
            tx.exec_prepared("runner_register", id, ev.region, ev.endpoint, ev.capacity.cpu,
                             ev.capacity.memory_gib, ev.capacity.disk_gib, ev.capacity.max_sandboxes, e.recorded_at);
          } else if constexpr (std::is_same_v<T, RunnerHeartbeat>) {
            tx.exec_prepared("runner_heartbeat", id, ev.load.sandboxes, ev.load.cpu_used,
                             ev.load.memory_used_gib, ev.load.disk_used_gib, e.recorded_at);
          } else if constexpr (std::is_same_v<T, RunnerCordoned>) {
            tx.exec_prepared("runner_state", id, "cordoned", e.recorded_at);
          } else if constexpr (std::is_same_v<T, RunnerUncordoned>) {
            tx.exec_prepared("runner_state", id, "ready", e.recorded_at);
          } else if constexpr (std::is_same_v<T, RunnerDraining>) {
            tx.exec_prepared("runner_state", id, "draining", e.recorded_at);
          } else if constexpr (std::is_same_v<T, RunnerRemoved>) {
            tx.exec_prepared("runner_state", id, "removed", e.recorded_at);
          }
        },
        *decoded);
    return {};
  }

  // Sandbox assignment moves capacity onto a runner; archive and destroy give it back.
  // The resources come from the sandbox's creation event, kept in runner_sandboxes.
  static Result<void> apply_sandbox(pqxx::transaction_base& tx, const RecordedEvent& e) {
    auto decoded = decode<SandboxEvent>(e);
    if (!decoded) return decoded.error();
    const auto sandbox = e.stream_id();
    if (const auto* c = std::get_if<SandboxCreated>(&*decoded)) {
      exec_cached(tx, "insert into runner_sandboxes (sandbox_id, cpu, memory, disk) values ($1, $2, $3, $4) "
                     "on conflict (sandbox_id) do nothing",
                     sandbox, c->resources.cpu, c->resources.memory_gib, c->resources.disk_gib);
      return {};
    }
    if (const auto* r = std::get_if<SandboxResized>(&*decoded)) {
      const auto rows = exec_cached(tx, "select runner_id::text, cpu, memory, disk from runner_sandboxes where sandbox_id = $1", sandbox);
      if (!rows.empty() && !rows[0][0].is_null()) {
        tx.exec_prepared("runner_assign", rows[0][0].as<std::string>(), 0, r->resources.cpu - rows[0][1].as<int>(),
                         r->resources.memory_gib - rows[0][2].as<int>(), r->resources.disk_gib - rows[0][3].as<int>());
      }
      exec_cached(tx, "update runner_sandboxes set cpu = $2, memory = $3, disk = $4 where sandbox_id = $1", sandbox,
                     r->resources.cpu, r->resources.memory_gib, r->resources.disk_gib);
      return {};
    }
    std::optional<std::string> assigned;
    bool released = false;
    if (const auto* a = std::get_if<SandboxRunnerAssigned>(&*decoded)) assigned = a->runner_id.str();
    if (std::holds_alternative<SandboxArchived>(*decoded) || std::holds_alternative<SandboxDestroyed>(*decoded)) {
      released = true;
    }
    if (!assigned && !released) return {};
    const auto rows = exec_cached(tx, "select runner_id::text, cpu, memory, disk from runner_sandboxes where sandbox_id = $1", sandbox);
    if (rows.empty()) return {};
    const int cpu = rows[0][1].as<int>(), mem = rows[0][2].as<int>(), disk = rows[0][3].as<int>();
    if (released && !rows[0][0].is_null()) {
      tx.exec_prepared("runner_assign", rows[0][0].as<std::string>(), -1, -cpu, -mem, -disk);
      exec_cached(tx, "update runner_sandboxes set runner_id = null where sandbox_id = $1", sandbox);
    }
    if (assigned) {
      tx.exec_prepared("runner_assign", *assigned, 1, cpu, mem, disk);
      exec_cached(tx, "update runner_sandboxes set runner_id = $2 where sandbox_id = $1", sandbox, *assigned);
    }
    return {};
  }
};

}  // namespace

std::unique_ptr<ReadModel> make_runners() { return std::make_unique<Runners>(); }

}  // namespace projector::models
