#include "events/deciders/organization.hpp"

#include <boost/json/parse.hpp>

namespace events::organization {
namespace {

constexpr std::size_t kMaxWebhookPayload = std::size_t{256} * 1024;

// Svix's rule for event types and event ids: 1 to 256 of [a-zA-Z0-9-_.].
bool svix_name(const std::string& s) {
  if (s.empty() || s.size() > 256) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

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
  Result<Events> operator()(const SendWebhookMessage& c) const {
    if (!svix_name(c.event_type)) {
      return make_error(ErrorCode::invalid_argument,
                        "eventType must be 1 to 256 letters, digits, '-', '_' or '.', not '" + c.event_type + "'");
    }
    if (c.event_id && !svix_name(*c.event_id)) {
      return make_error(ErrorCode::invalid_argument, "eventId must be 1 to 256 letters, digits, '-', '_' or '.'");
    }
    if (c.payload.size() > kMaxWebhookPayload) {
      return make_error(ErrorCode::invalid_argument, "payload must be at most 256 KiB of JSON");
    }
    boost::system::error_code ec;
    const auto payload = boost::json::parse(c.payload, ec);
    if (ec || !payload.is_object()) return make_error(ErrorCode::invalid_argument, "payload must be a JSON object");
    return Events{WebhookMessageSent{c.event_type, c.payload, c.event_id}};
  }
  Result<Events> operator()(const SetNetwork& c) const {
    for (const auto* p : {&c.defaults, &c.limit}) {
      if (*p) {
        if (auto bad = network::validate(**p)) {
          return make_error(ErrorCode::invalid_argument, (p == &c.defaults ? "defaults." : "limit.") + bad->message);
        }
      }
    }
    if (c.defaults == s.network_defaults && c.limit == s.network_limit) return Events{};
    return Events{OrganizationNetworkSet{c.defaults, c.limit}};
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
  void operator()(const WebhookMessageSent&) {}  // the delivery process's concern, not the organization's state
  void operator()(const OrganizationNetworkSet& e) {
    s.network_defaults = e.defaults;
    s.network_limit = e.limit;
  }
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
