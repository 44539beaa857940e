#pragma once
// What the API asks of webhook-delivery's tables (schema webhooks, made by
// src/webhooks/delivery.cpp): an organization's messages and the attempts to deliver them. When
// webhook-delivery has never run, the tables do not exist and the answers are empty.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace projector::queries {

struct WebhookMessageRow {
  std::string id;
  std::string event_type;
  std::string payload;     // JSON text
  std::string created_at;  // ISO 8601, UTC
};
// Newest first, before the message `before` (empty: from the newest), at most `limit`.
std::vector<WebhookMessageRow> webhook_messages(pqxx::transaction_base& tx, const std::string& org,
                                                const std::string& before, int limit);
std::optional<WebhookMessageRow> webhook_message(pqxx::transaction_base& tx, const std::string& org,
                                                 const std::string& id);

struct WebhookAttemptRow {
  std::int64_t id = 0;
  std::string message_id;
  std::string endpoint_id;
  std::string url;
  int response_status = 0;
  std::string response;
  std::int64_t duration_ms = 0;
  std::string outcome;  // delivered, failed, gone
  std::string trigger;  // scheduled, manual
  std::string at;
};
// Newest first, before attempt `before` (0: from the newest), at most `limit`; of one endpoint
// or of one message.
std::vector<WebhookAttemptRow> webhook_attempts_of_endpoint(pqxx::transaction_base& tx, const std::string& org,
                                                            const std::string& endpoint_id, std::int64_t before,
                                                            int limit);
std::vector<WebhookAttemptRow> webhook_attempts_of_message(pqxx::transaction_base& tx, const std::string& org,
                                                           const std::string& message_id, std::int64_t before,
                                                           int limit);

}  // namespace projector::queries
