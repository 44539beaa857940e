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
};

struct Create { OrganizationId id; std::string name; };
struct CreateApiKey { ApiKeyId key_id; std::string name; std::string key_hash; std::string key_prefix; };
struct RevokeApiKey { ApiKeyId key_id; };

using Command = std::variant<Create, CreateApiKey, RevokeApiKey>;
using Events = std::vector<OrganizationEvent>;

Result<Events> decide(const Command& command, const State& state);
State evolve(State state, const OrganizationEvent& event);

}  // namespace events::organization
