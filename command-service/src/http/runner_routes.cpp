// Runner registration and lifecycle (admin key): what runner-worker calls to join, heartbeat,
// drain and leave, and the list of sandboxes the log assigns to a runner (its reconciliation).
#include "command_service/http/api.hpp"
#include "command_service/app/runner_targets.hpp"
#include "command_service/http/route_support.hpp"
#include "events/wire/runner_target.hpp"
#include "command_service/http/sandbox_view.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/runner.hpp"
#include "command_service/http/dto.hpp"
#include "projector/queries/runners.hpp"

#include <pqxx/pqxx>

namespace command_service {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace events;

namespace {

Result<std::int64_t> runner_command(DbContext& db, const Call& call, const RunnerId& id, const runner::Command& c) {
  auto executed = execute<RunnerEvent, runner::State>(
      db.store, StreamName::of("runner", id), metadata_for(call),
      [&](const runner::State& st) -> Result<runner::Events> {
        if (!st.exists && !std::holds_alternative<runner::Register>(c)) {
          return make_error(ErrorCode::not_found, "runner " + id.str() + " is not registered");
        }
        return runner::decide(c, st);
      },
      [](runner::State st, const RunnerEvent& e) { return runner::evolve(std::move(st), e); });
  if (!executed) return executed.error();
  return executed->appended ? executed->appended->last.value() : std::int64_t{0};
}

// Reads a JSON object body, naming what is wrong.
Result<json::object> object_body(const Request& req, bool may_be_empty) {
  if (req.body().empty() && may_be_empty) return json::object{};
  boost::system::error_code ec;
  auto v = json::parse(req.body(), ec);
  if (ec) return make_error(ErrorCode::invalid_argument, "body is not valid JSON: " + ec.message());
  if (!v.is_object()) return make_error(ErrorCode::invalid_argument, "body must be a JSON object");
  return std::move(v.as_object());
}

Result<std::string> string_field(const json::object& o, const char* name, bool required) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) return make_error(ErrorCode::invalid_argument, std::string(name) + " is required");
    return std::string();
  }
  if (!v->is_string()) return make_error(ErrorCode::invalid_argument, std::string(name) + " must be a string");
  return std::string(v->as_string());
}

Result<double> number_field(const json::object& o, const char* path, const char* name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr) return make_error(ErrorCode::invalid_argument, std::string(path) + "." + name + " is required");
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_double()) return v->as_double();
  return make_error(ErrorCode::invalid_argument, std::string(path) + "." + name + " must be a number");
}

Result<const json::object*> object_field(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_object()) {
    return make_error(ErrorCode::invalid_argument, std::string(name) + " must be an object");
  }
  return &v->as_object();
}

Result<RunnerRegistered> parse_registration(const Request& req) {
  auto body = object_body(req, false);
  if (!body) return body.error();
  RunnerRegistered r;
  auto id = string_field(*body, "id", false);
  if (!id) return id.error();
  if (id->empty()) {
    r.runner_id = RunnerId::generate();
  } else if (auto parsed = RunnerId::parse(*id)) {
    r.runner_id = *parsed;
  } else {
    return make_error(ErrorCode::invalid_argument, "id '" + *id + "' is not a UUID");
  }
  auto region = string_field(*body, "region", true);
  if (!region) return region.error();
  auto endpoint = string_field(*body, "endpoint", true);
  if (!endpoint) return endpoint.error();
  r.region = *region;
  r.endpoint = *endpoint;
  auto capacity = object_field(*body, "capacity");
  if (!capacity) return capacity.error();
  int* fields[] = {&r.capacity.cpu, &r.capacity.memory_gib, &r.capacity.disk_gib, &r.capacity.max_sandboxes};
  const char* names[] = {"cpu", "memory_gib", "disk_gib", "max_sandboxes"};
  for (int i = 0; i < 4; ++i) {
    auto n = number_field(**capacity, "capacity", names[i]);
    if (!n) return n.error();
    if (*n != static_cast<int>(*n)) {
      return make_error(ErrorCode::invalid_argument, std::string("capacity.") + names[i] + " must be a whole number");
    }
    *fields[i] = static_cast<int>(*n);
  }
  return r;
}

Result<RunnerLoad> parse_load(const Request& req) {
  auto body = object_body(req, false);
  if (!body) return body.error();
  auto load = object_field(*body, "load");
  if (!load) return load.error();
  RunnerLoad l;
  auto sandboxes = number_field(**load, "load", "sandboxes");
  auto cpu = number_field(**load, "load", "cpu_used");
  auto memory = number_field(**load, "load", "memory_used_gib");
  auto disk = number_field(**load, "load", "disk_used_gib");
  for (const auto* r : {&sandboxes, &cpu, &memory, &disk}) {
    if (!*r) return r->error();
  }
  l.sandboxes = static_cast<int>(*sandboxes);
  l.cpu_used = *cpu;
  l.memory_used_gib = *memory;
  l.disk_used_gib = *disk;
  return l;
}

json::object runner_dto(const projector::queries::RunnerRow& r) {
  const dto::Runner out{r.id,
                        r.region,
                        r.endpoint,
                        r.state,
                        {r.cpu, r.memory_gib, r.disk_gib, r.max_sandboxes},
                        r.reported_sandboxes,
                        r.assigned_sandboxes,
                        r.last_heartbeat_at};
  return events::http::to_object(out);
}

// Runs a runner command as the admin and answers with the runner's row once projected.
// (The command by reference: g++ 12 destroys by-value coroutine arguments made inside a co_await twice.)
asio::awaitable<Response> run_and_show(Services& s, Call& call, const RunnerId& id, const runner::Command& c) {
  auto position = co_await s.db.run([&](DbContext& db) { return runner_command(db, call, id, c); });
  if (!position) co_return error_for(position.error());
  co_await wait_for_projection(s, "runners", *position);
  auto row = co_await s.db.run([&](DbContext& db) -> std::optional<json::object> {
    pqxx::nontransaction tx(db.conn);
    const auto found = projector::queries::runner(tx, id);
    if (!found) return std::nullopt;
    return runner_dto(*found);
  });
  if (!row) co_return error_response(http::status::service_unavailable, "runner not yet projected; retry");
  auto res = json_response(http::status::ok, *row);
  if (*position > 0) res.set("X-Event-Position", std::to_string(*position));
  co_return res;
}

Result<RunnerId> runner_in_path(const Call& call) { return RunnerId::parse(call.path.at("runnerId")); }

Response unknown_runner(const Call& call) {
  return error_response(http::status::not_found, "runner " + call.path.at("runnerId") + " is not registered");
}

asio::awaitable<Response> register_runner(Services& s, Call& call) {
  auto registration = parse_registration(call.request);
  if (!registration) co_return error_for(registration.error());
  const auto id = registration->runner_id;
  const runner::Command command = runner::Register{*registration};
  co_return co_await run_and_show(s, call, id, command);
}

asio::awaitable<Response> heartbeat(Services& s, Call& call) {
  const auto id = runner_in_path(call);
  if (!id) co_return unknown_runner(call);
  auto load = parse_load(call.request);
  if (!load) co_return error_for(load.error());
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.clock().time_since_epoch()).count();
  const runner::Command command = runner::Heartbeat{now_ms, *load};
  co_return co_await run_and_show(s, call, *id, command);
}

asio::awaitable<Response> simple(Services& s, Call& call, runner::Command c) {
  const auto id = runner_in_path(call);
  if (!id) co_return unknown_runner(call);
  co_return co_await run_and_show(s, call, *id, c);
}

asio::awaitable<Response> cordon(Services& s, Call& call) {
  auto body = object_body(call.request, true);
  if (!body) co_return error_for(body.error());
  auto reason = string_field(*body, "reason", false);
  if (!reason) co_return error_for(reason.error());
  const auto id = runner_in_path(call);
  if (!id) co_return unknown_runner(call);
  const runner::Command command = runner::Cordon{reason->empty() ? "operator" : *reason};
  co_return co_await run_and_show(s, call, *id, command);
}

asio::awaitable<Response> list_runners(Services& s, Call&) {
  const auto head = co_await s.db.run([](DbContext& db) { return log_head(db); });
  co_await wait_for_projection(s, "runners", head);
  auto items = co_await s.db.run([](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    json::array out;
    for (const auto& r : projector::queries::runners(tx)) out.push_back(runner_dto(r));
    return out;
  });
  co_return json_response(http::status::ok, json::object{{"items", std::move(items)}});
}

// What the log says this runner should host: every sandbox assigned to it and not destroyed,
// with desired and actual state (the runner reconciles its disk against this).
asio::awaitable<Response> runner_sandboxes(Services& s, Call& call) {
  const auto id = runner_in_path(call);
  if (!id) co_return unknown_runner(call);
  const auto head = co_await s.db.run([](DbContext& db) { return log_head(db); });
  co_await wait_for_projection(s, "sandboxes", head);
  auto items = co_await s.db.run([&](DbContext& db) {
    std::vector<SandboxView> rows;
    {
      pqxx::nontransaction tx(db.conn);
      rows = projector::queries::sandboxes_on_runner(tx, *id);
    }
    json::array out;
    for (const auto& r : rows) out.push_back(json::value_from(runner_target(db, r.state)));
    return out;
  });
  co_return json_response(http::status::ok, json::object{{"items", std::move(items)}});
}

// One of them, as of the sandbox's last event; 404 when it is not (or no longer) this runner's.
// From the stream (the aggregate cache and the events since), not the read model: a runner
// learning of a create or a claim does not wait for the projection to show it.
asio::awaitable<Response> runner_sandbox(Services& s, Call& call) {
  const auto id = runner_in_path(call);
  const auto sandbox = SandboxId::parse(call.path.at("sandboxId"));
  if (!id || !sandbox) co_return error_response(http::status::not_found, "no such sandbox on this runner");
  auto dto = co_await s.db.run([&](DbContext& db) -> std::optional<json::object> {
    auto st = sandbox_for(db, call, sandbox->str(), access::Action::read);
    if (!st || st->runner != *id) return std::nullopt;
    return json::value_from(runner_target(db, *st)).as_object();
  });
  if (!dto) co_return error_response(http::status::not_found, "sandbox " + sandbox->str() + " is not on runner " + id->str());
  co_return json_response(http::status::ok, *dto);
}

}  // namespace

void register_runner_routes(Router& r, Services& s) {
  using V = http::verb;
  const std::string one = "/api/runners/{runnerId}";
  r.add({V::post, "/api/runners", "Register a runner (admin; re-registering after a restart is normal)", false,
         [&s](Call& c) { return register_runner(s, c); }, LimitClass::admin})
      .answers<dto::Runner>();
  r.add({V::get, "/api/runners", "List runners with capacity, load and last heartbeat (admin)", false,
         [&s](Call& c) { return list_runners(s, c); }, LimitClass::admin})
      .answers<dto::RunnerList>();
  r.add({V::post, one + "/heartbeat", "Runner heartbeat with its load (admin)", false,
         [&s](Call& c) { return heartbeat(s, c); }, LimitClass::admin})
      .answers<dto::Runner>();
  r.add({V::post, one + "/drain", "Runner drains: takes no new sandboxes (admin)", false,
         [&s](Call& c) { return simple(s, c, runner::Drain{}); }, LimitClass::admin})
      .answers<dto::Runner>();
  r.add({V::post, one + "/cordon", "Cordon a runner (admin)", false, [&s](Call& c) { return cordon(s, c); }, LimitClass::admin})
      .answers<dto::Runner>();
  r.add({V::post, one + "/uncordon", "Return a cordoned runner to service (admin)", false,
         [&s](Call& c) { return simple(s, c, runner::Uncordon{}); }, LimitClass::admin})
      .answers<dto::Runner>();
  r.add({V::delete_, one, "Remove a runner (admin)", false, [&s](Call& c) { return simple(s, c, runner::Remove{}); }, LimitClass::admin})
      .answers<dto::Runner>();
  r.add({V::get, one + "/sandboxes", "Sandboxes the log assigns to this runner, desired and actual state (admin)",
         false, [&s](Call& c) { return runner_sandboxes(s, c); }, LimitClass::admin})
      .answers<events::wire::RunnerTargets>();
  r.add({V::get, one + "/sandboxes/{sandboxId}", "One sandbox of this runner as the log has it (admin)", false,
         [&s](Call& c) { return runner_sandbox(s, c); }, LimitClass::admin})
      .answers<events::wire::RunnerTarget>();
}

}  // namespace command_service
