// sandboxes: one row per sandbox, as the query API shows it.
#include "common.hpp"

#include "events/deciders/sandbox.hpp"

#include <cstdio>
#include <ctime>

namespace projector::models {
namespace {

using namespace events;

std::string iso_of_ms(std::int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms % 1000));
  return text;
}

class Sandboxes final : public ReadModel {
 public:
  std::string name() const override { return "sandboxes"; }
  std::vector<Table> tables() const override { return {{"sandboxes", "id"}}; }
  std::string ddl() const override {
    return R"(create table if not exists sandboxes (
      id uuid primary key, organization_id uuid not null, name text not null,
      snapshot text not null, region text not null, os_user text not null,
      state text not null, desired_state text not null, runner_id uuid,
      cpu int not null, gpu int not null, memory int not null, disk int not null,
      env jsonb not null, labels jsonb not null, public boolean not null,
      network_block_all boolean not null, volumes jsonb not null,
      auto_stop_interval int not null, auto_archive_interval int not null,
      auto_delete_interval int not null, build_dockerfile text,
      error_reason text, recoverable boolean not null default false,
      oom_kills int not null default 0, last_oom_reason text,
      last_activity_at timestamptz, created_at timestamptz not null,
      updated_at timestamptz not null, version bigint not null, last_position bigint not null);
    create index if not exists sandboxes_org_name on sandboxes (organization_id, name);
    create index if not exists sandboxes_org_created on sandboxes (organization_id, created_at, id);
    create index if not exists sandboxes_runner on sandboxes (runner_id) where runner_id is not null;
    alter table sandboxes add column if not exists warm_pool uuid;
    alter table sandboxes add column if not exists network jsonb;
    alter table sandboxes add column if not exists network_limit jsonb;
    alter table sandboxes add column if not exists outbound_proxy_url text;
    create index if not exists sandboxes_warm on sandboxes (warm_pool, state) where warm_pool is not null;)";
  }

  void prepare(pqxx::connection_base& c) const override {
    c.prepare("sbx_insert",
              "insert into sandboxes (id, organization_id, name, snapshot, region, os_user, state, "
              "desired_state, cpu, gpu, memory, disk, env, labels, public, network_block_all, volumes, "
              "auto_stop_interval, auto_archive_interval, auto_delete_interval, build_dockerfile, "
              "created_at, updated_at, version, last_position) values ($1, $2, $3, $4, $5, $6, $7, "
              "'started', $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14, $15, $16::jsonb, $17, $18, "
              "$19, $20, $21::timestamptz, $21::timestamptz, $22, $23) on conflict (id) do nothing");
    // Generic update of the columns the sandbox decider's state carries, from that state.
    c.prepare("sbx_update",
              "update sandboxes set state = $2, desired_state = $3, runner_id = $4::uuid, cpu = $5, "
              "gpu = $6, memory = $7, disk = $8, labels = $9::jsonb, auto_stop_interval = $10, "
              "auto_archive_interval = $11, auto_delete_interval = $12, error_reason = $13, "
              "recoverable = $14, oom_kills = $15, last_activity_at = coalesce($16::timestamptz, "
              "last_activity_at), last_oom_reason = coalesce($17, last_oom_reason), "
              "updated_at = $18::timestamptz, version = $19, last_position = $20 "
              "where id = $1 and last_position < $20");
    c.prepare("sbx_warm", "update sandboxes set warm_pool = $2::uuid, version = $3, last_position = $4 "
                          "where id = $1 and last_position < $4");
    // A claim hands the row to the claiming organization (the warm_pool column stays: where it came from).
    c.prepare("sbx_claimed",
              "update sandboxes set organization_id = $2::uuid, name = $3, os_user = $4, env = $5::jsonb, "
              "labels = $6::jsonb, public = $7, auto_stop_interval = $8, auto_archive_interval = $9, "
              "auto_delete_interval = $10, state = $14, last_activity_at = $11::timestamptz, "
              "updated_at = $11::timestamptz, version = $12, last_position = $13 where id = $1 and last_position < $13");
    c.prepare("sbx_network",
              "update sandboxes set network_block_all = $2, network = $3::jsonb, network_limit = $4::jsonb, "
              "outbound_proxy_url = $5, updated_at = $6::timestamptz, version = $7, last_position = $8 "
              "where id = $1 and last_position < $8");
    c.prepare("sbx_load",
              "select state, desired_state, runner_id::text, cpu, gpu, memory, disk, labels::text, "
              "auto_stop_interval, auto_archive_interval, auto_delete_interval, coalesce(error_reason, ''), "
              "recoverable, oom_kills, last_position from sandboxes where id = $1");
  }

  Result<void> apply(pqxx::transaction_base& tx, const RecordedEvent& e) const override {
    if (e.category() != "sandbox") return {};
    auto decoded = decode<SandboxEvent>(e);
    if (!decoded) return decoded.error();
    if (const auto* created = std::get_if<SandboxCreated>(&*decoded)) return insert(tx, e, *created);

    const auto id = e.stream_id();
    if (const auto* joined = std::get_if<SandboxJoinedWarmPool>(&*decoded)) {
      tx.exec_prepared("sbx_warm", id, joined->pool_id.str(), e.version.value(), e.position.value());
      return {};
    }
    if (const auto* c = std::get_if<SandboxClaimed>(&*decoded)) {
      tx.exec_prepared("sbx_claimed", id, c->organization_id.str(), c->name, c->user, json_text(c->env),
                       json_text(c->labels), c->is_public, c->auto_stop_minutes, c->auto_archive_minutes,
                       c->auto_delete_minutes, e.recorded_at, e.version.value(), e.position.value(),
                       c->env_applied ? "started" : "starting");
      return {};
    }
    if (const auto* n = std::get_if<SandboxNetworkChanged>(&*decoded)) {
      tx.exec_prepared("sbx_network", id, n->after.block_all, boost::json::serialize(boost::json::value_from(n->after)),
                       n->limit ? std::optional<std::string>(boost::json::serialize(boost::json::value_from(*n->limit)))
                                : std::nullopt,
                       optional_text(n->outbound_proxy_url), e.recorded_at, e.version.value(), e.position.value());
      return {};
    }
    const auto rows = tx.exec_prepared("sbx_load", id);
    if (rows.empty()) return {};  // a sandbox whose creation this model never saw
    const auto& r = rows[0];
    if (r[14].as<std::int64_t>() >= e.position.value()) return {};  // already applied
    sandbox::State s;
    s.exists = true;
    s.actual = boost::describe::enum_from_string<SandboxState>(r[0].c_str(), s.actual) ? s.actual : SandboxState::unknown;
    boost::describe::enum_from_string<DesiredState>(r[1].c_str(), s.desired);
    if (!r[2].is_null()) s.runner = RunnerId{r[2].as<std::string>()};
    s.resources = {r[3].as<int>(), r[4].as<int>(), r[5].as<int>(), r[6].as<int>()};
    s.labels = boost::json::value_to<StringMap>(boost::json::parse(r[7].as<std::string>()));
    s.auto_stop_minutes = r[8].as<int>();
    s.auto_archive_minutes = r[9].as<int>();
    s.auto_delete_minutes = r[10].as<int>();
    s.error_reason = r[11].as<std::string>();
    s.recoverable = r[12].as<bool>();
    s.oom_kills = r[13].as<int>();
    s = sandbox::evolve(std::move(s), *decoded);

    // The activity's own time (the command's clock), not when it was written.
    std::optional<std::string> activity;
    if (const auto* a = std::get_if<SandboxActivityRecorded>(&*decoded)) activity = iso_of_ms(a->at_ms);
    std::optional<std::string> oom;
    if (const auto* o = std::get_if<SandboxOomKilled>(&*decoded)) oom = o->reason;
    tx.exec_prepared("sbx_update", id, std::string(to_string(s.actual)), std::string(to_string(s.desired)),
                     s.runner ? std::optional<std::string>(s.runner->str()) : std::nullopt,
                     s.resources.cpu, s.resources.gpu, s.resources.memory_gib, s.resources.disk_gib,
                     json_text(s.labels), s.auto_stop_minutes, s.auto_archive_minutes, s.auto_delete_minutes,
                     optional_text(s.error_reason), s.recoverable, s.oom_kills, activity, oom, e.recorded_at,
                     e.version.value(), e.position.value());
    return {};
  }

 private:
  static Result<void> insert(pqxx::transaction_base& tx, const RecordedEvent& e, const SandboxCreated& c) {
    const char* state = c.dockerfile ? "pending_build" : "creating";
    tx.exec_prepared("sbx_insert", c.sandbox_id.str(), c.organization_id.str(), c.name, c.snapshot, c.region,
                     c.user, state, c.resources.cpu, c.resources.gpu, c.resources.memory_gib,
                     c.resources.disk_gib, json_text(c.env), json_text(c.labels), c.is_public,
                     c.network_block_all, json_of(c.volumes), c.auto_stop_minutes, c.auto_archive_minutes,
                     c.auto_delete_minutes, c.dockerfile, e.recorded_at, e.version.value(), e.position.value());
    return {};
  }
};

}  // namespace

std::unique_ptr<ReadModel> make_sandboxes() { return std::make_unique<Sandboxes>(); }

}  // namespace projector::models
