#pragma once
// The questions the API and the webhook delivery process ask of the webhook_endpoints read model
// (src/models/webhooks.cpp), beside it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace projector::queries {

struct WebhookEndpointRow {
  std::string id;
  std::string organization_id;
  std::string url;
  std::string description;
  std::optional<std::vector<std::string>> filter_types;  // none: every type
  bool disabled = false;
  std::string disabled_reason;
  std::optional<std::string> uid;
  std::string metadata_json;
  std::string secret;
  std::string previous_secret;
  std::int64_t previous_until_ms = 0;
  std::string created_at;  // ISO 8601, UTC
  std::string updated_at;
};

// One endpoint of `org`, by its id or its uid.
std::optional<WebhookEndpointRow> webhook_endpoint(pqxx::transaction_base& tx, const std::string& org,
                                                   const std::string& id_or_uid);
// `org`'s endpoints in id order after `after` (an id; empty: from the first), at most `limit`.
std::vector<WebhookEndpointRow> webhook_endpoints(pqxx::transaction_base& tx, const std::string& org,
                                                  const std::string& after, int limit);
// Every enabled endpoint of every organization (the delivery process keeps them in memory).
std::vector<WebhookEndpointRow> enabled_webhook_endpoints(pqxx::transaction_base& tx);

}  // namespace projector::queries
