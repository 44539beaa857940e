#include "projector/queries/runners.hpp"

#include "events/store/sql.hpp"

#include <pqxx/pqxx>

namespace projector::queries {

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
    if (!r[7].is_null()) {
      runner.heartbeat = std::chrono::system_clock::time_point{std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(r[7].as<double>()))};
    }
    out.push_back(std::move(runner));
  }
  return out;
}

std::string runner_endpoint(pqxx::transaction_base& tx, const events::RunnerId& id) {
  const auto rows = events::exec_cached(tx, "select endpoint from runners where id = $1", id.str());
  return rows.empty() ? std::string() : rows[0][0].as<std::string>();
}

}  // namespace projector::queries
