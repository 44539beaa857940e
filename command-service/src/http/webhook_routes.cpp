// Webhook management: the subset of Svix's REST API the official `svix` client uses for
// applications (one per organization, its id the organization's), endpoints and their secrets,
// and recover; and Daytona's /api/webhooks/organizations/{organizationId}/... routes. An API key
// sees only its own organization's application: any other is 404. Endpoints are an aggregate
// (events/deciders/webhook.hpp); what is delivered and how is the delivery process's.
#include "command_service/http/api.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/http/webhook_dto.hpp"
#include "events/deciders/webhook.hpp"
#include "events/webhooks/signing.hpp"
#include "events/webhooks/targets.hpp"
#include "projector/queries/organizations_audit.hpp"
#include "projector/queries/webhook_deliveries.hpp"
#include "projector/queries/webhooks.hpp"

#include <pqxx/pqxx>

#include <charconv>

namespace command_service {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace events;
namespace queries = projector::queries;

namespace {

constexpr const char* kModel = "webhook_endpoints";

Error app_not_found(const std::string& app) { return make_error(ErrorCode::not_found, "Application " + app + " not found"); }
Error endpoint_not_found(const std::string& id) {
  return make_error(ErrorCode::not_found, "Endpoint " + id + " not found");
}

// The application (or, on Daytona's routes, the organization) in the path is the caller's own
// organization, and the caller may do `action` on its webhooks: the one authorization check
// (events/access.hpp). Anything else answers as a missing application does.
std::optional<Error> own_app(const Call& call, access::Action action, const std::string& param = "app_id") {
  const auto& app = call.path.at(param);
  const auto org = OrganizationId::parse(app);
  if (!org || app != call.organization_id || !may(call, action, access::owned(access::Kind::webhook, *org))) {
    return param == "app_id" ? app_not_found(app) : make_error(ErrorCode::not_found, "Organization " + app + " not found");
  }
  return std::nullopt;
}

dto::SvixEndpoint endpoint_dto(const queries::WebhookEndpointRow& r) {
  dto::SvixEndpoint out;
  out.id = r.id;
  out.url = r.url;
  out.description = r.description;
  if (r.filter_types) {
    out.filterTypes = *r.filter_types;
    out.eventTypes = *r.filter_types;
  }
  out.disabled = r.disabled;
  if (r.uid) out.uid = *r.uid;
  const auto metadata = json::parse(r.metadata_json);
  for (const auto& [k, v] : metadata.as_object()) out.metadata[k] = std::string(v.as_string());
  out.createdAt = r.created_at;
  out.updatedAt = r.updated_at;
  return out;
}

// One of Svix's pages: `rows` holds up to limit + 1 rows, the extra one saying there are more;
// the iterator is the last row's key.
template <class List, class Rows, class ToDto, class KeyOf>
Response page(Rows rows, int limit, ToDto to_dto, KeyOf key_of) {
  List out;
  out.done = static_cast<int>(rows.size()) <= limit;
  if (!out.done) rows.pop_back();
  for (const auto& r : rows) out.data.push_back(to_dto(r));
  if (!rows.empty()) out.iterator = key_of(rows.back());
  return json_response(http::status::ok, events::http::to_json(out));
}

// ---- reading an EndpointIn / EndpointUpdate / EndpointPatch body ----

Result<json::object> body_object(const Call& call) {
  boost::system::error_code ec;
  auto v = json::parse(call.request.body(), ec);
  if (ec || !v.is_object()) return make_error(ErrorCode::invalid_argument, "the body must be a JSON object");
  return std::move(v.as_object());
}

Result<std::optional<std::string>> optional_string(const json::object& o, std::string_view field) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::optional<std::string>{};
  if (!v->is_string()) return make_error(ErrorCode::invalid_argument, std::string(field) + " must be a string");
  return std::optional<std::string>{std::string(v->as_string())};
}

// filterTypes, or eventTypes (the svix 2.x client's name): an array of strings, or null for all.
Result<std::optional<std::optional<std::vector<std::string>>>> types_field(const json::object& o) {
  const json::value* v = o.if_contains("filterTypes");
  if (v == nullptr) v = o.if_contains("eventTypes");
  if (v == nullptr) return std::optional<std::optional<std::vector<std::string>>>{};  // not given
  if (v->is_null()) return std::optional<std::optional<std::vector<std::string>>>{std::optional<std::vector<std::string>>{}};
  if (!v->is_array()) return make_error(ErrorCode::invalid_argument, "filterTypes must be an array of event types");
  std::vector<std::string> types;
  for (const auto& t : v->as_array()) {
    if (!t.is_string()) return make_error(ErrorCode::invalid_argument, "filterTypes must be an array of event types");
    types.emplace_back(t.as_string());
  }
  return std::optional<std::optional<std::vector<std::string>>>{std::optional<std::vector<std::string>>{std::move(types)}};
}

// Applies the fields present in `o` to `spec`; `full` (POST, PUT): url is required.
Result<void> apply_fields(const json::object& o, WebhookEndpointUpdated& spec, bool full,
                          const webhooks::TargetPolicy& policy) {
  auto url = optional_string(o, "url");
  if (!url) return url.error();
  if (*url) {
    if (auto target = webhooks::parse_target(**url, policy); !target) return target.error();
    spec.url = **url;
  } else if (full) {
    return make_error(ErrorCode::invalid_argument, "url is required");
  }
  auto description = optional_string(o, "description");
  if (!description) return description.error();
  if (*description) spec.description = **description;
  auto types = types_field(o);
  if (!types) return types.error();
  if (*types) spec.filter_types = **types;
  if (const auto* d = o.if_contains("disabled"); d != nullptr && !d->is_null()) {
    if (!d->is_bool()) return make_error(ErrorCode::invalid_argument, "disabled must be true or false");
    spec.disabled = d->as_bool();
  }
  if (o.contains("uid")) {
    auto uid = optional_string(o, "uid");
    if (!uid) return uid.error();
    spec.uid = *uid;
  }
  if (const auto* m = o.if_contains("metadata"); m != nullptr && !m->is_null()) {
    if (!m->is_object()) return make_error(ErrorCode::invalid_argument, "metadata must be an object of strings");
    spec.metadata.clear();
    for (const auto& [k, v] : m->as_object()) {
      if (!v.is_string()) return make_error(ErrorCode::invalid_argument, "metadata." + std::string(k) + " must be a string");
      spec.metadata[std::string(k)] = std::string(v.as_string());
    }
  }
  return {};
}

template <class Command>
Result<std::int64_t> endpoint_command(DbContext& db, const Call& call, const WebhookEndpointId& id, const Command& c) {
  auto executed = execute<WebhookEndpointEvent, webhook::State>(
      db.store, StreamName::of("webhookendpoint", id), metadata_for(call),
      [&](const webhook::State& s) -> Result<webhook::Events> {
        constexpr bool creates = std::is_same_v<Command, webhook::Create>;
        if (!creates && s.exists &&
            !may(call, access::Action::change, access::owned(access::Kind::webhook, s.organization_id))) {
          return endpoint_not_found(id.str());
        }
        return webhook::decide(c, s);
      },
      [](webhook::State s, const WebhookEndpointEvent& e) { return webhook::evolve(std::move(s), e); });
  if (!executed) return executed.error();
  return executed->appended ? executed->appended->last.value() : std::int64_t{0};
}

Result<queries::WebhookEndpointRow> find_endpoint(DbContext& db, const Call& call) {
  pqxx::nontransaction tx(db.conn);
  const auto& key = call.path.at("endpoint_id");
  auto row = queries::webhook_endpoint(tx, call.organization_id, key);
  if (!row) return endpoint_not_found(key);
  return std::move(*row);
}

// The endpoint named in the path (by id or uid) as the read model has it once it has caught up
// with the endpoint's stream.
asio::awaitable<Result<queries::WebhookEndpointRow>> current_endpoint(Services& s, const Call& call) {
  auto found = co_await s.db.run([&](DbContext& db) { return find_endpoint(db, call); });
  if (!found) co_return found;
  const auto last = co_await s.db.run([&](DbContext& db) { return last_position_of(db, "webhookendpoint-" + found->id); });
  co_await wait_for_projection(s, kModel, last);
  co_return co_await s.db.run([&](DbContext& db) { return find_endpoint(db, call); });
}

asio::awaitable<Response> answer_endpoint(Services& s, const Call& call, const std::string& id, std::int64_t position,
                                          http::status status) {
  co_await wait_for_projection(s, kModel, position);
  auto row = co_await s.db.run([&](DbContext& db) -> Result<queries::WebhookEndpointRow> {
    pqxx::nontransaction tx(db.conn);
    auto r = queries::webhook_endpoint(tx, call.organization_id, id);
    if (!r) return endpoint_not_found(id);
    return std::move(*r);
  });
  if (!row) co_return error_for(row.error());
  co_return json_response(status, events::http::to_json(endpoint_dto(*row)));
}

// ---- applications ----

asio::awaitable<Response> application(Services& s, const std::string& id) {
  auto org = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    return queries::organization(tx, id);
  });
  if (!org) co_return error_for(app_not_found(id));
  dto::SvixApplication app{org->id, org->id, org->name, {}, {}, {}, org->created_at, org->created_at};
  co_return json_response(http::status::ok, events::http::to_json(app));
}

asio::awaitable<Response> get_application(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::read)) co_return error_for(*bad);
  co_return co_await application(s, call.organization_id);
}

// Creating an application gives the organization's own (it always exists).
asio::awaitable<Response> create_application(Services& s, Call& call) {
  auto body = body_object(call);
  if (!body) co_return error_for(body.error());
  co_return co_await application(s, call.organization_id);
}

// ---- endpoints ----

std::optional<int> limit_of(const Call& call);

asio::awaitable<Response> list_endpoints(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::read)) co_return error_for(*bad);
  const auto found = limit_of(call);
  if (!found) co_return error_response(http::status::bad_request, "limit must be 1 to 250");
  const int limit = *found;
  const auto after = call.query_one("iterator").value_or("");
  const auto head = co_await s.db.run([](DbContext& db) { return log_head(db); });
  co_await wait_for_projection(s, kModel, head);
  auto rows = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    return queries::webhook_endpoints(tx, call.organization_id, after, limit + 1);
  });
  co_return page<dto::SvixEndpointList>(std::move(rows), limit, endpoint_dto, [](const auto& r) { return r.id; });
}

// A new endpoint from an EndpointIn body; `uid` (an upsert's path) when the body names none.
asio::awaitable<Response> make_endpoint(Services& s, Call& call, const json::object& body,
                                        std::optional<std::string> uid) {
  WebhookEndpointUpdated spec;
  spec.uid = std::move(uid);
  if (auto ok = apply_fields(body, spec, true, s.settings.webhook_targets); !ok) co_return error_for(ok.error());
  auto secret = optional_string(body, "secret");
  if (!secret) co_return error_for(secret.error());
  const auto id = WebhookEndpointId::generate();
  WebhookEndpointCreated created{id, OrganizationId{call.organization_id}, spec.url, spec.description,
                                 spec.filter_types, spec.disabled, secret->value_or(webhooks::new_secret()),
                                 spec.uid, spec.metadata};
  auto position = co_await s.db.run([&](DbContext& db) -> Result<std::int64_t> {
    if (created.uid) {
      pqxx::nontransaction tx(db.conn);
      if (queries::webhook_endpoint(tx, call.organization_id, *created.uid)) {
        return make_error(ErrorCode::already_exists, "an endpoint with uid '" + *created.uid + "' already exists");
      }
    }
    return endpoint_command(db, call, id, webhook::Create{created});
  });
  if (!position) co_return error_for(position.error());
  co_return co_await answer_endpoint(s, call, id.str(), *position, http::status::created);
}

asio::awaitable<Response> create_endpoint(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::create)) co_return error_for(*bad);
  auto body = body_object(call);
  if (!body) co_return error_for(body.error());
  co_return co_await make_endpoint(s, call, *body, std::nullopt);
}

asio::awaitable<Response> get_endpoint(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::read)) co_return error_for(*bad);
  auto row = co_await current_endpoint(s, call);
  if (!row) co_return error_for(row.error());
  co_return json_response(http::status::ok, events::http::to_json(endpoint_dto(*row)));
}

// PUT (Svix's upsert: the whole endpoint, made under the path's uid when there is none) and
// PATCH (only the fields given).
asio::awaitable<Response> update_endpoint(Services& s, Call& call, bool full) {
  if (auto bad = own_app(call, access::Action::change)) co_return error_for(*bad);
  auto body = body_object(call);
  if (!body) co_return error_for(body.error());
  auto row = co_await current_endpoint(s, call);
  if (!row && full && row.error().code == ErrorCode::not_found && !WebhookEndpointId::parse(call.path.at("endpoint_id"))) {
    co_return co_await make_endpoint(s, call, *body, call.path.at("endpoint_id"));
  }
  if (!row) co_return error_for(row.error());
  WebhookEndpointUpdated spec{row->url, row->description, row->filter_types, row->disabled, row->uid, {}};
  const auto metadata = json::parse(row->metadata_json);
  for (const auto& [k, v] : metadata.as_object()) spec.metadata[k] = std::string(v.as_string());
  if (full) spec = WebhookEndpointUpdated{};
  if (auto ok = apply_fields(*body, spec, full, s.settings.webhook_targets); !ok) co_return error_for(ok.error());
  const auto id = WebhookEndpointId{row->id};
  auto position = co_await s.db.run([&](DbContext& db) { return endpoint_command(db, call, id, webhook::Update{spec}); });
  if (!position) co_return error_for(position.error());
  co_return co_await answer_endpoint(s, call, row->id, *position, http::status::ok);
}

asio::awaitable<Response> delete_endpoint(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::remove)) co_return error_for(*bad);
  auto row = co_await current_endpoint(s, call);
  if (!row) co_return error_for(row.error());
  auto position =
      co_await s.db.run([&](DbContext& db) { return endpoint_command(db, call, WebhookEndpointId{row->id}, webhook::Delete{}); });
  if (!position) co_return error_for(position.error());
  co_await wait_for_projection(s, kModel, *position);
  co_return Response{http::status::no_content, 11};
}

asio::awaitable<Response> get_secret(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::read)) co_return error_for(*bad);
  auto row = co_await current_endpoint(s, call);
  if (!row) co_return error_for(row.error());
  co_return json_response(http::status::ok, events::http::to_json(dto::SvixSecret{row->secret}));
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

asio::awaitable<Response> rotate_secret(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::change)) co_return error_for(*bad);
  std::optional<std::string> key;
  if (!call.request.body().empty()) {
    auto body = body_object(call);
    if (!body) co_return error_for(body.error());
    auto given = optional_string(*body, "key");
    if (!given) co_return error_for(given.error());
    key = *given;
  }
  auto row = co_await current_endpoint(s, call);
  if (!row) co_return error_for(row.error());
  const webhook::RotateSecret rotate{key.value_or(webhooks::new_secret()), now_ms()};
  auto position =
      co_await s.db.run([&](DbContext& db) { return endpoint_command(db, call, WebhookEndpointId{row->id}, rotate); });
  if (!position) co_return error_for(position.error());
  co_await wait_for_projection(s, kModel, *position);
  co_return Response{http::status::no_content, 11};
}

// "2026-12-01T10:00:00Z" (or with a fraction and/or an offset) → Unix milliseconds.
std::optional<std::int64_t> parse_time(const json::value* v) {
  if (v == nullptr || !v->is_string()) return std::nullopt;
  std::tm tm{};
  const std::string text(v->as_string());
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  std::int64_t ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  if (*end == '.') {
    int digits = 0;
    int fraction = 0;
    for (++end; *end >= '0' && *end <= '9'; ++end) {
      if (digits < 3) fraction = fraction * 10 + (*end - '0'), ++digits;
    }
    while (digits < 3) fraction *= 10, ++digits;
    ms += fraction;
  }
  if (*end == 'Z' && end[1] == '\0') return ms;
  if ((*end == '+' || *end == '-') && std::strlen(end) == 6 && end[3] == ':') {
    const int sign = *end == '-' ? -1 : 1;
    const int minutes = std::atoi(std::string(end + 1, 2).c_str()) * 60 + std::atoi(end + 4);
    return ms - sign * static_cast<std::int64_t>(minutes) * 60 * 1000;
  }
  return std::nullopt;
}

asio::awaitable<Response> recover_endpoint(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::change)) co_return error_for(*bad);
  auto body = body_object(call);
  if (!body) co_return error_for(body.error());
  const auto since = parse_time(body->if_contains("since"));
  if (!since) co_return error_response(http::status::bad_request, "since must be a date-time (RFC 3339)");
  std::optional<std::int64_t> until;
  if (const auto* u = body->if_contains("until"); u != nullptr && !u->is_null()) {
    until = parse_time(u);
    if (!until) co_return error_response(http::status::bad_request, "until must be a date-time (RFC 3339)");
  }
  auto row = co_await current_endpoint(s, call);
  if (!row) co_return error_for(row.error());
  const webhook::Recover recover{*since, until, now_ms()};
  auto position =
      co_await s.db.run([&](DbContext& db) { return endpoint_command(db, call, WebhookEndpointId{row->id}, recover); });
  if (!position) co_return error_for(position.error());
  const dto::SvixRecover out{"rtask_" + std::to_string(*position), "running", "endpoint.recover", now_iso()};
  co_return json_response(http::status::accepted, events::http::to_json(out));
}

// ---- messages and attempts (webhook-delivery's record) ----

std::optional<int> limit_of(const Call& call) {
  int limit = 50;
  if (auto l = call.query_one("limit")) {
    const auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
    if (ec != std::errc() || end != l->data() + l->size() || limit < 1 || limit > 250) return std::nullopt;
  }
  return limit;
}

dto::SvixMessage message_dto(const queries::WebhookMessageRow& m) {
  return dto::SvixMessage{m.id, m.event_type, json::parse(m.payload), {}, {}, {}, m.created_at};
}

dto::SvixAttempt attempt_dto(const queries::WebhookAttemptRow& a) {
  const bool ok = a.outcome == "delivered";
  return dto::SvixAttempt{"atmpt_" + std::to_string(a.id), a.message_id, a.endpoint_id, a.url, a.response,
                          a.response_status, a.duration_ms, ok ? 0 : 2, ok ? "success" : "fail",
                          a.trigger == "manual" ? 1 : 0, a.at};
}

asio::awaitable<Response> list_messages(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::read)) co_return error_for(*bad);
  const auto limit = limit_of(call);
  if (!limit) co_return error_response(http::status::bad_request, "limit must be 1 to 250");
  auto rows = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    return queries::webhook_messages(tx, call.organization_id, call.query_one("iterator").value_or(""), *limit + 1);
  });
  co_return page<dto::SvixMessageList>(std::move(rows), *limit, message_dto, [](const auto& m) { return m.id; });
}

// Svix's message.create, for the platform's admin key only (an admin route: a test send; the
// platform sends its own events itself, and an organization's key is refused): appended to the organization's stream, then delivered by webhook-delivery
// from the log to the endpoints that take its type, like a public event.
asio::awaitable<Response> send_message(Services& s, Call& call) {
  const auto& app = call.path.at("app_id");
  const auto org = OrganizationId::parse(app);
  if (!org || !may(call, access::Action::operate, access::owned(access::Kind::webhook, *org))) {
    co_return error_for(app_not_found(app));
  }
  auto body = body_object(call);
  if (!body) co_return error_for(body.error());
  const auto* type = body->if_contains("eventType");
  if (type == nullptr || !type->is_string()) co_return error_response(http::status::bad_request, "eventType is required");
  const auto* payload = body->if_contains("payload");
  if (payload == nullptr || !payload->is_object()) {
    co_return error_response(http::status::bad_request, "payload is required and must be a JSON object");
  }
  auto event_id = optional_string(*body, "eventId");
  if (!event_id) co_return error_for(event_id.error());
  organization::SendWebhookMessage send{std::string(type->as_string()), json::serialize(*payload), *event_id};
  auto position = co_await s.db.run([&](DbContext& db) { return organization_command(db, call, *org, send); });
  if (!position) {
    co_return error_for(position.error().code == ErrorCode::not_found ? app_not_found(app) : position.error());
  }
  dto::SvixMessage out{"msg_" + std::to_string(*position) + "_0", send.event_type, *payload, {}, {}, {}, now_iso()};
  if (send.event_id) out.eventId = *send.event_id;
  co_return json_response(http::status::accepted, events::http::to_json(out));
}

// The organization's message named in the path.
asio::awaitable<Result<queries::WebhookMessageRow>> find_message(Services& s, const Call& call) {
  auto row = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    return queries::webhook_message(tx, call.organization_id, call.path.at("msg_id"));
  });
  if (!row) co_return make_error(ErrorCode::not_found, "Message " + call.path.at("msg_id") + " not found");
  co_return std::move(*row);
}

asio::awaitable<Response> get_message(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::read)) co_return error_for(*bad);
  auto row = co_await find_message(s, call);
  if (!row) co_return error_for(row.error());
  co_return json_response(http::status::ok, events::http::to_json(message_dto(*row)));
}

// Attempts of one endpoint (`of_endpoint`) or of one message, newest first.
asio::awaitable<Response> list_attempts(Services& s, Call& call, bool of_endpoint) {
  if (auto bad = own_app(call, access::Action::read)) co_return error_for(*bad);
  const auto limit = limit_of(call);
  if (!limit) co_return error_response(http::status::bad_request, "limit must be 1 to 250");
  std::int64_t before = 0;
  if (auto it = call.query_one("iterator")) {
    const std::string_view text = std::string_view(*it).substr(it->rfind('_') == std::string::npos ? 0 : it->rfind('_') + 1);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), before);
    if (ec != std::errc() || end != text.data() + text.size()) {
      co_return error_response(http::status::bad_request, "iterator must be an attempt id this list gave");
    }
  }
  std::string key;
  if (of_endpoint) {
    auto row = co_await current_endpoint(s, call);
    if (!row) co_return error_for(row.error());
    key = row->id;
  } else {
    key = call.path.at("msg_id");
  }
  auto rows = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    return of_endpoint ? queries::webhook_attempts_of_endpoint(tx, call.organization_id, key, before, *limit + 1)
                       : queries::webhook_attempts_of_message(tx, call.organization_id, key, before, *limit + 1);
  });
  co_return page<dto::SvixAttemptList>(std::move(rows), *limit, attempt_dto,
                                      [](const auto& a) { return "atmpt_" + std::to_string(a.id); });
}

asio::awaitable<Response> resend(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::change)) co_return error_for(*bad);
  auto message = co_await find_message(s, call);
  if (!message) co_return error_for(message.error());
  auto row = co_await current_endpoint(s, call);
  if (!row) co_return error_for(row.error());
  auto position = co_await s.db.run([&](DbContext& db) {
    return endpoint_command(db, call, WebhookEndpointId{row->id}, webhook::Resend{message->id});
  });
  if (!position) co_return error_for(position.error());
  co_return json_response(http::status::accepted, json::object{});  // Svix's EmptyResponse
}

// ---- Daytona's routes ----

asio::awaitable<Response> initialize(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::create, "organizationId")) co_return error_for(*bad);
  co_return co_await application(s, call.organization_id);
}

asio::awaitable<Response> initialization_status(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::read, "organizationId")) co_return error_for(*bad);
  auto org = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    return queries::organization(tx, call.organization_id);
  });
  if (!org) co_return error_for(make_error(ErrorCode::not_found, "Organization not found"));
  const dto::WebhookInitialization out{org->id, org->id, {}, 0, org->created_at, org->created_at};
  co_return json_response(http::status::ok, events::http::to_json(out));
}

// No hosted portal here: the answer points at the Svix-compatible API itself, with no token of
// its own (the caller's API key is what works there).
asio::awaitable<Response> portal_access(Services&, Call& call) {
  if (auto bad = own_app(call, access::Action::read, "organizationId")) co_return error_for(*bad);
  const dto::WebhookPortalAccess out{"/api/v1/app/" + call.organization_id, ""};
  co_return json_response(http::status::ok, events::http::to_json(out));
}

// Endpoints are read from the log as they change: nothing to refresh; answers the list.
asio::awaitable<Response> refresh_endpoints(Services& s, Call& call) {
  if (auto bad = own_app(call, access::Action::read, "organizationId")) co_return error_for(*bad);
  call.path["app_id"] = call.organization_id;
  co_return co_await list_endpoints(s, call);
}

}  // namespace

void register_webhook_routes(Router& r, Services& s) {
  using V = http::verb;
  const std::string app = "/api/v1/app/{app_id}";
  const std::string endpoint = app + "/endpoint/{endpoint_id}";
  r.add({V::post, "/api/v1/app", "Svix: create (get) the organization's application", true,
         [&s](Call& c) { return create_application(s, c); }})
      .answers<dto::SvixApplication>();
  r.add({V::get, app, "Svix: the organization's application", true, [&s](Call& c) { return get_application(s, c); }})
      .answers<dto::SvixApplication>();
  r.add({V::get, app + "/endpoint", "Svix: list webhook endpoints (?limit=&iterator=)", true,
         [&s](Call& c) { return list_endpoints(s, c); }})
      .answers<dto::SvixEndpointList>();
  r.add({V::post, app + "/endpoint", "Svix: create a webhook endpoint", true,
         [&s](Call& c) { return create_endpoint(s, c); }})
      .answers<dto::SvixEndpoint>(http::status::created);
  r.add({V::get, endpoint, "Svix: a webhook endpoint (by id or uid)", true, [&s](Call& c) { return get_endpoint(s, c); }})
      .answers<dto::SvixEndpoint>();
  r.add({V::put, endpoint, "Svix: replace a webhook endpoint (upsert: made under the path as its uid when missing)", true,
         [&s](Call& c) { return update_endpoint(s, c, true); }})
      .answers<dto::SvixEndpoint>();
  r.add({V::patch, endpoint, "Svix: change some fields of a webhook endpoint", true,
         [&s](Call& c) { return update_endpoint(s, c, false); }})
      .answers<dto::SvixEndpoint>();
  r.add({V::delete_, endpoint, "Svix: delete a webhook endpoint", true, [&s](Call& c) { return delete_endpoint(s, c); }});
  r.add({V::get, endpoint + "/secret", "Svix: a webhook endpoint's signing secret", true,
         [&s](Call& c) { return get_secret(s, c); }})
      .answers<dto::SvixSecret>();
  r.add({V::post, endpoint + "/secret/rotate", "Svix: a new signing secret (the old one signs too for 24 h)", true,
         [&s](Call& c) { return rotate_secret(s, c); }});
  r.add({V::post, endpoint + "/recover", "Svix: deliver again what failed since a time", true,
         [&s](Call& c) { return recover_endpoint(s, c); }})
      .answers<dto::SvixRecover>(http::status::accepted);
  r.add({V::get, app + "/msg", "Svix: the messages sent to the organization's endpoints, newest first", true,
         [&s](Call& c) { return list_messages(s, c); }})
      .answers<dto::SvixMessageList>();
  r.add({V::post, app + "/msg", "Svix: send a message to the organization's endpoints (admin key only: a test send)",
         false, [&s](Call& c) { return send_message(s, c); }, LimitClass::admin})
      .answers<dto::SvixMessage>(http::status::accepted);
  r.add({V::get, app + "/msg/{msg_id}", "Svix: one message", true, [&s](Call& c) { return get_message(s, c); }})
      .answers<dto::SvixMessage>();
  r.add({V::get, app + "/attempt/endpoint/{endpoint_id}", "Svix: delivery attempts to an endpoint, newest first", true,
         [&s](Call& c) { return list_attempts(s, c, true); }})
      .answers<dto::SvixAttemptList>();
  r.add({V::get, app + "/attempt/msg/{msg_id}", "Svix: delivery attempts of a message, newest first", true,
         [&s](Call& c) { return list_attempts(s, c, false); }})
      .answers<dto::SvixAttemptList>();
  r.add({V::post, app + "/msg/{msg_id}/endpoint/{endpoint_id}/resend", "Svix: deliver a message to an endpoint again", true,
         [&s](Call& c) { return resend(s, c); }});
  const std::string org = "/api/webhooks/organizations/{organizationId}";
  r.add({V::post, org + "/initialize", "Daytona: set up the organization's webhooks (its application)", true,
         [&s](Call& c) { return initialize(s, c); }})
      .answers<dto::SvixApplication>();
  r.add({V::get, org + "/initialization-status", "Daytona: whether the organization's webhooks are set up", true,
         [&s](Call& c) { return initialization_status(s, c); }})
      .answers<dto::WebhookInitialization>();
  r.add({V::post, org + "/app-portal-access", "Daytona: where the organization manages its endpoints", true,
         [&s](Call& c) { return portal_access(s, c); }})
      .answers<dto::WebhookPortalAccess>();
  r.add({V::post, org + "/refresh-endpoints", "Daytona: the organization's endpoints", true,
         [&s](Call& c) { return refresh_endpoints(s, c); }})
      .answers<dto::SvixEndpointList>();
}

}  // namespace command_service
