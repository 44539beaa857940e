// Sandbox commands and queries (compat spec §2.1–2.2).
#include "command_service/http/api.hpp"
#include "events/store/sql.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/http/dto.hpp"
#include "command_service/app/sandbox_commands.hpp"
#include "command_service/http/sandbox_request.hpp"
#include "command_service/http/network_request.hpp"
#include "command_service/http/sandbox_view.hpp"
#include "command_service/app/scheduler.hpp"
#include "command_service/app/warm_pools.hpp"
#include "events/api_keys.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/volume.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <pqxx/pqxx>

#include <map>

namespace command_service {

namespace asio = boost::asio;
using namespace events;

// An id, or the sandbox holding that name in the organization. The name's claim stream is
// asked first: it is written with the create, so a read right after a create by name finds it
// even before the projection has the row; the read model answers for names older than claims.
Result<SandboxId> resolve_sandbox(DbContext& db, const std::string& org, const std::string& id_or_name) {
  if (auto id = SandboxId::parse(id_or_name)) return *id;
  if (auto org_id = OrganizationId::parse(org)) {
    auto claims = db.store.read_stream(StreamName::of("sandboxname", sandbox_name_key(*org_id, id_or_name)));
    if (claims && !claims->empty()) {
      auto last = decode<SandboxNameEvent>(claims->back().type, claims->back().schema_version, claims->back().data);
      if (last) return std::get<SandboxNameClaimed>(*last).sandbox_id;
    }
  }
  pqxx::nontransaction tx(db.conn);
  if (auto id = projector::queries::live_sandbox_named(tx, org, id_or_name)) return *id;
  return make_error(ErrorCode::not_found, "Sandbox with ID or name " + id_or_name + " not found");
}


namespace {

Error not_found(const std::string& id_or_name) { return sandbox_not_found(id_or_name); }

using Decide = std::function<Result<sandbox::Events>(const sandbox::State&)>;

// What the caller named the sandbox by: refusals repeat it, so a sandbox of another organization
// and one that does not exist get the same words.
std::string named(const Call& call, const SandboxId& id) {
  auto it = call.path.find("sandboxIdOrName");
  return it != call.path.end() ? it->second : id.str();
}

Result<sandbox::State> state_of_stream(DbContext& db, const std::string& stream) {
  const auto name = StreamName::parse(stream);
  if (!name) return name.error();
  auto id = SandboxId::parse(name->id());
  if (!id) return id.error();
  auto loaded = load_sandbox(db, *id);
  if (!loaded) return loaded.error();
  return loaded->state;
}

// A retried create must not be judged again (its name is taken by its own first try): when the
// key was seen, answer with what the first request made, or 409 for a different request.
std::optional<Result<Outcome>> earlier_result(DbContext& db, const Call& call) {
  const auto idempotency = idempotency_of(call);
  if (!idempotency) return std::nullopt;
  pqxx::result rows;
  {
    pqxx::nontransaction tx(db.conn);
    rows = exec_cached(tx, "select stream, request_hash, last_position from idempotency_keys where key = $1",
                          idempotency->first);
  }
  if (rows.empty()) return std::nullopt;
  if (rows[0][1].as<std::string>() != idempotency->second) {
    return Result<Outcome>(make_error(ErrorCode::idempotency_conflict,
                                      "Idempotency-Key was already used for a different request"));
  }
  auto state = state_of_stream(db, rows[0][0].as<std::string>());
  if (!state) return Result<Outcome>(state.error());
  return outcome_of(db, *state, rows[0][2].as<std::int64_t>());
}

// Runs one sandbox command on its stream (the source of truth) when the caller may `action` the
// sandbox. Events go to the runner that owns the sandbox (routing key), also the one just assigned.
Result<Outcome> command(DbContext& db, const Call& call, const SandboxId& id, access::Action action,
                        const Decide& decide) {
  const auto idempotency = idempotency_of(call);
  sandbox::State final_state;
  auto executed = execute_sandbox(
      db, id, metadata_for(call),
      [&](const sandbox::State& s) -> Result<sandbox::Events> {
        if (!s.exists || !may(call, action, resource_of(s))) return not_found(named(call, id));
        auto events = decide(s);
        if (events) final_state = sandbox::replay_onto(s, *events);
        return events;
      },
      [&](const sandbox::State& before, const sandbox::State& after) {
        AppendOptions o;
        if (auto runner = sandbox::routing_runner(before, after)) o.routing_key = runner->str();
        if (idempotency) {
          o.idempotency_key = idempotency->first;
          o.request_hash = idempotency->second;
        }
        return o;
      });
  if (!executed) return executed.error();
  if (executed->appended && executed->appended->duplicate) {
    // A retried request: answer with the sandbox as the first request left it.
    pqxx::result rows;
    {
      pqxx::nontransaction tx(db.conn);
      rows = exec_cached(tx, "select stream from idempotency_keys where key = $1", idempotency->first);
    }
    auto state = state_of_stream(db, rows.empty() ? StreamName::of("sandbox", id).str() : rows[0][0].as<std::string>());
    if (!state) return state.error();
    final_state = *state;
  }
  return outcome_of(db, final_state, executed->appended ? executed->appended->last.value() : 0);
}

Response outcome_response(const Result<Outcome>& r, const ApiSettings& settings) {
  if (!r) return error_for(r.error());
  auto res = json_response(http::status::ok, sandbox_dto(r->view, settings.proxy_url));
  if (r->position > 0) res.set("X-Event-Position", std::to_string(r->position));
  return res;
}

// Whether the name's last claim still holds: its sandbox exists and is not being deleted.
Result<bool> name_taken(DbContext& db, const std::vector<RecordedEvent>& claims) {
  if (claims.empty()) return false;
  auto last = decode<SandboxNameEvent>(claims.back().type, claims.back().schema_version, claims.back().data);
  if (!last) return last.error();
  const auto& holder = std::get<SandboxNameClaimed>(*last).sandbox_id;
  auto loaded = load_sandbox(db, holder);
  if (!loaded) return loaded.error();
  const auto& st = loaded->state;
  return st.exists && st.desired != DesiredState::destroyed && st.actual != SandboxState::destroyed;
}

}  // namespace

Result<Outcome> outcome_of(DbContext& db, const sandbox::State& final_state, std::int64_t position) {
  Outcome out;
  out.view.state = final_state;
  out.position = position;
  out.view.updated_at = now_iso();
  out.view.region = final_state.region;
  out.view.user = final_state.user;
  const auto id = final_state.id.str();
  if (auto known = db.created_at.find(id)) {
    out.view.created_at = *known;
    return out;
  }
  pqxx::nontransaction tx(db.conn);
  if (auto origin = projector::queries::sandbox_origin(tx, final_state.id)) {
    out.view.created_at = origin->created_at;
    db.created_at.put(id, origin->created_at);
  } else {
    out.view.created_at = out.view.updated_at;  // not projected yet: a sandbox created just now
  }
  return out;
}

std::optional<SandboxView> view_from_stream(DbContext& db, const SandboxId& id) {
  auto loaded = load_sandbox(db, id);
  if (!loaded || !loaded->state.exists) return std::nullopt;
  auto outcome = outcome_of(db, loaded->state, 0);
  if (!outcome) return std::nullopt;
  return std::move(outcome->view);
}

Result<bool> name_in_use(DbContext& db, const OrganizationId& org, const std::string& name) {
  auto claims = db.store.read_stream(StreamName::of("sandboxname", sandbox_name_key(org, name)));
  if (!claims) return claims.error();
  return name_taken(db, *claims);
}

// Claims the name and appends the sandbox's events in one transaction; a concurrent create of the
// same name (or a concurrent claim of the same warm sandbox) makes one of the two appends
// conflict, and its retry decides again.
Result<Outcome> create_named(DbContext& db, const Call& call, const OrganizationId& org, const std::string& name,
                             const SandboxId& id, const MakeSandboxEvents& make) {
  const auto name_stream = StreamName::of("sandboxname", sandbox_name_key(org, name));
  const auto meta = metadata_for(call);
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) {
      if (auto earlier = earlier_result(db, call)) return std::move(*earlier);  // a racing twin of this request won
    }
    auto claims = db.store.read_stream(name_stream);
    if (!claims) return claims.error();
    auto taken = name_taken(db, *claims);
    if (!taken) return taken.error();
    if (*taken) return make_error(ErrorCode::already_exists, "a sandbox named '" + name + "' already exists");
    auto made = make();
    if (!made) return made.error();
    StreamAppend claim{name_stream, ExpectedVersion::after(static_cast<std::int64_t>(claims->size())),
                       {NewEvent{encode(SandboxNameEvent{SandboxNameClaimed{org, name, id}}), meta}}};
    StreamAppend sandbox{StreamName::of("sandbox", id), made->expected, {}};
    for (const auto& e : made->events) sandbox.events.push_back(NewEvent{encode(e), meta});
    if (made->after.runner) sandbox.options.routing_key = made->after.runner->str();
    if (const auto idempotency = idempotency_of(call)) {
      sandbox.options.idempotency_key = idempotency->first;
      sandbox.options.request_hash = idempotency->second;
    }
    const StreamAppend both[] = {std::move(claim), std::move(sandbox)};
    auto appended = db.store.append_together(both);
    if (appended) return outcome_of(db, made->after, appended->back().last.value());
    if (appended.error().code != ErrorCode::version_conflict) return appended.error();
  }
  return make_error(ErrorCode::version_conflict, "the name '" + name + "' is contended; retry");
}

namespace {

// A new sandbox: created (with its egress policy when it is not the open default), and placed on
// `runner` when one has room.
Result<Outcome> create_new(DbContext& db, const Call& call, const SandboxId& id, const SandboxCreated& spec,
                           const std::optional<sandbox::SetNetwork>& network, const std::optional<RunnerId>& runner) {
  return create_named(db, call, spec.organization_id, spec.name, id, [&]() -> Result<SandboxEvents> {
    auto events = sandbox::decide(sandbox::Create{spec}, sandbox::State{});
    if (!events) return events.error();
    if (network) {
      auto set = sandbox::decide(*network, sandbox::replay(*events));
      if (!set) return set.error();
      events->insert(events->end(), set->begin(), set->end());
    }
    if (runner) {
      auto assigned = sandbox::decide(sandbox::AssignRunner{*runner}, sandbox::replay(*events));
      if (!assigned) return assigned.error();
      events->insert(events->end(), assigned->begin(), assigned->end());
    }
    auto after = sandbox::replay(*events);
    return SandboxEvents{std::move(*events), ExpectedVersion::no_stream(), std::move(after)};
  });
}

// "default" is the host userland; any other snapshot must be the organization's (or a general
// one) and active.
Result<void> snapshot_usable(DbContext& db, const std::string& org, const std::string& name) {
  if (name == "default") return {};
  const auto snapshot = snapshot_for_sandbox(db, org, name);
  if (!snapshot) return make_error(ErrorCode::not_found, "Snapshot " + name + " not found");
  if (snapshot->state != "active") {
    return make_error(ErrorCode::invalid_argument,
                      "Snapshot " + name + " is " + snapshot->state + ", not active: wait until it is active");
  }
  return {};
}

// Every volume a create mounts must exist, not be on its way out, and be the caller's to use;
// another organization's volume and one that does not exist get the same answer.
std::optional<Error> volumes_usable(DbContext& db, const Call& call, const std::vector<VolumeMount>& mounts) {
  for (const auto& m : mounts) {
    auto loaded = load<VolumeEvent, volume::State>(db.store, StreamName::of("volume", m.volume_id),
                                                   [](volume::State v, const VolumeEvent& e) { return volume::evolve(std::move(v), e); });
    if (!loaded) return loaded.error();
    const auto& v = loaded->state;
    const bool live = v.exists && (v.state == VolumeState::pending_create || v.state == VolumeState::ready);
    if (!live || !may(call, access::Action::use, access::owned(access::Kind::volume, v.organization_id))) {
      return make_error(ErrorCode::not_found, "Volume " + m.volume_id.str() + " not found");
    }
  }
  return std::nullopt;
}

// The create's egress: its own fields, else the organization's defaults; the organization's limit
// beside it. None when the sandbox is open with no limit and no proxy (what a warm one is).
Result<std::optional<sandbox::SetNetwork>> create_network(DbContext& db, const Call& call, SandboxCreated& spec) {
  auto asked = parse_network_request(call.request.body());
  if (!asked) return asked.error();
  auto org = load_organization(db, spec.organization_id);
  if (!org) return org.error();
  NetworkPolicy policy;
  if (asked->any_policy()) policy = apply(NetworkPolicy{}, *asked);
  else if (org->network_defaults) policy = *org->network_defaults;
  spec.network_block_all = policy.block_all;
  if (policy == NetworkPolicy{policy.block_all, {}, {}, {}} && !org->network_limit && !asked->outbound_proxy_url) {
    return std::optional<sandbox::SetNetwork>{};
  }
  return std::optional(sandbox::SetNetwork{policy, org->network_limit, asked->outbound_proxy_url, "create"});
}

// The caller's toolbox calls come next. The edge proxies are told where the sandbox runs and,
// when the caller's key may use its toolbox (the one authorization function), that key's hash,
// so the first call asks the API nothing: at once for a claimed warm sandbox that is started,
// and once it has started for one that is starting now (a cold create, a start).
void hand_off_placement(Services& s, const Call& call, const Outcome& out) {
  const auto& st = out.view.state;
  const bool starting = s.expect_start && st.desired == DesiredState::started && st.actual != SandboxState::started &&
                        st.runner;
  const bool claimed = s.hand_off && st.claimed && st.actual == SandboxState::started && !out.runner_endpoint.empty();
  if (!starting && !claimed) return;
  const auto key_hash = bearer_key_hash(call.request[http::field::authorization]);
  const bool key_may = std::holds_alternative<access::ApiKeyCaller>(call.caller) && key_hash &&
                       may(call, access::Action::toolbox, resource_of(st));
  if (starting) {
    if (key_may) s.expect_start(st.id, *key_hash, call.actor);
    return;
  }
  wire::PlacementHandOff handed{placement_of(st, out.runner_endpoint), ""};
  if (key_may) handed.key_sha256 = *key_hash;
  s.hand_off(handed);
}

asio::awaitable<Response> create_sandbox(Services& s, Call& call) {
  auto result = co_await s.db.run([&](DbContext& db) -> Result<Outcome> {
    const auto id = SandboxId::generate();
    CreateDefaults defaults;
    defaults.region = s.settings.default_region;
    if (auto earlier = earlier_result(db, call)) return std::move(*earlier);
    auto spec = parse_create_sandbox(call.request.body(), id, OrganizationId{call.organization_id}, defaults);
    if (!spec) return spec.error();
    if (auto usable = snapshot_usable(db, call.organization_id, spec->snapshot); !usable) return usable.error();
    if (auto unusable = volumes_usable(db, call, spec->volumes)) return *unusable;
    auto network = create_network(db, call, *spec);
    if (!network) return network.error();
    if (!*network) {
      if (auto warm = claim_warm(db, call, *spec, s.settings.forward_key, s.clock())) return std::move(*warm);
    }
    const auto runner = pick_runner(db, spec->region, spec->resources, s.clock());
    auto out = create_new(db, call, id, *spec, *network, runner);
    if (out && out->view.region.empty()) {
      out->view.region = spec->region;
      out->view.user = spec->user;
    }
    return out;
  });
  // A claimed warm sandbox: answer once the runner has given it the caller's env (bounded wait),
  // so the SDK's first command sees it without polling.
  if (result && result->view.state.claimed && result->view.state.actual == SandboxState::starting) {
    const auto id = result->view.state.id;
    co_await wait_for_claim(s, id, result->position);
    auto now = co_await s.db.run([&](DbContext& db) -> Result<Outcome> {
      auto loaded = load_sandbox(db, id);
      if (!loaded) return loaded.error();
      return outcome_of(db, loaded->state, result->position);
    });
    if (now) {
      now->runner_endpoint = result->runner_endpoint;
      result = std::move(now);
    }
  }
  if (result) hand_off_placement(s, call, *result);
  co_return outcome_response(result, s.settings);
}

// One round trip when the projection is current: the row, the stream's last position and the
// projection's checkpoint together; otherwise the sandbox as its stream has it (read-your-writes
// without waiting for the projection).
asio::awaitable<Response> get_sandbox(Services& s, Call& call) {
  const auto id_or_name = call.path.at("sandboxIdOrName");
  struct Found {
    SandboxId id;
    std::int64_t last = 0;
    std::optional<SandboxView> view;  // set when the projection had passed `last`
  };
  auto found = co_await s.db.run([&](DbContext& db) -> Result<Found> {
    auto id = resolve_sandbox(db, call.organization_id, id_or_name);
    if (!id) return id.error();
    Found f{*id};
    pqxx::nontransaction tx(db.conn);
    auto current = projector::queries::sandbox_if_current(tx, *id);
    f.last = current.stream_last;
    if (f.last == 0) return not_found(id_or_name);  // no such stream
    if (current.row) {
      if (!may(call, access::Action::read, resource_of(current.row->state))) return not_found(id_or_name);
      f.view = std::move(current.row);
    }
    return f;
  });
  if (!found) co_return error_for(found.error());
  if (!found->view) {
    // The projection has not reached the sandbox's last event (a command just changed it):
    // answer from the decider's state, as the command itself answered, instead of waiting.
    found->view = co_await s.db.run([&](DbContext& db) { return view_from_stream(db, found->id); });
    if (!found->view || !may(call, access::Action::read, resource_of(found->view->state))) {
      co_return error_for(not_found(id_or_name));
    }
  }
  // Deleted (or being deleted): gone, as the SDK expects of a get right after delete returned
  // (compat spec §8.12); the list with states=destroying still shows one on its way out.
  if (found->view->state.actual == SandboxState::destroyed || found->view->state.desired == DesiredState::destroyed) {
    co_return error_for(not_found(id_or_name));
  }
  co_return json_response(http::status::ok, sandbox_dto(*found->view, s.settings.proxy_url));
}

asio::awaitable<Response> list_sandboxes(Services& s, Call& call) {
  int limit = 100;
  if (auto l = call.query_one("limit")) {
    try {
      limit = std::stoi(*l);
    } catch (const std::exception&) {
      limit = -1;
    }
    if (limit < 1 || limit > 1000) co_return error_response(http::status::bad_request, "limit must be 1 to 1000");
  }
  std::string labels_json = "{}";
  if (auto l = call.query_one("labels")) {
    boost::system::error_code ec;
    auto v = boost::json::parse(*l, ec);
    auto m = ec ? Result<StringMap>(make_error(ErrorCode::invalid_argument, "labels must be a JSON object"))
                : string_map(v, "labels");
    if (!m) co_return error_for(m.error());
    labels_json = boost::json::serialize(boost::json::value_from(*m));
  }
  std::vector<std::string> states;
  if (auto it = call.query.find("states"); it != call.query.end()) {
    for (const auto& st : it->second) {
      SandboxState parsed{};
      if (!boost::describe::enum_from_string(st.c_str(), parsed)) {
        co_return error_response(http::status::bad_request, "states: unknown state '" + st + "'");
      }
      states.push_back(st);
    }
  }
  const auto cursor = call.query_one("cursor");
  if (cursor && !SandboxId::parse(*cursor)) co_return error_response(http::status::bad_request, "cursor is not valid");
  const auto head = co_await s.db.run([](DbContext& db) { return log_head(db); });
  co_await wait_for_projection(s, "sandboxes", head);
  auto page = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    const auto rows = projector::queries::sandboxes(
        tx, {call.organization_id, labels_json, cursor, call.query_one("name"), states, limit + 1});
    boost::json::array items;
    std::optional<std::string> next;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (static_cast<int>(i) == limit) {
        next = std::string(items.back().as_object().at("id").as_string());
        break;
      }
      items.push_back(sandbox_dto(rows[i], s.settings.proxy_url, false));
    }
    boost::json::object out{{"items", std::move(items)}};
    out["nextCursor"] = next ? boost::json::value(*next) : boost::json::value(nullptr);
    return out;
  });
  co_return json_response(http::status::ok, page);
}

// A command on an existing sandbox, answered with its DTO.
asio::awaitable<Response> sandbox_command(Services& s, Call& call, sandbox::Command c,
                                          access::Action action = access::Action::change) {
  auto result = co_await s.db.run([&](DbContext& db) -> Result<Outcome> {
    auto id = resolve_sandbox(db, call.organization_id, call.path.at("sandboxIdOrName"));
    if (!id) return id.error();
    return command(db, call, *id, action, [&](const sandbox::State& st) { return sandbox::decide(c, st); });
  });
  co_return outcome_response(result, s.settings);
}

// Start, and place the sandbox at once when it has no runner (restore of an archived one, or a
// retry after scheduling failed); with no room now it keeps its state and reason.
asio::awaitable<Response> start_sandbox(Services& s, Call& call) {
  auto result = co_await s.db.run([&](DbContext& db) -> Result<Outcome> {
    auto id = resolve_sandbox(db, call.organization_id, call.path.at("sandboxIdOrName"));
    if (!id) return id.error();
    return command(db, call, *id, access::Action::change, [&](const sandbox::State& st) -> Result<sandbox::Events> {
      auto events = sandbox::decide(sandbox::Start{}, st);
      if (!events || events->empty()) return events;
      const auto started = sandbox::replay_onto(st, *events);
      if (started.runner) return events;
      if (auto runner = pick_runner(db, started.region, started.resources, s.clock())) {
        auto assigned = sandbox::decide(sandbox::AssignRunner{*runner}, started);
        if (assigned) events->insert(events->end(), assigned->begin(), assigned->end());
      }
      return events;
    });
  });
  if (result) hand_off_placement(s, call, *result);
  co_return outcome_response(result, s.settings);
}

// {cpu?, memory?, disk?}: the fields given replace the sandbox's; a running sandbox gets the new
// cpu and memory limits from its runner at once, disk (its quota) as well.
asio::awaitable<Response> resize_sandbox(Services& s, Call& call) {
  boost::system::error_code ec;
  const auto body = boost::json::parse(call.request.body(), ec);
  if (ec || !body.is_object()) co_return error_response(http::status::bad_request, "body must be a JSON object {cpu, memory, disk}");
  std::map<std::string, int> given;
  for (const auto* field : {"cpu", "memory", "disk"}) {
    const auto* v = body.as_object().if_contains(field);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_int64()) co_return error_response(http::status::bad_request, std::string(field) + " must be an integer");
    given[field] = static_cast<int>(v->as_int64());
  }
  if (given.empty()) co_return error_response(http::status::bad_request, "give at least one of cpu, memory, disk");
  auto result = co_await s.db.run([&](DbContext& db) -> Result<Outcome> {
    auto id = resolve_sandbox(db, call.organization_id, call.path.at("sandboxIdOrName"));
    if (!id) return id.error();
    return command(db, call, *id, access::Action::change, [&](const sandbox::State& st) -> Result<sandbox::Events> {
      Resources r = st.resources;
      if (given.contains("cpu")) r.cpu = given["cpu"];
      if (given.contains("memory")) r.memory_gib = given["memory"];
      if (given.contains("disk")) r.disk_gib = given["disk"];
      return sandbox::decide(sandbox::Resize{r}, st);
    });
  });
  co_return outcome_response(result, s.settings);
}

// Daytona's network settings (and the deny list): applied to the sandbox's policy as Daytona does,
// under the organization's limit of now; a running sandbox gets it from its runner within a second.
asio::awaitable<Response> set_network(Services& s, Call& call) {
  auto asked = parse_network_request(call.request.body());
  if (!asked) co_return error_for(asked.error());
  if (asked->outbound_proxy_url) {
    co_return error_response(http::status::bad_request, "outboundProxyUrl is set at create and cannot be changed");
  }
  if (!asked->any_policy()) {
    co_return error_response(http::status::bad_request,
                             "give at least one of networkBlockAll, networkAllowList, domainAllowList, networkDenyList");
  }
  auto result = co_await s.db.run([&](DbContext& db) -> Result<Outcome> {
    auto id = resolve_sandbox(db, call.organization_id, call.path.at("sandboxIdOrName"));
    if (!id) return id.error();
    return command(db, call, *id, access::Action::change, [&](const sandbox::State& st) -> Result<sandbox::Events> {
      auto org = load_organization(db, st.organization_id);  // its limit of now
      if (!org) return org.error();
      return sandbox::decide(sandbox::SetNetwork{apply(st.network, *asked), org->network_limit, std::nullopt, "user"}, st);
    });
  });
  co_return outcome_response(result, s.settings);
}

asio::awaitable<Response> set_labels(Services& s, Call& call) {
  auto labels = parse_labels_body(call.request.body());
  if (!labels) co_return error_for(labels.error());
  // Commands are named locals: g++ 12 mishandles temporaries with destructors inside co_await.
  sandbox::Command command = sandbox::ReplaceLabels{*labels};
  auto res = co_await sandbox_command(s, call, std::move(command));
  if (res.result() != http::status::ok) co_return res;
  boost::json::object body{{"labels", boost::json::value_from(*labels)}};
  auto out = json_response(http::status::ok, body);
  if (auto p = res.find("X-Event-Position"); p != res.end()) out.set("X-Event-Position", p->value());
  co_return out;
}

asio::awaitable<Response> set_timer(Services& s, Call& call, LifecycleTimer timer) {
  int minutes = 0;
  const auto& text = call.path.at("interval");
  try {
    std::size_t used = 0;
    minutes = std::stoi(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    co_return error_response(http::status::bad_request, "interval '" + text + "' is not an integer number of minutes");
  }
  sandbox::Command command = sandbox::SetTimer{timer, minutes};
  co_return co_await sandbox_command(s, call, std::move(command));
}

asio::awaitable<Response> stop_sandbox(Services& s, Call& call) {
  const auto force = call.query_one("force");
  if (force && *force != "true" && *force != "false") {
    co_return error_response(http::status::bad_request, "force must be true or false");
  }
  sandbox::Command command = sandbox::Stop{force == "true", "user"};
  co_return co_await sandbox_command(s, call, std::move(command));
}

asio::awaitable<Response> record_activity(Services& s, Call& call) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.clock().time_since_epoch()).count();
  sandbox::Command command = sandbox::RecordActivity{ms};
  auto res = co_await sandbox_command(s, call, std::move(command));
  if (res.result() == http::status::ok) res.result(http::status::created);
  co_return res;
}

asio::awaitable<Response> toolbox_proxy_url(Services& s, Call& call) {
  auto st = co_await s.db.run([&](DbContext& db) {
    return sandbox_for(db, call, call.path.at("sandboxIdOrName"), access::Action::read);
  });
  if (!st) co_return error_for(st.error());
  co_return json_response(http::status::ok, events::http::to_json(dto::Url{s.settings.proxy_url + "/toolbox"}));
}

}  // namespace

void register_sandbox_routes(Router& r, Services& s) {
  using V = http::verb;
  const std::string one = "/api/sandbox/{sandboxIdOrName}";
  r.add({V::post, "/api/sandbox", "Create a sandbox", true, [&s](Call& c) { return create_sandbox(s, c); },
         LimitClass::sandbox_create})
      .takes<dto::CreateSandbox>()
      .answers<dto::Sandbox>();
  r.add({V::get, "/api/sandbox", "List sandboxes (cursor pagination, labels/states/name filters)", true,
         [&s](Call& c) { return list_sandboxes(s, c); }})
      .answers<dto::SandboxPage>();
  r.add({V::get, one, "Get a sandbox by id or name", true, [&s](Call& c) { return get_sandbox(s, c); }})
      .answers<dto::Sandbox>();
  r.add({V::delete_, one, "Delete a sandbox", true,
         [&s](Call& c) { return sandbox_command(s, c, sandbox::Destroy{"user"}, access::Action::remove); },
         LimitClass::lifecycle})
      .answers<dto::Sandbox>();
  r.add({V::post, one + "/start", "Start a sandbox", true, [&s](Call& c) { return start_sandbox(s, c); },
         LimitClass::lifecycle})
      .answers<dto::Sandbox>();
  r.add({V::post, one + "/stop", "Stop a sandbox (?force=true|false)", true,
         [&s](Call& c) { return stop_sandbox(s, c); }, LimitClass::lifecycle})
      .answers<dto::Sandbox>();
  r.add({V::post, one + "/archive", "Archive a stopped sandbox", true,
         [&s](Call& c) { return sandbox_command(s, c, sandbox::Archive{"user"}); }, LimitClass::lifecycle})
      .answers<dto::Sandbox>();
  r.add({V::put, one + "/labels", "Replace a sandbox's labels", true, [&s](Call& c) { return set_labels(s, c); }})
      .takes<dto::Labels>()
      .answers<dto::Labels>();
  r.add({V::post, one + "/resize", "Change cpu, memory (GiB) and disk (GiB); a running sandbox's limits change at once",
         true, [&s](Call& c) { return resize_sandbox(s, c); }, LimitClass::lifecycle})
      .answers<dto::Sandbox>();
  r.add({V::post, one + "/network-settings",
         "Change the egress policy (networkBlockAll, networkAllowList, domainAllowList, networkDenyList); a running "
         "sandbox gets it at once",
         true, [&s](Call& c) { return set_network(s, c); }, LimitClass::lifecycle})
      .takes<dto::NetworkSettings>()
      .answers<dto::Sandbox>();
  r.add({V::post, one + "/autostop/{interval}", "Set the auto-stop interval (minutes)", true,
         [&s](Call& c) { return set_timer(s, c, LifecycleTimer::auto_stop); }})
      .answers<dto::Sandbox>();
  r.add({V::post, one + "/autoarchive/{interval}", "Set the auto-archive interval (minutes)", true,
         [&s](Call& c) { return set_timer(s, c, LifecycleTimer::auto_archive); }})
      .answers<dto::Sandbox>();
  r.add({V::post, one + "/autodelete/{interval}", "Set the auto-delete interval (minutes; -1 off, 0 at stop)", true,
         [&s](Call& c) { return set_timer(s, c, LifecycleTimer::auto_delete); }})
      .answers<dto::Sandbox>();
  r.add({V::post, one + "/last-activity", "Record activity (defers auto-stop)", true,
         [&s](Call& c) { return record_activity(s, c); }})
      .answers<dto::Sandbox>(http::status::created);
  r.add({V::get, one + "/toolbox-proxy-url", "The toolbox proxy URL", true,
         [&s](Call& c) { return toolbox_proxy_url(s, c); }})
      .answers<dto::Url>();
}

}  // namespace command_service
