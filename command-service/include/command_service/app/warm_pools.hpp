#pragma once
// Warm pools: per snapshot, region and resource class, sandboxes kept started and unassigned.
// The operator sizes a pool (admin routes, a WarmPoolSized event); the scheduler's loop keeps
// each pool at its size (refill_warm_pools); a create that matches a pool claims one of its
// started sandboxes (claim_warm, sandbox_commands.hpp) and the runner gives it the claimer's env.
#include "command_service/http/api.hpp"

#include <boost/asio/awaitable.hpp>

namespace command_service {

// One pass: creates the members a pool lacks (at most a few per pool and pass), destroys what a
// smaller pool no longer needs and members that failed. Returns how many commands it issued.
int refill_warm_pools(DbContext& db, Time now);

// After a claim: waits (bounded) until the runner reports the claimed sandbox started again (its
// env applied), so the create can answer "started" and the first command sees the env.
boost::asio::awaitable<void> wait_for_claim(Services& s, const events::SandboxId& id, std::int64_t claimed_at);

void register_warm_pool_routes(Router& router, Services& services);

}  // namespace command_service
