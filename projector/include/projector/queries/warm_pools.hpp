#pragma once
// The questions the API asks of the warm_pools read model (src/models/warm_pools.cpp) and of the
// sandboxes it made (their `warm_pool` column), beside them. `holder` is the organization that
// holds the unclaimed members.
#include "events/catalogue/sandbox.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace projector::queries {

// A pool with the number of its members that are or will be started, unclaimed.
struct PoolToFill {
  std::string id;
  std::string snapshot;
  std::string region;
  events::Resources resources;
  int size = 0;
  int live = 0;
};
std::vector<PoolToFill> pools_to_fill(pqxx::transaction_base& tx, const std::string& holder);

// Unclaimed members that failed (they can never be claimed), at most `limit`.
std::vector<std::string> failed_pool_members(pqxx::transaction_base& tx, const std::string& holder, int limit);

// `count` unclaimed members of a pool that is too large, those not yet started first.
std::vector<std::string> surplus_pool_members(pqxx::transaction_base& tx, const std::string& pool,
                                              const std::string& holder, int count);

// Started, unclaimed members of a pool that still wants members, oldest first, with their
// runner's forwarding endpoint (none when unknown).
struct ClaimCandidate {
  std::string sandbox_id;
  std::optional<std::string> runner_endpoint;
};
std::vector<ClaimCandidate> claim_candidates(pqxx::transaction_base& tx, const std::string& pool,
                                             const std::string& holder, int limit);

// A pool as an admin sees it: its size and members ready, starting and claimed.
struct PoolStatus {
  std::string id;
  std::string snapshot;
  std::string region;
  events::Resources resources;
  int size = 0;
  int ready = 0;
  int starting = 0;
  int claimed = 0;
};
std::optional<PoolStatus> pool_status(pqxx::transaction_base& tx, const std::string& pool, const std::string& holder);
std::vector<PoolStatus> pool_statuses(pqxx::transaction_base& tx, const std::string& holder);

}  // namespace projector::queries
