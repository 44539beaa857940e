#pragma once
// The SSH access aggregate's decider (pure): one sandbox's SSH tokens. Whether the caller may
// touch the sandbox is the route's question (events/access.hpp), asked before deciding.
#include "events/catalogue/ssh_access.hpp"

#include <map>

namespace events::ssh_access {

inline constexpr int kDefaultMinutes = 60;
inline constexpr int kMaxMinutes = 60 * 24 * 30;

struct Token {
  std::string token_hash;
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;
};

struct State {
  std::map<std::string, Token> active;  // by access id: neither revoked nor expired
};

struct Grant {
  SshAccessId access_id;
  SandboxId sandbox_id;
  OrganizationId organization_id;
  std::string token_hash;
  int expires_in_minutes = kDefaultMinutes;
  std::int64_t now_ms = 0;
};
struct Revoke { std::optional<std::string> token_hash; };  // none: every active token
struct Expire { std::int64_t now_ms = 0; };                // the tokens whose time has passed

using Command = std::variant<Grant, Revoke, Expire>;
using Events = std::vector<SshAccessEvent>;

Result<Events> decide(const Command& command, const State& state);
State evolve(State state, const SshAccessEvent& event);

}  // namespace events::ssh_access
