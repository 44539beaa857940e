#include "command_service/http/route_support.hpp"
#include "projector/queries/organizations_audit.hpp"
#include "projector/queries/runners.hpp"
#include "projector/queries/snapshots_volumes.hpp"
#include "events/store/sql.hpp"

#include "events/api_keys.hpp"
#include "events/deciders/organization.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pqxx/pqxx>

namespace command_service {

using events::exec_cached;

namespace asio = boost::asio;
using events::ErrorCode;

std::optional<SnapshotRef> snapshot_for_sandbox(DbContext& db, const std::string& org, const std::string& name) {
  pqxx::nontransaction tx(db.conn);
  const auto image = projector::queries::snapshot_image(tx, org, name);
  if (!image) return std::nullopt;
  return SnapshotRef{image->id, image->state, boost::json::parse(image->layer_digests_json),
                     boost::json::parse(image->entrypoint_json)};
}

// The one place an error becomes an HTTP status: by its category, and within the domain's
// refusals a missing aggregate is 404 and every other refusal 409.
http::status status_for(ErrorCode c) {
  switch (events::category_of(c)) {
    case events::ErrorCategory::request: return http::status::bad_request;
    case events::ErrorCategory::domain:
      return c == ErrorCode::not_found ? http::status::not_found : http::status::conflict;
    case events::ErrorCategory::store: return http::status::conflict;
    case events::ErrorCategory::internal: return http::status::internal_server_error;
    case events::ErrorCategory::dependency: return http::status::service_unavailable;
  }
  return http::status::internal_server_error;
}

Response error_for(const events::Error& e) {
  if (events::category_of(e.code) == events::ErrorCategory::dependency) return unavailable_response(e.message);
  return error_response(status_for(e.code), e.message, std::string(events::to_string(e.code)));
}

std::string now_iso() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char buf[32];
  std::tm utc{};
  gmtime_r(&t, &utc);  // not std::gmtime: its one static result is shared by the API's threads
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[40];
  std::snprintf(out, sizeof out, "%s.%03lldZ", buf, static_cast<long long>(ms));
  return out;
}

std::string request_hash(const Request& req) {
  return events::sha256_hex(std::string(req.method_string()) + " " + std::string(req.target()) + "\n" + req.body());
}

events::Metadata metadata_for(const Call& call) {
  events::Metadata m;
  m.event_id = events::new_uuid();
  auto rid = call.request.find("X-Request-Id");
  m.correlation_id = rid != call.request.end() ? std::string(rid->value()) : events::new_uuid();
  m.actor = call.actor;
  m.organization_id = call.organization_id;
  auto key = call.request.find("Idempotency-Key");
  if (key != call.request.end()) m.idempotency_key = std::string(key->value());
  return m;
}

std::optional<std::pair<std::string, std::string>> idempotency_of(const Call& call) {
  auto key = call.request.find("Idempotency-Key");
  if (key == call.request.end()) return std::nullopt;
  return std::pair{"org/" + call.organization_id + "/" + std::string(key->value()), request_hash(call.request)};
}

asio::awaitable<void> wait_for_projection(Services& s, std::string model, std::int64_t position) {
  if (position <= 0) co_return;
  const auto deadline = std::chrono::steady_clock::now() + s.settings.read_your_writes_wait;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto reached = co_await s.db.run([&model](DbContext& db) -> std::int64_t {
      pqxx::nontransaction tx(db.conn);
      return projector::queries::checkpoint(tx, model);
    });
    if (reached >= position) co_return;
    timer.expires_after(std::chrono::milliseconds(2));
    co_await timer.async_wait(asio::use_awaitable);
  }
}


std::int64_t last_position_of(DbContext& db, const std::string& stream) {
  pqxx::nontransaction tx(db.conn);
  const auto rows = exec_cached(tx, "select position from events where stream = $1 order by version desc limit 1", stream);
  return rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
}

bool may(const Call& call, events::access::Action action, const events::access::Resource& resource) {
  return events::access::authorize(call.caller, action, resource);
}

events::access::Resource resource_of(const events::sandbox::State& sandbox) {
  return events::access::sandbox(sandbox.organization_id, sandbox.runner);
}

events::wire::SandboxPlacement placement_of(const events::sandbox::State& st, std::string runner_endpoint) {
  return {st.id, st.organization_id, st.actual, st.is_public, st.runner, std::move(runner_endpoint)};
}

events::wire::SandboxPlacement placement_of(DbContext& db, const events::sandbox::State& st) {
  std::string endpoint;
  if (st.runner) {
    pqxx::nontransaction tx(db.conn);
    endpoint = projector::queries::runner_endpoint(tx, *st.runner);
  }
  return placement_of(st, std::move(endpoint));
}

events::Error sandbox_not_found(const std::string& id_or_name) {
  return events::make_error(ErrorCode::not_found, "Sandbox with ID or name " + id_or_name + " not found");
}

events::Result<SandboxAggregate> load_sandbox(DbContext& db, const events::SandboxId& id) {
  return events::load<events::SandboxEvent, events::sandbox::State>(
      db.store, events::StreamName::of("sandbox", id),
      [](events::sandbox::State st, const events::SandboxEvent& e) { return events::sandbox::evolve(std::move(st), e); },
      &db.sandboxes);
}

events::Result<events::sandbox::State> sandbox_for(DbContext& db, const Call& call, const std::string& id_or_name,
                                                   events::access::Action action) {
  auto id = resolve_sandbox(db, call.organization_id, id_or_name);
  if (!id) return sandbox_not_found(id_or_name);
  auto loaded = load_sandbox(db, *id);
  if (!loaded) return loaded.error();
  const auto& st = loaded->state;
  if (!st.exists || st.actual == events::SandboxState::destroyed || !may(call, action, resource_of(st))) {
    return sandbox_not_found(id_or_name);
  }
  return st;
}

events::Result<events::Executed> execute_sandbox(DbContext& db, const events::SandboxId& id,
                                                 const events::Metadata& metadata, const SandboxDecide& decide,
                                                 const SandboxAppendOptions& options) {
  auto routed = [](const events::sandbox::State& before, const events::sandbox::State& after) {
    events::AppendOptions o;
    if (auto runner = events::sandbox::routing_runner(before, after)) o.routing_key = runner->str();
    return o;
  };
  return events::execute<events::SandboxEvent, events::sandbox::State>(
      db.store, events::StreamName::of("sandbox", id), metadata, decide,
      [](events::sandbox::State st, const events::SandboxEvent& e) { return events::sandbox::evolve(std::move(st), e); },
      [&](const events::sandbox::State& before, const events::sandbox::State& after) {
        return options ? options(before, after) : routed(before, after);
      },
      5, &db.sandboxes);
}

std::int64_t log_head(DbContext& db) {
  pqxx::nontransaction tx(db.conn);
  return tx.exec("select coalesce(max(position), 0) from events")[0][0].as<std::int64_t>();
}

events::Result<events::organization::State> load_organization(DbContext& db, const events::OrganizationId& org) {
  using namespace events;
  auto loaded = load<OrganizationEvent, organization::State>(
      db.store, StreamName::of("organization", org),
      [](organization::State st, const OrganizationEvent& e) { return organization::evolve(std::move(st), e); });
  if (!loaded) return loaded.error();
  return loaded->state;
}

events::Result<std::int64_t> organization_command(DbContext& db, const Call& call, const events::OrganizationId& org,
                                                  const events::organization::Command& c) {
  using namespace events;
  auto executed = execute<OrganizationEvent, organization::State>(
      db.store, StreamName::of("organization", org), metadata_for(call),
      [&](const organization::State& st) { return organization::decide(c, st); },
      [](organization::State st, const OrganizationEvent& e) { return organization::evolve(std::move(st), e); });
  if (!executed) return executed.error();
  return executed->appended ? executed->appended->last.value() : std::int64_t{0};
}

}  // namespace command_service
