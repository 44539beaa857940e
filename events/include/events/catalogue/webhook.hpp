#pragma once
// Events of a webhook endpoint (stream "webhookendpoint-<uuid>"): where an organization's public
// events are delivered (events/published/), signed with the endpoint's secret
// (events/webhooks/signing.hpp). The secret is in the log (the delivery process signs with it);
// the audit log and every stream leave it out (redact.hpp).
#include "events/catalogue/sandbox.hpp"

namespace events {

using WebhookEndpointId = Id<struct WebhookEndpointIdTag>;

struct WebhookEndpointCreated {
  static constexpr std::string_view kType = "WebhookEndpointCreated";
  static constexpr int kVersion = 1;
  WebhookEndpointId endpoint_id;
  OrganizationId organization_id;
  std::string url;
  std::string description;
  std::optional<std::vector<std::string>> filter_types;  // empty: every public type
  bool disabled = false;
  std::string secret;                                     // whsec_...
  std::optional<std::string> uid;                         // the caller's own id for it
  StringMap metadata;
};
BOOST_DESCRIBE_STRUCT(WebhookEndpointCreated, (),
                      (endpoint_id, organization_id, url, description, filter_types, disabled, secret, uid, metadata))

// The whole new description (a PUT, or a PATCH applied to the old one).
struct WebhookEndpointUpdated {
  static constexpr std::string_view kType = "WebhookEndpointUpdated";
  static constexpr int kVersion = 1;
  std::string url;
  std::string description;
  std::optional<std::vector<std::string>> filter_types;
  bool disabled = false;
  std::optional<std::string> uid;
  StringMap metadata;
};
BOOST_DESCRIBE_STRUCT(WebhookEndpointUpdated, (), (url, description, filter_types, disabled, uid, metadata))

// The old secret still signs (beside the new one) until `previous_until_ms`, as Svix does for 24 h.
struct WebhookEndpointSecretRotated {
  static constexpr std::string_view kType = "WebhookEndpointSecretRotated";
  static constexpr int kVersion = 1;
  std::string secret;
  std::int64_t previous_until_ms = 0;
};
BOOST_DESCRIBE_STRUCT(WebhookEndpointSecretRotated, (), (secret, previous_until_ms))

// The platform stopped delivering: it answered 410, or failed every attempt for days.
struct WebhookEndpointDisabled {
  static constexpr std::string_view kType = "WebhookEndpointDisabled";
  static constexpr int kVersion = 1;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(WebhookEndpointDisabled, (), (reason))

// Deliver again what failed to this endpoint since `since_ms` (Svix's recover).
struct WebhookEndpointRecoveryRequested {
  static constexpr std::string_view kType = "WebhookEndpointRecoveryRequested";
  static constexpr int kVersion = 1;
  std::int64_t since_ms = 0;
  std::optional<std::int64_t> until_ms;
};
BOOST_DESCRIBE_STRUCT(WebhookEndpointRecoveryRequested, (), (since_ms, until_ms))

// Deliver one message to this endpoint again (Svix's resend), whatever became of it.
struct WebhookEndpointResendRequested {
  static constexpr std::string_view kType = "WebhookEndpointResendRequested";
  static constexpr int kVersion = 1;
  std::string message_id;
};
BOOST_DESCRIBE_STRUCT(WebhookEndpointResendRequested, (), (message_id))

struct WebhookEndpointDeleted {
  static constexpr std::string_view kType = "WebhookEndpointDeleted";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(WebhookEndpointDeleted, (), ())

using WebhookEndpointEvent =
    std::variant<WebhookEndpointCreated, WebhookEndpointUpdated, WebhookEndpointSecretRotated, WebhookEndpointDisabled,
                 WebhookEndpointRecoveryRequested, WebhookEndpointResendRequested, WebhookEndpointDeleted>;

}  // namespace events
