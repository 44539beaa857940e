#include "events/deciders/organization.hpp"

namespace events::organization {
namespace {

struct Decider {
  const State& s;
  Result<Events> operator()(const Create& c) const {
    if (s.exists) return make_error(ErrorCode::already_exists, "organization already exists");
    if (c.name.empty() || c.name.size() > 128) {
      return make_error(ErrorCode::invalid_argument, "organization name must be 1 to 128 characters");
    }
    return Events{OrganizationCreated{c.id, c.name}};
  }
  Result<Events> operator()(const CreateApiKey& c) const {
    if (s.keys.contains(c.key_id.str())) {
      return make_error(ErrorCode::already_exists, "API key " + c.key_id.str() + " already exists");
    }
    if (c.key_hash.size() != 64) {
      return make_error(ErrorCode::invalid_argument, "API key hash must be 64 hex characters (SHA-256)");
    }
    return Events{ApiKeyCreated{c.key_id, c.name, c.key_hash, c.key_prefix}};
  }
  Result<Events> operator()(const RevokeApiKey& c) const {
    auto it = s.keys.find(c.key_id.str());
    if (it == s.keys.end()) return make_error(ErrorCode::not_found, "API key does not exist");
    if (it->second.revoked) return Events{};
    return Events{ApiKeyRevoked{c.key_id}};
  }
};

struct Evolver {
  State& s;
  void operator()(const OrganizationCreated& e) {
    s.exists = true;
    s.id = e.organization_id;
    s.name = e.name;
  }
  void operator()(const ApiKeyCreated& e) {
    s.keys[e.key_id.str()] = ApiKey{e.name, e.key_hash, e.key_prefix, false};
  }
  void operator()(const ApiKeyRevoked& e) { s.keys[e.key_id.str()].revoked = true; }
};

}  // namespace

Result<Events> decide(const Command& command, const State& state) {
  if (!std::holds_alternative<Create>(command) && !state.exists) {
    return make_error(ErrorCode::not_found, "organization does not exist");
  }
  return std::visit(Decider{state}, command);
}

State evolve(State state, const OrganizationEvent& event) {
  std::visit(Evolver{state}, event);
  return state;
}

}  // namespace events::organization
