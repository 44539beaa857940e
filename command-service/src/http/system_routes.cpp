// Health, the OpenAPI document, and API-key authentication.
#include "command_service/http/api.hpp"
#include "command_service/http/key_cache.hpp"
#include "command_service/app/warm_pools.hpp"
#include "projector/queries/organizations_audit.hpp"
#include "events/api_keys.hpp"

#include <pqxx/pqxx>

namespace command_service {


namespace asio = boost::asio;

namespace {

asio::awaitable<Response> health(Services& s) {
  const auto postgres = co_await s.db.run([](DbContext& db) -> std::string {
    try {
      pqxx::nontransaction tx(db.conn);
      tx.exec("select 1");
      return "up";
    } catch (const std::exception& e) {
      return std::string("down: ") + e.what();
    }
  });
  const bool nats = s.nats_connected && s.nats_connected();
  const bool ok = postgres == "up" && nats;
  boost::json::object body{{"status", ok ? "ok" : "error"},
                           {"info", {{"postgres", postgres}, {"nats", nats ? "up" : "down"}}}};
  co_return json_response(ok ? http::status::ok : http::status::service_unavailable, body);
}

asio::awaitable<Response> openapi(const Router& router) {
  co_return json_response(http::status::ok, router.openapi());
}

asio::awaitable<std::variant<Identity, Response>> authenticate(Services& services, std::string header) {
  const auto key_hash = events::bearer_key_hash(header);
  if (!key_hash) co_return error_response(http::status::unauthorized, "missing Authorization: Bearer <api key>");
  const auto& hash = *key_hash;
  if (services.keys != nullptr) {
    if (auto cached = services.keys->find(hash)) co_return *cached;
  }
  auto found = co_await services.db.run([&hash](DbContext& db) -> std::optional<Identity> {
    pqxx::nontransaction tx(db.conn);
    const auto owner = projector::queries::key_owner(tx, hash);
    if (!owner) return std::nullopt;
    return Identity{owner->organization_id, "apikey:" + owner->key_id};
  });
  // The read model may not show a revocation the log's tail has already seen.
  if (!found || (services.keys != nullptr && services.keys->revoked(*found))) {
    co_return error_response(http::status::unauthorized, "invalid or revoked API key");
  }
  if (services.keys != nullptr) services.keys->put(hash, *found);
  co_return *found;
}

}  // namespace

void register_system_routes(Router& r, Services& s) {
  r.add({http::verb::get, "/api/health", "Health of the API and its PostgreSQL and NATS", false,
         [&s](Call&) { return health(s); }});
  r.add({http::verb::get, "/api/openapi.json", "This document (generated from the route table)", false,
         [&r](Call&) { return openapi(r); }});
}

Authenticator api_key_authenticator(Services& s) {
  return [&s](const Request& req) { return authenticate(s, std::string(req[http::field::authorization])); };
}

void register_all_routes(Router& r, Services& s) {
  register_system_routes(r, s);
  register_sandbox_routes(r, s);
  register_volume_and_snapshot_routes(r, s);
  register_admin_and_audit_routes(r, s);
  register_runner_routes(r, s);
  register_stream_routes(r, s);
  register_socket_io_routes(r, s);
  register_proxy_routes(r, s);
  register_ssh_routes(r, s);
  register_warm_pool_routes(r, s);
  register_webhook_routes(r, s);
}

}  // namespace command_service
