// webhook_endpoints: each organization's webhook endpoints as the Svix-compatible routes show
// them, with the secrets the delivery process signs with (never shown but by the secret route).
#include "common.hpp"

namespace projector::models {
namespace {

using namespace events;

std::optional<std::string> types_json(const std::optional<std::vector<std::string>>& types) {
  if (!types) return std::nullopt;
  return json_of(*types);
}

class WebhookEndpoints final : public ReadModel {
 public:
  std::string name() const override { return "webhook_endpoints"; }
  std::vector<Table> tables() const override { return {{"webhook_endpoints", "id"}}; }
  std::string ddl() const override {
    return R"(create table if not exists webhook_endpoints (
      id uuid primary key, organization_id text not null, url text not null, description text not null,
      filter_types jsonb, disabled boolean not null, disabled_reason text not null default '', uid text,
      metadata jsonb not null, secret text not null, previous_secret text not null default '',
      previous_until timestamptz, created_at timestamptz not null, updated_at timestamptz not null);
    create index if not exists webhook_endpoints_org on webhook_endpoints (organization_id, id);)";
  }
  void prepare(pqxx::connection_base& c) const override {
    c.prepare("webhook_insert",
              "insert into webhook_endpoints (id, organization_id, url, description, filter_types, disabled, uid, "
              "metadata, secret, created_at, updated_at) values ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, $9, "
              "$10::timestamptz, $10::timestamptz) on conflict (id) do nothing");
    c.prepare("webhook_update",
              "update webhook_endpoints set url = $2, description = $3, filter_types = $4::jsonb, disabled = $5, "
              "uid = $6, metadata = $7::jsonb, disabled_reason = case when $5 then disabled_reason else '' end, "
              "updated_at = $8::timestamptz where id = $1");
    c.prepare("webhook_rotate",
              "update webhook_endpoints set previous_secret = secret, secret = $2, "
              "previous_until = to_timestamp($3::double precision / 1000), updated_at = $4::timestamptz where id = $1");
    c.prepare("webhook_disable",
              "update webhook_endpoints set disabled = true, disabled_reason = $2, updated_at = $3::timestamptz "
              "where id = $1");
    c.prepare("webhook_delete", "delete from webhook_endpoints where id = $1");
  }
  bool wants(const RecordedEvent& e) const override { return e.category() == "webhookendpoint"; }
  Result<void> apply(pqxx::transaction_base& tx, const RecordedEvent& e) const override {
    if (!wants(e)) return {};
    auto decoded = decode<WebhookEndpointEvent>(e);
    if (!decoded) return decoded.error();
    const auto id = e.stream_id();
    std::visit(
        [&](const auto& ev) {
          using T = std::decay_t<decltype(ev)>;
          if constexpr (std::is_same_v<T, WebhookEndpointCreated>) {
            tx.exec_prepared("webhook_insert", ev.endpoint_id.str(), ev.organization_id.str(), ev.url, ev.description,
                             types_json(ev.filter_types), ev.disabled, ev.uid, json_text(ev.metadata), ev.secret,
                             e.recorded_at);
          } else if constexpr (std::is_same_v<T, WebhookEndpointUpdated>) {
            tx.exec_prepared("webhook_update", id, ev.url, ev.description, types_json(ev.filter_types), ev.disabled,
                             ev.uid, json_text(ev.metadata), e.recorded_at);
          } else if constexpr (std::is_same_v<T, WebhookEndpointSecretRotated>) {
            tx.exec_prepared("webhook_rotate", id, ev.secret, ev.previous_until_ms, e.recorded_at);
          } else if constexpr (std::is_same_v<T, WebhookEndpointDisabled>) {
            tx.exec_prepared("webhook_disable", id, ev.reason, e.recorded_at);
          } else if constexpr (std::is_same_v<T, WebhookEndpointDeleted>) {
            tx.exec_prepared("webhook_delete", id);
          }
          // Recovery and resend requests: the delivery process acts on them from the log.
        },
        *decoded);
    return {};
  }
};

}  // namespace

std::unique_ptr<ReadModel> make_webhook_endpoints() { return std::make_unique<WebhookEndpoints>(); }

}  // namespace projector::models
