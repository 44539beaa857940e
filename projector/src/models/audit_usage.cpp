// audit_log: who did what, when, with correlation ids (one row per event).
// usage: sandbox-seconds per organization and state, weighted by cpu, memory and disk.
#include "common.hpp"
#include "set_wise.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace projector::models {
namespace {

using namespace events;

class Audit final : public SetWiseModel {
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
  // One row per event of the log between two positions, made by PostgreSQL from the log itself:
  // the events' data never travels to the projector and back, nor is it parsed again. The
  // columns are what RecordedEvent and parse_metadata say: a metadata field that is not a
  // string is empty; the resource is the stream's category and what follows its first '-'.
  void prepare(pqxx::connection_base& c) const override {
    c.prepare("audit_from_log", R"(insert into audit_log
      select e.position, e.recorded_at, coalesce(m.organization_id, ''), coalesce(m.actor, ''),
             split_part(e.stream, '-', 1),
             case when strpos(e.stream, '-') > 0 then substr(e.stream, strpos(e.stream, '-') + 1) else '' end,
             e.type, coalesce(m.correlation_id, ''), coalesce(m.causation_id, ''), e.data
      from public.events e
      cross join lateral (select
        case when jsonb_typeof(e.metadata->'organization_id') = 'string' then e.metadata->>'organization_id' end,
        case when jsonb_typeof(e.metadata->'actor') = 'string' then e.metadata->>'actor' end,
        case when jsonb_typeof(e.metadata->'correlation_id') = 'string' then e.metadata->>'correlation_id' end,
        case when jsonb_typeof(e.metadata->'causation_id') = 'string' then e.metadata->>'causation_id' end)
        as m(organization_id, actor, correlation_id, causation_id)
      where e.position between ($1::bigint[])[1] and ($1::bigint[])[2])");
  }
  // Set-wise: one statement for the batch. The batch is every event of the log between its first
  // and last positions (read_all reads them all, in order). An event whose metadata cannot be
  // read fails the batch here, as it would fail alone, so the projector finds it and
  // dead-letters it. A row is never written twice: the batch commits with the checkpoint that
  // excludes it.
  Result<void> apply_batch(pqxx::transaction_base&, std::span<const RecordedEvent> batch,
                           Writes& writes) const override {
    if (batch.empty()) return {};
    for (const auto& e : batch) {
      if (auto meta = parse_metadata(e.metadata); !meta) return meta.error();
    }
    writes.execute("audit_from_log", "{" + std::to_string(batch.front().position.value()) + "," +
                                         std::to_string(batch.back().position.value()) + "}");
    return {};
  }
};

class Usage final : public SetWiseModel {
 public:
  std::string name() const override { return "usage"; }
  std::vector<Table> tables() const override {
    return {{"usage", "organization_id, state"}, {"usage_open", "sandbox_id"}};
  }
  // Seconds are numeric, so that adding a batch's intervals at once gives exactly what adding
  // them one by one gives (a replay in big batches equals the live model).
  std::string ddl() const override {
    return R"(create table if not exists usage (
      organization_id uuid not null, state text not null, sandbox_seconds numeric not null,
      cpu_seconds numeric not null, memory_gib_seconds numeric not null,
      disk_gib_seconds numeric not null, primary key (organization_id, state));
    alter table usage alter column sandbox_seconds type numeric, alter column cpu_seconds type numeric,
      alter column memory_gib_seconds type numeric, alter column disk_gib_seconds type numeric;
    create table if not exists usage_open (
      sandbox_id uuid primary key, organization_id uuid not null, state text not null,
      since timestamptz not null, cpu int not null, memory int not null, disk int not null);)";
  }
  void prepare(pqxx::connection_base& c) const override {
    prepare_upsert(c, "usage_open_upsert", "usage_open", "sandbox_id");
    c.prepare("usage_open_end", "delete from usage_open where sandbox_id = any($1::uuid[])");
    c.prepare("usage_add",
              "insert into usage select x.organization_id, x.state, x.us / 1000000.0, x.cpu_us / 1000000.0, "
              "x.memory_us / 1000000.0, x.disk_us / 1000000.0 from jsonb_to_recordset($1::jsonb) as "
              "x(organization_id uuid, state text, us bigint, cpu_us bigint, memory_us bigint, disk_us bigint) "
              "on conflict (organization_id, state) do update set sandbox_seconds = usage.sandbox_seconds + "
              "excluded.sandbox_seconds, cpu_seconds = usage.cpu_seconds + excluded.cpu_seconds, "
              "memory_gib_seconds = usage.memory_gib_seconds + excluded.memory_gib_seconds, "
              "disk_gib_seconds = usage.disk_gib_seconds + excluded.disk_gib_seconds");
  }
  // Set-wise: the batch's open intervals are read in one query; each event closes its sandbox's
  // interval (its microseconds added to the organization's total for that state) and opens the
  // next; then one upsert of the open intervals, one delete of the ended ones, one addition.
  Result<void> apply_batch(pqxx::transaction_base& tx, std::span<const RecordedEvent> batch,
                           Writes& writes) const override {
    auto mine = sandbox_events(batch, [](const SandboxEvent& e) {
      return std::holds_alternative<SandboxCreated>(e) || std::holds_alternative<SandboxClaimed>(e) ||
             std::holds_alternative<SandboxResized>(e) || reached_state(e).has_value();
    });
    if (!mine) return mine.error();
    if (mine->events.empty()) return {};
    Rows open("usage_open", "sandbox_id");
    open.load(tx, writes, mine->ids);
    std::map<std::pair<std::string, std::string>, Totals> added;
    for (const auto& [e, event] : mine->events) {
      if (auto fold = fold_event(open, added, *e, event); !fold) return fold.error();
    }
    open.write(writes, "usage_open_upsert");
    if (!open.removed.empty()) writes.execute("usage_open_end", plain_array(open.removed));
    if (!added.empty()) {
      boost::json::array rows;
      for (const auto& [key, t] : added) {
        rows.push_back({{"organization_id", key.first}, {"state", key.second}, {"us", t.us}, {"cpu_us", t.cpu_us},
                        {"memory_us", t.memory_us}, {"disk_us", t.disk_us}});
      }
      writes.execute("usage_add", boost::json::serialize(rows));
    }
    return {};
  }

 private:
  struct Totals {
    std::int64_t us = 0, cpu_us = 0, memory_us = 0, disk_us = 0;
  };

  static std::int64_t number(const boost::json::object& row, const char* key) {
    return row.at(key).to_number<std::int64_t>();
  }

  // Closes the open interval at `at` into `added`. An error when a time cannot be read.
  static Result<void> close(const boost::json::object& row, const std::string& at,
                            std::map<std::pair<std::string, std::string>, Totals>& added) {
    auto from = micros_of(std::string(row.at("since").as_string()));
    auto to = micros_of(at);
    if (!from || !to) return make_error(ErrorCode::invalid_argument, "usage: unreadable time " + at);
    const auto us = *to - *from;
    auto& t = added[{std::string(row.at("organization_id").as_string()), std::string(row.at("state").as_string())}];
    t.us += us;
    t.cpu_us += us * number(row, "cpu");
    t.memory_us += us * number(row, "memory");
    t.disk_us += us * number(row, "disk");
    return {};
  }

  // One event onto the open intervals (a destroyed sandbox's is removed).
  static Result<void> fold_event(Rows& open, std::map<std::pair<std::string, std::string>, Totals>& added,
                                 const RecordedEvent& e, const SandboxEvent& event) {
    const auto id = e.stream_id();
    auto found = open.by_key.find(id);
    if (const auto* c = std::get_if<SandboxCreated>(&event)) {
      if (found != open.by_key.end()) return {};
      open.by_key[id] = {{"sandbox_id", id}, {"organization_id", c->organization_id.str()},
                         {"state", c->dockerfile ? "pending_build" : "creating"}, {"since", e.recorded_at},
                         {"cpu", c->resources.cpu}, {"memory", c->resources.memory_gib},
                         {"disk", c->resources.disk_gib}};
      open.changed.insert(id);
      return {};
    }
    if (found == open.by_key.end()) return {};  // no open interval: nothing to close
    auto& row = found->second;
    if (auto closed = close(row, e.recorded_at, added); !closed) return closed.error();
    if (const auto* c = std::get_if<SandboxClaimed>(&event)) {
      // A claimed warm sandbox: its time so far was the pool's, from here on it is the claimer's.
      row["organization_id"] = c->organization_id.str();
      row["state"] = c->env_applied ? "started" : "starting";
    } else if (const auto* r = std::get_if<SandboxResized>(&event)) {
      row["cpu"] = r->resources.cpu;
      row["memory"] = r->resources.memory_gib;
      row["disk"] = r->resources.disk_gib;
    } else if (auto state = reached_state(event)) {
      if (*state == "destroyed") {
        open.remove(found);
        return {};
      }
      row["state"] = *state;
    }
    row["since"] = e.recorded_at;
    open.changed.insert(id);
    return {};
  }

  // Microseconds since the epoch of an ISO 8601 time as PostgreSQL or the log writes it:
  // 2026-12-01T22:02:44.972593Z, or with an offset (+00:00, +01, -05:30).
  static std::optional<std::int64_t> micros_of(const std::string& iso) {
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
      return std::nullopt;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::int64_t us = static_cast<std::int64_t>(timegm(&tm)) * 1000000;
    std::size_t i = static_cast<std::size_t>(consumed);
    if (i < iso.size() && iso[i] == '.') {
      std::int64_t scale = 100000;
      for (++i; i < iso.size() && std::isdigit(static_cast<unsigned char>(iso[i])) != 0; ++i, scale /= 10) {
        us += (iso[i] - '0') * scale;
      }
    }
    if (i < iso.size() && (iso[i] == '+' || iso[i] == '-')) {
      int hours = 0, minutes = 0;
      if (std::sscanf(iso.c_str() + i + 1, "%2d:%2d", &hours, &minutes) < 1) return std::nullopt;
      const std::int64_t offset = (hours * 3600LL + minutes * 60LL) * 1000000;
      us += iso[i] == '+' ? -offset : offset;
    }
    return us;
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
