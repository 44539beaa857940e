// Audit log queries (org-scoped) and the admin endpoints for organizations and API keys.
#include "command_service/http/api.hpp"
#include "events/store/sql.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/http/dto.hpp"
#include "projector/queries/organizations_audit.hpp"
#include "events/api_keys.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/organization.hpp"
#include "events/redact.hpp"

#include <pqxx/pqxx>

namespace command_service {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace events;

namespace {

// ---- audit ----

asio::awaitable<Response> audit(Services& s, Call& call) {
  int limit = 100;
  std::int64_t after = 0;
  try {
    if (auto l = call.query_one("limit")) limit = std::stoi(*l);
    if (auto a = call.query_one("after")) after = std::stoll(*a);
  } catch (const std::exception&) {
    limit = -1;
  }
  if (limit < 1 || limit > 1000 || after < 0) {
    co_return error_response(http::status::bad_request, "limit must be 1 to 1000 and after a position >= 0");
  }
  const auto head = co_await s.db.run([](DbContext& db) { return log_head(db); });
  co_await wait_for_projection(s, "audit", head);
  auto page = co_await s.db.run([&](DbContext& db) -> Result<json::object> {
    pqxx::nontransaction tx(db.conn);
    try {
      const auto entries = projector::queries::audit_entries(
          tx, {call.organization_id, after, call.query_one("resource"), call.query_one("actor"),
               call.query_one("from"), call.query_one("to"), limit});
      dto::AuditPage out;
      out.nextAfter = after;
      for (const auto& e : entries) {
        out.nextAfter = e.position;
        out.items.push_back({e.position, e.recorded_at, e.actor, e.resource_type, e.resource_id, e.action,
                             e.correlation_id, e.causation_id, json::parse(redacted_data(e.action, e.data_json))});
      }
      return events::http::to_object(out);
    } catch (const pqxx::data_exception& e) {
      return make_error(ErrorCode::invalid_argument, "from/to must be ISO-8601 times: " + std::string(e.what()));
    }
  });
  if (!page) co_return error_for(page.error());
  co_return json_response(http::status::ok, *page);
}

// ---- admin ----

std::optional<std::string> name_of(const Request& req) {
  boost::system::error_code ec;
  auto v = json::parse(req.body(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* n = v.as_object().if_contains("name");
  if (n == nullptr || !n->is_string()) return std::nullopt;
  return std::string(n->as_string());
}

asio::awaitable<Response> create_organization(Services& s, Call& call) {
  const auto name = name_of(call.request);
  if (!name) co_return error_response(http::status::bad_request, "body must be {\"name\": string}");
  const auto org = OrganizationId::generate();
  const auto key = generate_api_key();
  const auto key_id = ApiKeyId::generate();
  call.organization_id = org.str();
  auto position = co_await s.db.run([&](DbContext& db) -> Result<std::int64_t> {
    auto created = organization_command(db, call, org, organization::Create{org, *name});
    if (!created) return created;
    return organization_command(db, call, org, organization::CreateApiKey{key_id, "default", sha256_hex(key), api_key_prefix(key)});
  });
  if (!position) co_return error_for(position.error());
  co_await wait_for_projection(s, "organizations", *position);
  co_return json_response(http::status::created,
                          events::http::to_json(dto::NewOrganization{org.str(), *name, key, key_id.str()}));
}

asio::awaitable<Response> create_key(Services& s, Call& call) {
  auto org = OrganizationId::parse(call.path.at("organizationId"));
  if (!org) co_return error_response(http::status::not_found, "organization not found");
  const auto name = name_of(call.request).value_or("key");
  call.organization_id = org->str();
  const auto key = generate_api_key();
  const auto key_id = ApiKeyId::generate();
  auto position = co_await s.db.run([&](DbContext& db) {
    return organization_command(db, call, *org, organization::CreateApiKey{key_id, name, sha256_hex(key), api_key_prefix(key)});
  });
  if (!position) co_return error_for(position.error());
  co_await wait_for_projection(s, "organizations", *position);
  co_return json_response(http::status::created,
                          events::http::to_json(dto::NewApiKey{key_id.str(), key, api_key_prefix(key)}));
}

asio::awaitable<Response> revoke_key(Services& s, Call& call) {
  auto org = OrganizationId::parse(call.path.at("organizationId"));
  auto key = ApiKeyId::parse(call.path.at("keyId"));
  if (!org || !key) co_return error_response(http::status::not_found, "API key not found");
  call.organization_id = org->str();
  auto position = co_await s.db.run([&](DbContext& db) { return organization_command(db, call, *org, organization::RevokeApiKey{*key}); });
  if (!position) co_return error_for(position.error());
  // Revocation takes effect at once: answer only when the key table no longer admits it.
  co_await wait_for_projection(s, "organizations", *position);
  co_return json_response(http::status::ok, events::http::to_json(dto::RevokedApiKey{key->str(), true}));
}

}  // namespace

void register_admin_and_audit_routes(Router& r, Services& s) {
  using V = http::verb;
  r.add({V::get, "/api/audit", "Audit log of the organization (?resource=&actor=&from=&to=&after=&limit=)", true,
         [&s](Call& c) { return audit(s, c); }})
      .answers<dto::AuditPage>();
  r.add({V::post, "/api/admin/organizations", "Create an organization and its first API key (admin)", false,
         [&s](Call& c) { return create_organization(s, c); }, LimitClass::admin})
      .takes<dto::Named>()
      .answers<dto::NewOrganization>(http::status::created);
  r.add({V::post, "/api/admin/organizations/{organizationId}/api-keys", "Create an API key (admin)", false,
         [&s](Call& c) { return create_key(s, c); }, LimitClass::admin})
      .takes<dto::NamedRequest>()
      .answers<dto::NewApiKey>(http::status::created);
  r.add({V::delete_, "/api/admin/organizations/{organizationId}/api-keys/{keyId}", "Revoke an API key (admin)", false,
         [&s](Call& c) { return revoke_key(s, c); }, LimitClass::admin})
      .answers<dto::RevokedApiKey>();
}

}  // namespace command_service
