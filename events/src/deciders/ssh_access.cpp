#include "events/deciders/ssh_access.hpp"

#include <string>

namespace events::ssh_access {
namespace {

struct Decider {
  const State& s;
  Result<Events> operator()(const Grant& c) const {
    if (c.expires_in_minutes < 1 || c.expires_in_minutes > kMaxMinutes) {
      return make_error(ErrorCode::invalid_argument, "expiresInMinutes must be 1 to " + std::to_string(kMaxMinutes) +
                                                         ", not " + std::to_string(c.expires_in_minutes));
    }
    if (c.token_hash.size() != 64) {
      return make_error(ErrorCode::invalid_argument, "SSH token hash must be 64 hex characters (SHA-256)");
    }
    Events out;
    for (const auto& [id, token] : s.active) {
      out.emplace_back(SshAccessRevoked{SshAccessId{id}, "replaced by a new token"});
    }
    out.emplace_back(SshAccessGranted{c.access_id, c.sandbox_id, c.organization_id, c.token_hash, c.now_ms,
                                      c.now_ms + std::int64_t{c.expires_in_minutes} * 60 * 1000});
    return out;
  }
  Result<Events> operator()(const Revoke& c) const {
    Events out;
    for (const auto& [id, token] : s.active) {
      if (!c.token_hash || token.token_hash == *c.token_hash) out.emplace_back(SshAccessRevoked{SshAccessId{id}, "revoked by the user"});
    }
    if (c.token_hash && out.empty()) return make_error(ErrorCode::not_found, "SSH access token not found");
    return out;
  }
  Result<Events> operator()(const Expire& c) const {
    Events out;
    for (const auto& [id, token] : s.active) {
      if (token.expires_at_ms <= c.now_ms) out.emplace_back(SshAccessExpired{SshAccessId{id}});
    }
    return out;
  }
};

struct Evolver {
  State& s;
  void operator()(const SshAccessGranted& e) {
    s.active[e.access_id.str()] = Token{e.token_hash, e.created_at_ms, e.expires_at_ms};
  }
  void operator()(const SshAccessRevoked& e) { s.active.erase(e.access_id.str()); }
  void operator()(const SshAccessExpired& e) { s.active.erase(e.access_id.str()); }
};

}  // namespace

Result<Events> decide(const Command& command, const State& state) { return std::visit(Decider{state}, command); }

State evolve(State state, const SshAccessEvent& event) {
  std::visit(Evolver{state}, event);
  return state;
}

}  // namespace events::ssh_access
