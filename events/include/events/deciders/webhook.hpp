#pragma once
// The webhook endpoint aggregate's decider (pure). The URL's reachability (which addresses a
// webhook may go to) is the route's to check with the operator's policy before deciding; this
// checks what needs no configuration.
#include "events/catalogue/webhook.hpp"

namespace events::webhook {

struct State {
  bool exists = false;
  bool deleted = false;
  WebhookEndpointId id;
  OrganizationId organization_id;
  WebhookEndpointUpdated spec;  // url, description, filter types, disabled, uid, metadata
  std::string secret;
  std::string previous_secret;  // still signing until previous_until_ms
  std::int64_t previous_until_ms = 0;
  std::string disabled_reason;
};

struct Create { WebhookEndpointCreated spec; };
struct Update { WebhookEndpointUpdated spec; };
struct RotateSecret { std::string secret; std::int64_t now_ms = 0; };
struct Disable { std::string reason; };
struct Recover { std::int64_t since_ms = 0; std::optional<std::int64_t> until_ms; std::int64_t now_ms = 0; };
struct Resend { std::string message_id; };
struct Delete {};

using Command = std::variant<Create, Update, RotateSecret, Disable, Recover, Resend, Delete>;
using Events = std::vector<WebhookEndpointEvent>;

Result<Events> decide(const Command& command, const State& state);
State evolve(State state, const WebhookEndpointEvent& event);

// The secrets that sign a delivery at `now_ms`: the current one, and the previous one during a rotation.
std::vector<std::string> signing_secrets(const State& s, std::int64_t now_ms);

}  // namespace events::webhook
