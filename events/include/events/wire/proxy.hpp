#pragma once
// API ↔ edge proxy (admin routes): where a sandbox runs and who owns it (GET
// /api/proxy/sandboxes/{id}), and whether an API key may use a sandbox's toolbox (POST
// /api/proxy/authorize). Built by the command-service (proxy_routes.cpp), decoded strictly by the
// proxy (platform.cpp).
#include "events/catalogue/sandbox.hpp"
#include "events/json.hpp"

#include <optional>
#include <string>

namespace events::wire {

struct SandboxPlacement {
  SandboxId id;
  OrganizationId organization_id;
  SandboxState state = SandboxState::unknown;
  bool is_public = false;
  std::optional<RunnerId> runner_id;
  std::string runner_endpoint;  // host:port of its runner's forwarding endpoint; empty: none
};
BOOST_DESCRIBE_STRUCT(SandboxPlacement, (), (id, organization_id, state, is_public, runner_id, runner_endpoint))

// The key a client presented at the proxy, for the sandbox it named, and the client's address
// (the failed-authentication limit counts the client, not the proxy).
struct ToolboxAccessRequest {
  std::string api_key;
  std::string sandbox_id;  // as the client wrote it: checked by the API, not here
  std::string source;
};
BOOST_DESCRIBE_STRUCT(ToolboxAccessRequest, (), (api_key, sandbox_id, source))

struct ToolboxAccess {
  OrganizationId organization_id;
};
BOOST_DESCRIBE_STRUCT(ToolboxAccess, (), (organization_id))

// API → edge proxy over the bus (bus/placements.hpp), when the API has just answered a claim of a
// warm sandbox: where it runs, so the caller's first toolbox call needs no look-up; and the SHA-256
// (hex) of the API key that claimed it, which the API has just judged may use its toolbox.
struct PlacementHandOff {
  SandboxPlacement placement;
  std::string key_sha256;  // empty: only the placement
};
BOOST_DESCRIBE_STRUCT(PlacementHandOff, (), (placement, key_sha256))

}  // namespace events::wire
