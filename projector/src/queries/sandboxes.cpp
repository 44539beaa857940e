#include "projector/queries/sandboxes.hpp"

#include "columns.hpp"
#include "events/store/sql.hpp"

#include <pqxx/pqxx>

namespace projector::queries {

namespace {

using events::exec_cached;

const std::string kColumns =
    "id::text, organization_id::text, name, snapshot, region, os_user, state, desired_state, runner_id::text, "
    "cpu, gpu, memory, disk, env::text, labels::text, public, network_block_all, volumes::text, "
    "auto_stop_interval, auto_archive_interval, auto_delete_interval, coalesce(error_reason, ''), recoverable, " PROJECTOR_ISO(
        "created_at") ", " PROJECTOR_ISO("updated_at") ", coalesce(" PROJECTOR_ISO("last_activity_at") ", ''), "
    "coalesce(network::text, ''), coalesce(network_limit::text, ''), coalesce(outbound_proxy_url, '')";

const std::string kSelect = "select " + kColumns + " from sandboxes ";

SandboxRow row_of(const pqxx::row& r) {
  SandboxRow v;
  auto& s = v.state;
  s.exists = true;
  s.id = events::SandboxId{r[0].as<std::string>()};
  s.organization_id = events::OrganizationId{r[1].as<std::string>()};
  s.name = r[2].as<std::string>();
  s.snapshot = r[3].as<std::string>();
  v.region = r[4].as<std::string>();
  s.region = v.region;
  v.user = r[5].as<std::string>();
  boost::describe::enum_from_string(r[6].c_str(), s.actual);
  boost::describe::enum_from_string(r[7].c_str(), s.desired);
  if (!r[8].is_null()) s.runner = events::RunnerId{r[8].as<std::string>()};
  s.resources = {r[9].as<int>(), r[10].as<int>(), r[11].as<int>(), r[12].as<int>()};
  s.env = boost::json::value_to<events::StringMap>(boost::json::parse(r[13].as<std::string>()));
  s.labels = boost::json::value_to<events::StringMap>(boost::json::parse(r[14].as<std::string>()));
  s.is_public = r[15].as<bool>();
  s.network_block_all = r[16].as<bool>();
  s.volumes = boost::json::value_to<std::vector<events::VolumeMount>>(boost::json::parse(r[17].as<std::string>()));
  s.auto_stop_minutes = r[18].as<int>();
  s.auto_archive_minutes = r[19].as<int>();
  s.auto_delete_minutes = r[20].as<int>();
  s.error_reason = r[21].as<std::string>();
  s.recoverable = r[22].as<bool>();
  v.created_at = r[23].as<std::string>();
  v.updated_at = r[24].as<std::string>();
  v.last_activity_at = r[25].as<std::string>();
  if (const auto text = r[26].as<std::string>(); !text.empty()) {
    s.network = boost::json::value_to<events::NetworkPolicy>(boost::json::parse(text));
  }
  if (const auto text = r[27].as<std::string>(); !text.empty()) {
    s.network_limit = boost::json::value_to<events::NetworkPolicy>(boost::json::parse(text));
  }
  s.network.block_all = s.network_block_all;
  s.outbound_proxy_url = r[28].as<std::string>();
  return v;
}

std::vector<SandboxRow> rows_of(const pqxx::result& result) {
  std::vector<SandboxRow> out;
  out.reserve(result.size());
  for (const auto& r : result) out.push_back(row_of(r));
  return out;
}

std::optional<SandboxRow> first_of(const pqxx::result& result) {
  if (result.empty()) return std::nullopt;
  return row_of(result[0]);
}

// A PostgreSQL array literal of plain words (ids, state names).
std::string array_of(const auto& words) {
  std::string out = "{";
  for (const auto& w : words) out += (out.size() > 1 ? "," : "") + w;
  return out + "}";
}

}  // namespace

std::optional<SandboxRow> sandbox(pqxx::transaction_base& tx, const events::SandboxId& id) {
  return first_of(exec_cached(tx, kSelect + "where id = $1", id.str()));
}

std::optional<events::SandboxId> live_sandbox_named(pqxx::transaction_base& tx, const std::string& organization,
                                                   const std::string& name) {
  const auto rows = exec_cached(tx,
                                "select id::text from sandboxes where organization_id = $1 and name = $2 and "
                                "state <> 'destroyed' order by id desc limit 1",
                                organization, name);
  if (rows.empty()) return std::nullopt;
  return events::SandboxId{rows[0][0].as<std::string>()};
}

std::optional<SandboxOrigin> sandbox_origin(pqxx::transaction_base& tx, const events::SandboxId& id) {
  const auto rows = exec_cached(tx, "select region, os_user, " PROJECTOR_ISO("created_at") " from sandboxes where id = $1", id.str());
  if (rows.empty()) return std::nullopt;
  return SandboxOrigin{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(), rows[0][2].as<std::string>()};
}

SandboxAsOf sandbox_if_current(pqxx::transaction_base& tx, const events::SandboxId& id) {
  const auto rows = exec_cached(
      tx,
      "select coalesce((select position from events where stream = $2 order by version desc limit 1), 0), "
      "coalesce((select position from projection_checkpoints where model = 'sandboxes'), 0), " +
          kColumns + " from (select 1) one left join sandboxes on id = $1",
      id.str(), events::StreamName::of("sandbox", id).str());
  SandboxAsOf out;
  out.stream_last = rows[0][0].as<std::int64_t>();
  if (out.stream_last > 0 && rows[0][1].as<std::int64_t>() >= out.stream_last && !rows[0][2].is_null()) {
    out.row = row_of(rows[0].slice(2, rows[0].size()));
  }
  return out;
}

std::vector<SandboxRow> sandboxes(pqxx::transaction_base& tx, const SandboxFilter& f) {
  return rows_of(exec_cached(tx,
                             kSelect +
                                 "where organization_id = $1 and labels @> $2::jsonb "
                                 "and ($3::text is null or id < $3::uuid) and ($4::text is null or name = $4) "
                                 "and (cardinality($5::text[]) = 0 or state = any($5::text[])) "
                                 "and (cardinality($5::text[]) > 0 or state <> 'destroyed') order by id desc limit $6",
                             f.organization, f.labels_json, f.before_id, f.name, array_of(f.states), f.limit));
}

std::vector<SandboxRow> sandboxes_with_ids(pqxx::transaction_base& tx, const std::set<std::string>& ids,
                                           const std::string& organization) {
  return rows_of(
      exec_cached(tx, kSelect + "where id = any($1::uuid[]) and organization_id = $2", array_of(ids), organization));
}

std::vector<SandboxRow> sandboxes_on_runner(pqxx::transaction_base& tx, const events::RunnerId& runner) {
  return rows_of(exec_cached(tx, kSelect + "where runner_id = $1 and state <> 'destroyed' order by id", runner.str()));
}

std::optional<SandboxRow> sandbox_on_runner(pqxx::transaction_base& tx, const events::RunnerId& runner,
                                            const events::SandboxId& id) {
  return first_of(exec_cached(tx, kSelect + "where id = $1 and runner_id = $2 and state <> 'destroyed'", id.str(),
                              runner.str()));
}

std::vector<TimerCandidate> timer_candidates(pqxx::transaction_base& tx, Time now, int limit) {
  const auto rows = exec_cached(
      tx,
      "select id::text, organization_id::text, state, auto_stop_interval, auto_archive_interval, "
      "auto_delete_interval, extract(epoch from updated_at), extract(epoch from last_activity_at) from sandboxes "
      "where desired_state = state::text and ((state = 'started' and auto_stop_interval > 0) or "
      "(state = 'stopped' and (auto_delete_interval >= 0 or auto_archive_interval > 0))) and "
      "(updated_at <= to_timestamp($1) - interval '1 minute' or (state = 'stopped' and auto_delete_interval = 0)) "
      "order by updated_at limit $2",
      std::chrono::duration<double>(now.time_since_epoch()).count(), limit);
  std::vector<TimerCandidate> out;
  for (const auto& r : rows) {
    TimerCandidate c;
    c.id = events::SandboxId{r[0].as<std::string>()};
    c.organization = r[1].as<std::string>();
    boost::describe::enum_from_string(r[2].c_str(), c.state);
    c.auto_stop_minutes = r[3].as<int>();
    c.auto_archive_minutes = r[4].as<int>();
    c.auto_delete_minutes = r[5].as<int>();
    c.changed_at = at_epoch(r[6]);
    if (!r[7].is_null()) c.last_activity = at_epoch(r[7]);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<WaitingSandbox> waiting_for_runner(pqxx::transaction_base& tx, int limit) {
  const auto rows = exec_cached(tx,
                                "select id::text, organization_id::text, region, memory, disk, "
                                "extract(epoch from updated_at) from sandboxes where runner_id is null and "
                                "desired_state = 'started' and state in ('creating', 'pending_build', 'archived') "
                                "order by updated_at limit $1",
                                limit);
  std::vector<WaitingSandbox> out;
  for (const auto& r : rows) {
    out.push_back({events::SandboxId{r[0].as<std::string>()}, r[1].as<std::string>(), r[2].as<std::string>(),
                   r[3].as<int>(), r[4].as<int>(), at_epoch(r[5])});
  }
  return out;
}

}  // namespace projector::queries
