#pragma once
// The organization aggregate's decider (pure): the org and its API keys.
#include "events/catalogue/organization.hpp"

#include <map>

namespace events::organization {

struct ApiKey {
  std::string name;
  std::string key_hash;
  std::string key_prefix;
  bool revoked = false;
};

struct State {
  bool exists = false;
  OrganizationId id;
  std::string name;
  std::map<std::string, ApiKey> keys;  // by key id
  std::optional<NetworkPolicy> network_defaults;
  std::optional<NetworkPolicy> network_limit;
};

struct Create { OrganizationId id; std::string name; };
struct CreateApiKey { ApiKeyId key_id; std::string name; std::string key_hash; std::string key_prefix; };
struct RevokeApiKey { ApiKeyId key_id; };
// A message to the organization's webhook endpoints; `payload` must be a JSON object's text.
struct SendWebhookMessage { std::string event_type; std::string payload; std::optional<std::string> event_id; };

// The admin sets the egress defaults and limit of the organization's sandboxes (both replaced).
struct SetNetwork { std::optional<NetworkPolicy> defaults; std::optional<NetworkPolicy> limit; };

using Command = std::variant<Create, CreateApiKey, RevokeApiKey, SendWebhookMessage, SetNetwork>;
using Events = std::vector<OrganizationEvent>;

Result<Events> decide(const Command& command, const State& state);
State evolve(State state, const OrganizationEvent& event);

}  // namespace events::organization
