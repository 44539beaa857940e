// Audit log queries (org-scoped) and the admin endpoints for organizations and API keys.
#include "command_service/http/api.hpp"
#include "command_service/http/key_cache.hpp"
#include "events/store/sql.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/http/dto.hpp"
#include "projector/queries/organizations_audit.hpp"
#include "events/api_keys.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/organization.hpp"
#include "events/redact.hpp"
#include "command_service/http/network_request.hpp"

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
  // Revocation takes effect at once: answer only when the key table no longer admits it (and
  // this instance's key cache has let it go; the others' do when their log tail sees the event).
  co_await wait_for_projection(s, "organizations", *position);
  if (s.keys != nullptr) s.keys->clear();
  co_return json_response(http::status::ok, events::http::to_json(dto::RevokedApiKey{key->str(), true}));
}

json::object organization_network_body(const organization::State& st) {
  json::object out;
  out["defaults"] = st.network_defaults ? json::value(policy_body(*st.network_defaults)) : json::value(nullptr);
  out["limit"] = st.network_limit ? json::value(policy_body(*st.network_limit)) : json::value(nullptr);
  return out;
}

asio::awaitable<Response> get_organization_network(Services& s, Call& call) {
  auto org = OrganizationId::parse(call.path.at("organizationId"));
  if (!org) co_return error_response(http::status::not_found, "organization not found");
  auto st = co_await s.db.run([&](DbContext& db) { return load_organization(db, *org); });
  if (!st) co_return error_for(st.error());
  if (!st->exists) co_return error_response(http::status::not_found, "organization not found");
  co_return json_response(http::status::ok, organization_network_body(*st));
}

// {defaults, limit}: both replaced (absent or null: none). A new limit reaches every sandbox of
// the organization that is not deleted, each as its own policy change (reason "organization limit").
asio::awaitable<Response> set_organization_network(Services& s, Call& call) {
  auto org = OrganizationId::parse(call.path.at("organizationId"));
  if (!org) co_return error_response(http::status::not_found, "organization not found");
  boost::system::error_code ec;
  const auto body = json::parse(call.request.body(), ec);
  if (ec || !body.is_object()) co_return error_response(http::status::bad_request, "body must be a JSON object {defaults, limit}");
  organization::SetNetwork command;
  for (const auto& [k, v] : body.as_object()) {
    if (k != "defaults" && k != "limit") {
      co_return error_response(http::status::bad_request, std::string(k) + " is not a field; give defaults and limit");
    }
    if (v.is_null()) continue;
    auto p = parse_policy_body(v, k);
    if (!p) co_return error_for(p.error());
    (k == "defaults" ? command.defaults : command.limit) = *p;
  }
  call.organization_id = org->str();
  auto position = co_await s.db.run([&](DbContext& db) { return organization_command(db, call, *org, command); });
  if (!position) co_return error_for(position.error());
  // Every sandbox created before the change is in the listing below; one created after it reads
  // the new limit itself, and a runner's target carries the organization's limit of the moment.
  const auto head = co_await s.db.run([](DbContext& db) { return log_head(db); });
  co_await wait_for_projection(s, "sandboxes", head);
  auto done = co_await s.db.run([&](DbContext& db) -> Result<organization::State> {
    std::vector<std::string> ids;
    {
      pqxx::nontransaction tx(db.conn);
      for (const auto& row : tx.exec_params("select id::text from sandboxes where organization_id = $1 and "
                                            "desired_state <> 'destroyed' and state <> 'destroyed'", org->str())) {
        ids.push_back(row[0].as<std::string>());
      }
    }
    for (const auto& id : ids) {
      auto sid = SandboxId::parse(id);
      if (!sid) continue;
      auto changed = execute_sandbox(db, *sid, metadata_for(call), [&](const sandbox::State& st) -> Result<sandbox::Events> {
        if (st.desired == DesiredState::destroyed) return sandbox::Events{};
        return sandbox::decide(sandbox::SetNetwork{st.network, command.limit, std::nullopt, "organization limit"}, st);
      });
      if (!changed) return changed.error();
    }
    return load_organization(db, *org);
  });
  if (!done) co_return error_for(done.error());
  co_return json_response(http::status::ok, organization_network_body(*done));
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
  r.add({V::get, "/api/admin/organizations/{organizationId}/network",
         "The organization's egress defaults and limit (admin)", false,
         [&s](Call& c) { return get_organization_network(s, c); }, LimitClass::admin})
      .answers<dto::OrganizationNetwork>();
  r.add({V::put, "/api/admin/organizations/{organizationId}/network",
         "Set the organization's egress defaults and limit; the limit reaches its running sandboxes (admin)", false,
         [&s](Call& c) { return set_organization_network(s, c); }, LimitClass::admin})
      .takes<dto::OrganizationNetwork>()
      .answers<dto::OrganizationNetwork>();
}

}  // namespace command_service
