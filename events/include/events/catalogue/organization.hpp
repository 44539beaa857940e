#pragma once
// Events of the organization aggregate (stream "organization-<uuid>"), API keys included.
#include "events/catalogue/sandbox.hpp"

namespace events {

struct OrganizationCreated {
  static constexpr std::string_view kType = "OrganizationCreated";
  static constexpr int kVersion = 1;
  OrganizationId organization_id;
  std::string name;
};
BOOST_DESCRIBE_STRUCT(OrganizationCreated, (), (organization_id, name))

struct ApiKeyCreated {
  static constexpr std::string_view kType = "ApiKeyCreated";
  static constexpr int kVersion = 1;
  ApiKeyId key_id;
  std::string name;
  std::string key_hash;    // SHA-256 of the key, hex; the key itself is never stored
  std::string key_prefix;  // first characters, to let a person recognise it
};
BOOST_DESCRIBE_STRUCT(ApiKeyCreated, (), (key_id, name, key_hash, key_prefix))

struct ApiKeyRevoked {
  static constexpr std::string_view kType = "ApiKeyRevoked";
  static constexpr int kVersion = 1;
  ApiKeyId key_id;
};
BOOST_DESCRIBE_STRUCT(ApiKeyRevoked, (), (key_id))

// The platform's admin sent a message to the organization's webhook endpoints (Svix's
// message.create, as a test send): delivered like a public event of `event_type` to the endpoints
// that take that type. It is not a public event: the event stream and the Kafka export leave it out.
struct WebhookMessageSent {
  static constexpr std::string_view kType = "WebhookMessageSent";
  static constexpr int kVersion = 1;
  std::string event_type;
  std::string payload;                  // a JSON object, as sent
  std::optional<std::string> event_id;  // the sender's own id for it
};
BOOST_DESCRIBE_STRUCT(WebhookMessageSent, (), (event_type, payload, event_id))

// The platform's admin set the organization's egress defaults (the policy of a sandbox created
// without network fields) and limit (enforced beside every sandbox's own policy: an allow list
// there cannot be widened by a sandbox). Absent: none.
struct OrganizationNetworkSet {
  static constexpr std::string_view kType = "OrganizationNetworkSet";
  static constexpr int kVersion = 1;
  std::optional<NetworkPolicy> defaults;
  std::optional<NetworkPolicy> limit;
};
BOOST_DESCRIBE_STRUCT(OrganizationNetworkSet, (), (defaults, limit))

using OrganizationEvent =
    std::variant<OrganizationCreated, ApiKeyCreated, ApiKeyRevoked, WebhookMessageSent, OrganizationNetworkSet>;

}  // namespace events
