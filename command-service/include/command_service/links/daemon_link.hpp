#pragma once
// The API's one direct line to a sandbox: its daemon's toolbox, through the runner's forwarding
// endpoint (`CONNECT <sandbox>:2280`, as the edge proxy does). Used by a warm-pool claim to give
// the running sandbox the claimer's env before the claim is appended.
#include "events/catalogue/sandbox.hpp"

#include <chrono>
#include <string>

namespace command_service {

// POST /env {"set": env} to the daemon of `sandbox` on the runner at `endpoint` (host:port);
// blocking, at most `timeout`. `forward_key` is what runners ask of their clients (tokens.hpp). An error says which step failed.
events::Result<void> post_env_through_runner(const std::string& endpoint, const std::string& forward_key,
                                             const std::string& sandbox, const events::StringMap& env,
                                             std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

}  // namespace command_service
