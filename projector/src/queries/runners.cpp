#include "projector/queries/runners.hpp"

#include "columns.hpp"
#include "events/store/sql.hpp"

#include <pqxx/pqxx>

namespace projector::queries {

namespace {

const std::string kRunners =
    "select id::text, region, endpoint, state, cpu, memory, disk, max_sandboxes, reported_sandboxes, "
    "assigned_sandboxes, coalesce(" PROJECTOR_ISO("last_heartbeat_at") ", '') from runners ";

RunnerRow runner_of(const pqxx::row& r) {
  return {r[0].c_str(),    r[1].c_str(),    r[2].c_str(),    r[3].c_str(),    r[4].as<int>(),  r[5].as<int>(),
          r[6].as<int>(), r[7].as<int>(), r[8].as<int>(), r[9].as<int>(), r[10].c_str()};
}

}  // namespace

std::optional<RunnerRow> runner(pqxx::transaction_base& tx, const events::RunnerId& id) {
  const auto rows = events::exec_cached(tx, kRunners + "where id = $1", id.str());
  if (rows.empty()) return std::nullopt;
  return runner_of(rows[0]);
}

std::vector<RunnerRow> runners(pqxx::transaction_base& tx) {
  std::vector<RunnerRow> out;
  for (const auto& r : events::exec_cached(tx, kRunners + "order by id")) out.push_back(runner_of(r));
  return out;
}

std::vector<ReadyRunner> ready_runners(pqxx::transaction_base& tx, const std::string& region) {
  const auto rows = events::exec_cached(
      tx,
      "select id::text, assigned_sandboxes, max_sandboxes, assigned_memory, memory, assigned_disk, disk, "
      "extract(epoch from last_heartbeat_at) from runners where state = 'ready' and region = $1",
      region);
  std::vector<ReadyRunner> out;
  for (const auto& r : rows) {
    ReadyRunner runner{events::RunnerId{r[0].as<std::string>()}, r[1].as<int>(), r[2].as<int>(), r[3].as<int>(),
                       r[4].as<int>(), r[5].as<int>(), r[6].as<int>(), std::nullopt};
    if (!r[7].is_null()) runner.heartbeat = at_epoch(r[7]);
    out.push_back(std::move(runner));
  }
  return out;
}

std::string runner_endpoint(pqxx::transaction_base& tx, const events::RunnerId& id) {
  const auto rows = events::exec_cached(tx, "select endpoint from runners where id = $1", id.str());
  return rows.empty() ? std::string() : rows[0][0].as<std::string>();
}

}  // namespace projector::queries
