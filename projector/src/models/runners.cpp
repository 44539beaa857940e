// runners: capacity, load and liveness of each compute host, and how many sandboxes it holds
// (for scheduling: the least-loaded runner with capacity in the region).
#include "common.hpp"
#include "set_wise.hpp"
#include "events/store/sql.hpp"

namespace projector::models {
namespace {

using namespace events;

class Runners final : public SetWiseModel {
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
    c.prepare("runner_assign_all",
              "update runners r set assigned_sandboxes = assigned_sandboxes + x.sandboxes, assigned_cpu = "
              "assigned_cpu + x.cpu, assigned_memory = assigned_memory + x.memory, assigned_disk = assigned_disk + "
              "x.disk from jsonb_to_recordset($1::jsonb) as x(id uuid, sandboxes int, cpu int, memory int, disk int) "
              "where r.id = x.id");
    prepare_upsert(c, "runner_sandboxes_upsert", "runner_sandboxes", "sandbox_id");
  }
  // Runner events one by one (they are few); the sandbox events that move capacity set-wise: the
  // batch's runner_sandboxes rows are read at once, folded in memory, and written back with one
  // upsert, and each runner's capacity moves once by the batch's sum (one update per runner row
  // per event made every batch walk a long chain of row versions).
  Result<void> apply_batch(pqxx::transaction_base& tx, std::span<const RecordedEvent> batch,
                           Writes& writes) const override {
    for (const auto& e : batch) {
      if (e.category() != "runner") continue;
      writes.open();
      if (auto applied = apply_runner(tx, e); !applied) return applied;
    }
    auto mine = sandbox_events(batch, moves_capacity);
    if (!mine) return mine.error();
    if (mine->events.empty()) return {};
    Rows placed("runner_sandboxes", "sandbox_id");
    placed.load(tx, writes, mine->ids);
    std::map<std::string, Capacity> moved;
    for (const auto& [e, event] : mine->events) fold(placed, moved, e->stream_id(), event);
    placed.write(writes, "runner_sandboxes_upsert");
    if (!moved.empty()) {
      boost::json::array rows;
      for (const auto& [runner, m] : moved) {
        rows.push_back({{"id", runner}, {"sandboxes", m.sandboxes}, {"cpu", m.cpu}, {"memory", m.memory}, {"disk", m.disk}});
      }
      writes.execute("runner_assign_all", boost::json::serialize(rows));
    }
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

  struct Capacity {
    std::int64_t sandboxes = 0, cpu = 0, memory = 0, disk = 0;
  };

  static bool moves_capacity(const SandboxEvent& e) {
    return std::holds_alternative<SandboxCreated>(e) || std::holds_alternative<SandboxResized>(e) ||
           std::holds_alternative<SandboxRunnerAssigned>(e) || std::holds_alternative<SandboxArchived>(e) ||
           std::holds_alternative<SandboxDestroyed>(e);
  }

  static int number(const boost::json::object& row, const char* key) {
    return static_cast<int>(row.at(key).to_number<std::int64_t>());
  }

  // Sandbox assignment moves capacity onto a runner; archive and destroy give it back.
  // The resources come from the sandbox's creation event, kept in runner_sandboxes.
  static void fold(Rows& placed, std::map<std::string, Capacity>& moved, const std::string& sandbox,
                   const SandboxEvent& event) {
    auto found = placed.by_key.find(sandbox);
    if (const auto* c = std::get_if<SandboxCreated>(&event)) {
      if (found != placed.by_key.end()) return;
      placed.by_key[sandbox] = {{"sandbox_id", sandbox}, {"runner_id", nullptr}, {"cpu", c->resources.cpu},
                                {"memory", c->resources.memory_gib}, {"disk", c->resources.disk_gib}};
      placed.changed.insert(sandbox);
      return;
    }
    if (found == placed.by_key.end()) return;
    auto& row = found->second;
    const bool on_runner = row.at("runner_id").is_string();
    const std::string runner = on_runner ? std::string(row.at("runner_id").as_string()) : std::string();
    if (const auto* r = std::get_if<SandboxResized>(&event)) {
      if (on_runner) {
        auto& m = moved[runner];
        m.cpu += r->resources.cpu - number(row, "cpu");
        m.memory += r->resources.memory_gib - number(row, "memory");
        m.disk += r->resources.disk_gib - number(row, "disk");
      }
      row["cpu"] = r->resources.cpu;
      row["memory"] = r->resources.memory_gib;
      row["disk"] = r->resources.disk_gib;
      placed.changed.insert(sandbox);
      return;
    }
    const auto shift = [&](const std::string& id, int sign) {
      auto& m = moved[id];
      m.sandboxes += sign;
      m.cpu += sign * number(row, "cpu");
      m.memory += sign * number(row, "memory");
      m.disk += sign * number(row, "disk");
    };
    if (std::holds_alternative<SandboxArchived>(event) || std::holds_alternative<SandboxDestroyed>(event)) {
      if (!on_runner) return;
      shift(runner, -1);
      row["runner_id"] = nullptr;
    } else if (const auto* a = std::get_if<SandboxRunnerAssigned>(&event)) {
      shift(a->runner_id.str(), 1);
      row["runner_id"] = a->runner_id.str();
    }
    placed.changed.insert(sandbox);
  }
};

}  // namespace

std::unique_ptr<ReadModel> make_runners() { return std::make_unique<Runners>(); }

}  // namespace projector::models
