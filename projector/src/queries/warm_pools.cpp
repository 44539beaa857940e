#include "projector/queries/warm_pools.hpp"

#include "events/store/sql.hpp"

#include <pqxx/pqxx>

namespace projector::queries {

namespace {

using events::exec_cached;

std::vector<std::string> ids_of(const pqxx::result& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r[0].as<std::string>());
  return ids;
}

constexpr const char* kPoolStatus =
    "select p.id::text, p.snapshot, p.region, p.cpu, p.gpu, p.memory, p.disk, p.size, "
    "count(*) filter (where s.organization_id = $1 and s.state = 'started' and s.desired_state = 'started')::int, "
    "count(*) filter (where s.organization_id = $1 and s.state not in ('started', 'destroyed') "
    " and s.desired_state = 'started')::int, "
    "count(*) filter (where s.organization_id <> $1)::int "
    "from warm_pools p left join sandboxes s on s.warm_pool = p.id ";

PoolStatus status_of(const pqxx::row& r) {
  return {r[0].as<std::string>(),
          r[1].as<std::string>(),
          r[2].as<std::string>(),
          events::Resources{r[3].as<int>(), r[4].as<int>(), r[5].as<int>(), r[6].as<int>()},
          r[7].as<int>(),
          r[8].as<int>(),
          r[9].as<int>(),
          r[10].as<int>()};
}

}  // namespace

std::vector<PoolToFill> pools_to_fill(pqxx::transaction_base& tx, const std::string& holder) {
  const auto rows = exec_cached(tx,
                                "select p.id::text, p.snapshot, p.region, p.cpu, p.gpu, p.memory, p.disk, p.size, "
                                "(select count(*) from sandboxes s where s.warm_pool = p.id and s.organization_id = $1 "
                                " and s.desired_state = 'started' and s.state not in ('error', 'build_failed', "
                                "'destroyed'))::int from warm_pools p",
                                holder);
  std::vector<PoolToFill> out;
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                   events::Resources{r[3].as<int>(), r[4].as<int>(), r[5].as<int>(), r[6].as<int>()},
                   r[7].as<int>(), r[8].as<int>()});
  }
  return out;
}

std::vector<std::string> failed_pool_members(pqxx::transaction_base& tx, const std::string& holder, int limit) {
  return ids_of(exec_cached(tx,
                            "select id::text from sandboxes where warm_pool is not null and organization_id = $1 "
                            "and desired_state = 'started' and state in ('error', 'build_failed') limit $2",
                            holder, limit));
}

std::vector<std::string> surplus_pool_members(pqxx::transaction_base& tx, const std::string& pool,
                                              const std::string& holder, int count) {
  return ids_of(exec_cached(tx,
                            "select id::text from sandboxes where warm_pool = $1 and organization_id = $2 and "
                            "desired_state = 'started' order by (state = 'started'), created_at desc limit $3",
                            pool, holder, count));
}

std::vector<ClaimCandidate> claim_candidates(pqxx::transaction_base& tx, const std::string& pool,
                                             const std::string& holder, int limit) {
  const auto rows = exec_cached(tx,
                                "select s.id::text, r.endpoint from sandboxes s join warm_pools p on p.id = s.warm_pool "
                                "left join runners r on r.id = s.runner_id where s.warm_pool = $1 "
                                "and p.size > 0 and s.organization_id = $2 and s.state = 'started' and "
                                "s.desired_state = 'started' order by s.created_at limit $3",
                                pool, holder, limit);
  std::vector<ClaimCandidate> out;
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::string>(), r[1].is_null() ? std::nullopt : std::optional(r[1].as<std::string>())});
  }
  return out;
}

std::optional<PoolStatus> pool_status(pqxx::transaction_base& tx, const std::string& pool, const std::string& holder) {
  const auto rows = exec_cached(tx, std::string(kPoolStatus) + "where p.id = $2 group by p.id", holder, pool);
  if (rows.empty()) return std::nullopt;
  return status_of(rows[0]);
}

std::vector<PoolStatus> pool_statuses(pqxx::transaction_base& tx, const std::string& holder) {
  std::vector<PoolStatus> out;
  for (const auto& r : exec_cached(tx, std::string(kPoolStatus) + "group by p.id order by p.snapshot, p.region, p.id",
                                   holder)) {
    out.push_back(status_of(r));
  }
  return out;
}

}  // namespace projector::queries
