// sandboxes: one row per sandbox, as the query API shows it.
#include "common.hpp"
#include "set_wise.hpp"

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

class Sandboxes final : public SetWiseModel {
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

  void prepare(pqxx::connection_base& c) const override { prepare_upsert(c, "sbx_upsert", "sandboxes", "id"); }


  // Set-wise: the batch's sandboxes are read in one query, its events folded into their rows in
  // memory, and the rows written back in one upsert (deferred to the batch's commit).
  Result<void> apply_batch(pqxx::transaction_base& tx, std::span<const RecordedEvent> batch,
                           Writes& writes) const override {
    auto mine = sandbox_events(batch, [](const SandboxEvent&) { return true; });
    if (!mine) return mine.error();
    if (mine->events.empty()) return {};
    Rows rows("sandboxes", "id");
    rows.load(tx, writes, mine->ids);
    for (const auto& [e, event] : mine->events) fold(rows, *e, event);
    rows.write(writes, "sbx_upsert");
    return {};
  }

 private:
  // One event onto its row, as the row's columns say the sandbox is.
  static void fold(Rows& rows, const RecordedEvent& e, const SandboxEvent& event) {
    const auto id = e.stream_id();
    auto found = rows.by_key.find(id);
    if (const auto* created = std::get_if<SandboxCreated>(&event)) {
      if (found != rows.by_key.end()) return;  // already there
      rows.by_key[id] = created_row(e, *created);
      rows.changed.insert(id);
      return;
    }
    if (found == rows.by_key.end()) return;  // a sandbox whose creation this model never saw
    auto& row = found->second;
    if (row.at("last_position").to_number<std::int64_t>() >= e.position.value()) return;  // already applied
    std::visit([&](const auto& ev) { fold_into(row, e, ev); }, event);
    row["version"] = e.version.value();
    row["last_position"] = e.position.value();
    rows.changed.insert(id);
  }

  static boost::json::object created_row(const RecordedEvent& e, const SandboxCreated& c) {
    boost::json::object row;
    row["id"] = c.sandbox_id.str();
    row["organization_id"] = c.organization_id.str();
    row["name"] = c.name;
    row["snapshot"] = c.snapshot;
    row["region"] = c.region;
    row["os_user"] = c.user;
    row["state"] = c.dockerfile ? "pending_build" : "creating";
    row["desired_state"] = "started";
    row["runner_id"] = nullptr;
    row["cpu"] = c.resources.cpu;
    row["gpu"] = c.resources.gpu;
    row["memory"] = c.resources.memory_gib;
    row["disk"] = c.resources.disk_gib;
    row["env"] = boost::json::value_from(c.env);
    row["labels"] = boost::json::value_from(c.labels);
    row["public"] = c.is_public;
    row["network_block_all"] = c.network_block_all;
    row["volumes"] = boost::json::value_from(c.volumes);
    row["auto_stop_interval"] = c.auto_stop_minutes;
    row["auto_archive_interval"] = c.auto_archive_minutes;
    row["auto_delete_interval"] = c.auto_delete_minutes;
    row["build_dockerfile"] = c.dockerfile ? boost::json::value(*c.dockerfile) : boost::json::value(nullptr);
    row["error_reason"] = nullptr;
    row["recoverable"] = false;
    row["oom_kills"] = 0;
    row["last_oom_reason"] = nullptr;
    row["last_activity_at"] = nullptr;
    row["created_at"] = e.recorded_at;
    row["updated_at"] = e.recorded_at;
    row["version"] = e.version.value();
    row["last_position"] = e.position.value();
    row["warm_pool"] = nullptr;
    row["network"] = nullptr;
    row["network_limit"] = nullptr;
    row["outbound_proxy_url"] = nullptr;
    return row;
  }

  static void fold_into(boost::json::object& row, const RecordedEvent&, const SandboxJoinedWarmPool& joined) {
    row["warm_pool"] = joined.pool_id.str();
  }

  // A claim hands the row to the claiming organization (the warm_pool column stays: where it came from).
  static void fold_into(boost::json::object& row, const RecordedEvent& e, const SandboxClaimed& c) {
    row["organization_id"] = c.organization_id.str();
    row["name"] = c.name;
    row["os_user"] = c.user;
    row["env"] = boost::json::value_from(c.env);
    row["labels"] = boost::json::value_from(c.labels);
    row["public"] = c.is_public;
    row["auto_stop_interval"] = c.auto_stop_minutes;
    row["auto_archive_interval"] = c.auto_archive_minutes;
    row["auto_delete_interval"] = c.auto_delete_minutes;
    row["state"] = c.env_applied ? "started" : "starting";
    row["last_activity_at"] = e.recorded_at;
    row["updated_at"] = e.recorded_at;
  }

  static void fold_into(boost::json::object& row, const RecordedEvent& e, const SandboxNetworkChanged& n) {
    row["network_block_all"] = n.after.block_all;
    row["network"] = boost::json::value_from(n.after);
    row["network_limit"] = n.limit ? boost::json::value_from(*n.limit) : boost::json::value(nullptr);
    row["outbound_proxy_url"] = n.outbound_proxy_url.empty() ? boost::json::value(nullptr)
                                                             : boost::json::value(n.outbound_proxy_url);
    row["updated_at"] = e.recorded_at;
  }

  // Every other event: the columns the sandbox decider's state carries, from that state.
  template <class Event>
  static void fold_into(boost::json::object& row, const RecordedEvent& e, const Event& event) {
    auto s = sandbox::evolve(state_of(row), SandboxEvent{event});
    row["state"] = std::string(to_string(s.actual));
    row["desired_state"] = std::string(to_string(s.desired));
    row["runner_id"] = s.runner ? boost::json::value(s.runner->str()) : boost::json::value(nullptr);
    row["cpu"] = s.resources.cpu;
    row["gpu"] = s.resources.gpu;
    row["memory"] = s.resources.memory_gib;
    row["disk"] = s.resources.disk_gib;
    row["labels"] = boost::json::value_from(s.labels);
    row["auto_stop_interval"] = s.auto_stop_minutes;
    row["auto_archive_interval"] = s.auto_archive_minutes;
    row["auto_delete_interval"] = s.auto_delete_minutes;
    row["error_reason"] = s.error_reason.empty() ? boost::json::value(nullptr) : boost::json::value(s.error_reason);
    row["recoverable"] = s.recoverable;
    row["oom_kills"] = s.oom_kills;
    // The activity's own time (the command's clock), not when it was written.
    if constexpr (std::is_same_v<Event, SandboxActivityRecorded>) row["last_activity_at"] = iso_of_ms(event.at_ms);
    if constexpr (std::is_same_v<Event, SandboxOomKilled>) row["last_oom_reason"] = event.reason;
    row["updated_at"] = e.recorded_at;
  }

  static std::string text(const boost::json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : std::string();
  }

  static sandbox::State state_of(const boost::json::object& row) {
    sandbox::State s;
    s.exists = true;
    const auto actual = text(row.at("state"));
    s.actual = boost::describe::enum_from_string<SandboxState>(actual.c_str(), s.actual) ? s.actual
                                                                                          : SandboxState::unknown;
    boost::describe::enum_from_string<DesiredState>(text(row.at("desired_state")).c_str(), s.desired);
    if (row.at("runner_id").is_string()) s.runner = RunnerId{text(row.at("runner_id"))};
    s.resources = {static_cast<int>(row.at("cpu").to_number<std::int64_t>()),
                   static_cast<int>(row.at("gpu").to_number<std::int64_t>()),
                   static_cast<int>(row.at("memory").to_number<std::int64_t>()),
                   static_cast<int>(row.at("disk").to_number<std::int64_t>())};
    s.labels = boost::json::value_to<StringMap>(row.at("labels"));
    s.auto_stop_minutes = static_cast<int>(row.at("auto_stop_interval").to_number<std::int64_t>());
    s.auto_archive_minutes = static_cast<int>(row.at("auto_archive_interval").to_number<std::int64_t>());
    s.auto_delete_minutes = static_cast<int>(row.at("auto_delete_interval").to_number<std::int64_t>());
    s.error_reason = text(row.at("error_reason"));
    s.recoverable = row.at("recoverable").as_bool();
    s.oom_kills = static_cast<int>(row.at("oom_kills").to_number<std::int64_t>());
    return s;
  }
};

}  // namespace

std::unique_ptr<ReadModel> make_sandboxes() { return std::make_unique<Sandboxes>(); }

}  // namespace projector::models
