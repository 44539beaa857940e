#include "events/deciders/webhook.hpp"

#include "events/deciders/validate.hpp"
#include "events/published/contract.hpp"
#include <cctype>
#include "events/webhooks/signing.hpp"

namespace events::webhook {
namespace {

constexpr std::int64_t kRotationOverlapMs = 24LL * 3600 * 1000;  // Svix keeps the old secret a day
constexpr std::int64_t kRecoverWindowMs = 14LL * 24 * 3600 * 1000;

Error bad(std::string message) { return make_error(ErrorCode::invalid_argument, std::move(message)); }

std::optional<Error> check(const WebhookEndpointUpdated& s) {
  if (s.url.empty()) return bad("url is required");
  if (s.url.size() > 2048) return bad("url is longer than 2048 characters");
  if (s.description.size() > 1024) return bad("description is longer than 1024 characters");
  if (s.filter_types) {
    if (s.filter_types->empty()) return bad("filterTypes: an empty list would deliver nothing (leave it out for all types)");
    for (const auto& t : *s.filter_types) {
      if (!published::is_type(t)) return bad("filterTypes: '" + t + "' is not a public event type");
    }
  }
  if (s.uid) {
    if (s.uid->empty() || s.uid->size() > 256) return bad("uid must be 1 to 256 characters");
    for (char c : *s.uid) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
        return bad("uid may hold only letters, digits, '-', '_' and '.'");
      }
    }
  }
  if (auto wrong = validate::labels(s.metadata)) return bad("metadata: " + wrong->message);
  return std::nullopt;
}

WebhookEndpointUpdated spec_of(const WebhookEndpointCreated& c) {
  return WebhookEndpointUpdated{c.url, c.description, c.filter_types, c.disabled, c.uid, c.metadata};
}

bool same(const WebhookEndpointUpdated& a, const WebhookEndpointUpdated& b) {
  return a.url == b.url && a.description == b.description && a.filter_types == b.filter_types &&
         a.disabled == b.disabled && a.uid == b.uid && a.metadata == b.metadata;
}

struct Decider {
  const State& s;
  Result<Events> operator()(const Create& c) const {
    if (s.exists) return make_error(ErrorCode::already_exists, "webhook endpoint already exists");
    if (auto wrong = check(spec_of(c.spec))) return *wrong;
    if (auto key = webhooks::secret_key(c.spec.secret); !key) return bad("secret: " + key.error().message);
    return Events{c.spec};
  }
  Result<Events> operator()(const Update& c) const {
    if (auto wrong = check(c.spec)) return *wrong;
    if (same(c.spec, s.spec)) return Events{};
    return Events{c.spec};
  }
  Result<Events> operator()(const RotateSecret& c) const {
    if (auto key = webhooks::secret_key(c.secret); !key) return bad("key: " + key.error().message);
    return Events{WebhookEndpointSecretRotated{c.secret, c.now_ms + kRotationOverlapMs}};
  }
  Result<Events> operator()(const Disable& c) const {
    if (s.spec.disabled) return Events{};
    return Events{WebhookEndpointDisabled{c.reason}};
  }
  Result<Events> operator()(const Recover& c) const {
    if (c.since_ms > c.now_ms) return bad("since is in the future");
    if (c.since_ms < c.now_ms - kRecoverWindowMs) return bad("since is more than 14 days ago");
    if (c.until_ms && *c.until_ms <= c.since_ms) return bad("until must be after since");
    return Events{WebhookEndpointRecoveryRequested{c.since_ms, c.until_ms}};
  }
  Result<Events> operator()(const Resend& c) const {
    if (c.message_id.rfind("msg_", 0) != 0 || c.message_id.size() > 128) return bad("not a message id: " + c.message_id);
    return Events{WebhookEndpointResendRequested{c.message_id}};
  }
  Result<Events> operator()(const Delete&) const { return Events{WebhookEndpointDeleted{}}; }
};

struct Evolver {
  State& s;
  void operator()(const WebhookEndpointCreated& e) {
    s.exists = true;
    s.id = e.endpoint_id;
    s.organization_id = e.organization_id;
    s.spec = spec_of(e);
    s.secret = e.secret;
  }
  void operator()(const WebhookEndpointUpdated& e) {
    s.spec = e;
    if (!e.disabled) s.disabled_reason.clear();
  }
  void operator()(const WebhookEndpointSecretRotated& e) {
    s.previous_secret = s.secret;
    s.previous_until_ms = e.previous_until_ms;
    s.secret = e.secret;
  }
  void operator()(const WebhookEndpointDisabled& e) {
    s.spec.disabled = true;
    s.disabled_reason = e.reason;
  }
  void operator()(const WebhookEndpointRecoveryRequested&) {}
  void operator()(const WebhookEndpointResendRequested&) {}
  void operator()(const WebhookEndpointDeleted&) { s.deleted = true; }
};

}  // namespace

Result<Events> decide(const Command& command, const State& state) {
  if (!std::holds_alternative<Create>(command) && (!state.exists || state.deleted)) {
    return make_error(ErrorCode::not_found, "webhook endpoint not found");
  }
  return std::visit(Decider{state}, command);
}

State evolve(State state, const WebhookEndpointEvent& event) {
  std::visit(Evolver{state}, event);
  return state;
}

std::vector<std::string> signing_secrets(const State& s, std::int64_t now_ms) {
  std::vector<std::string> out{s.secret};
  if (!s.previous_secret.empty() && now_ms < s.previous_until_ms) out.push_back(s.previous_secret);
  return out;
}

}  // namespace events::webhook
