#include "command_service/app/warm_pools.hpp"

#include "command_service/links/daemon_link.hpp"
#include "command_service/http/dto.hpp"
#include "command_service/pg/event_feed.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/app/sandbox_commands.hpp"
#include "command_service/app/scheduler.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/warm_pool.hpp"
#include "events/store/sql.hpp"
#include "projector/queries/organizations_audit.hpp"
#include "projector/queries/warm_pools.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>

namespace command_service {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace events;
namespace queries = projector::queries;

namespace {

// How many members one pass starts per pool: a big pool fills over a few seconds instead of
// flooding its runner at once.
constexpr int kCreatesPerPass = 10;
// The refill waits for the projection to show what it appended last time (else it would count
// short and start too many): that position, per database (tests run several in one process).
std::mutex refill_mutex;
std::map<std::string, std::int64_t> refill_positions;

std::string database_of(DbContext& db) {
  return std::string(db.conn.hostname() ? db.conn.hostname() : "") + ":" + (db.conn.port() ? db.conn.port() : "") + "/" +
         (db.conn.dbname() ? db.conn.dbname() : "");
}

void refilled_to(DbContext& db, std::int64_t position) {
  std::lock_guard lock(refill_mutex);
  auto& last = refill_positions[database_of(db)];
  last = std::max(last, position);
}

std::int64_t last_refill_position(DbContext& db) {
  std::lock_guard lock(refill_mutex);
  return refill_positions[database_of(db)];
}

std::int64_t ms_of(Time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

struct Pool {
  WarmPoolId id;
  std::string snapshot;
  std::string region;
  Resources resources;
  int size = 0;
  int live = 0;  // members that are or will be started, unclaimed
};

// A new member, placed on a runner when one has room (else the scheduler places it).
Result<void> add_member(DbContext& db, const Pool& pool, Time now) {
  SandboxCreated spec;
  spec.sandbox_id = SandboxId::generate();
  spec.organization_id = warm_pool_organization();
  spec.name = "warm-" + spec.sandbox_id.str();
  spec.snapshot = pool.snapshot;
  spec.user = "daytona";
  spec.region = pool.region;
  spec.resources = pool.resources;
  spec.auto_stop_minutes = 0;  // waits unassigned for as long as it takes; the claim sets the timers
  auto events = sandbox::decide(sandbox::CreateWarm{spec, pool.id}, sandbox::State{});
  if (!events) return events.error();
  StreamAppend append{StreamName::of("sandbox", spec.sandbox_id), ExpectedVersion::no_stream(), {}};
  if (const auto runner = pick_runner(db, pool.region, pool.resources, now)) {
    auto assigned = sandbox::decide(sandbox::AssignRunner{*runner}, sandbox::replay(*events));
    if (!assigned) return assigned.error();
    events->insert(events->end(), assigned->begin(), assigned->end());
    append.options.routing_key = runner->str();
  }
  const auto meta = system_metadata("warm-pool", warm_pool_organization().str());
  for (const auto& e : *events) append.events.push_back(NewEvent{encode(e), meta});
  const StreamAppend one[] = {std::move(append)};
  auto appended = db.store.append_together(one);
  if (!appended) return appended.error();
  refilled_to(db, appended->back().last.value());
  return {};
}

int remove_members(DbContext& db, const std::vector<std::string>& ids, const std::string& reason) {
  int removed = 0;
  for (const auto& id : ids) {
    auto done = system_command(db, SandboxId{id}, warm_pool_organization().str(), sandbox::Destroy{reason}, "warm-pool");
    if (done && done->appended) {
      ++removed;
      refilled_to(db, done->appended->last.value());
    } else if (!done) {
      spdlog::warn("warm pool: cannot remove {}: {}", id, done.error().message);
    }
  }
  return removed;
}

// Unclaimed members of `pool` the pool no longer wants, those not yet started first.
std::vector<std::string> surplus(DbContext& db, const Pool& pool, int count) {
  pqxx::nontransaction tx(db.conn);
  return queries::surplus_pool_members(tx, pool.id.str(), warm_pool_organization().str(), count);
}

// One API instance at a time applies an env to a warm sandbox and claims it (a session-level
// advisory lock on the API's connection): an env is never applied to a sandbox another create
// is claiming.
bool lock_for_claim(DbContext& db, const SandboxId& id) {
  pqxx::nontransaction tx(db.conn);
  return exec_cached(tx, "select pg_try_advisory_lock(hashtext('warm-claim:' || $1))", id.str())[0][0].as<bool>();
}

struct ClaimLock {
  DbContext& db;
  SandboxId id;
  ~ClaimLock() {
    try {
      pqxx::nontransaction tx(db.conn);
      exec_cached(tx, "select pg_advisory_unlock(hashtext('warm-claim:' || $1))", id.str());
    } catch (const std::exception& e) {
      spdlog::warn("warm pool: unlocking {}: {}", id.str(), e.what());
    }
  }
};


}  // namespace

int refill_warm_pools(DbContext& db, Time now) {
  std::vector<Pool> pools;
  std::vector<std::string> broken;
  {
    pqxx::nontransaction tx(db.conn);
    if (queries::checkpoint(tx, "sandboxes") < last_refill_position(db)) return 0;
    for (auto& p : queries::pools_to_fill(tx, warm_pool_organization().str())) {
      pools.push_back(Pool{WarmPoolId{p.id}, std::move(p.snapshot), std::move(p.region), p.resources, p.size, p.live});
    }
    // A member that failed can never be claimed: it goes, and the pool makes a new one.
    broken = queries::failed_pool_members(tx, warm_pool_organization().str(), 100);
  }
  int issued = remove_members(db, broken, "warm pool: the sandbox failed before it was claimed");
  for (const auto& pool : pools) {
    if (pool.live > pool.size) {
      issued += remove_members(db, surplus(db, pool, pool.live - pool.size), "warm pool: pool made smaller");
      continue;
    }
    if (pool.live == pool.size) continue;
    if (pool.snapshot != "default") {
      const auto snapshot = snapshot_for_sandbox(db, warm_pool_organization().str(), pool.snapshot);
      if (!snapshot || snapshot->state != "active") continue;  // a general snapshot, once active
    }
    for (int i = 0; i < std::min(pool.size - pool.live, kCreatesPerPass); ++i) {
      if (auto added = add_member(db, pool, now); !added) {
        spdlog::warn("warm pool {}: cannot add a sandbox: {}", pool.id.str(), added.error().message);
        break;
      }
      ++issued;
    }
  }
  return issued;
}

std::optional<Result<Outcome>> claim_warm(DbContext& db, const Call& call, const SandboxCreated& spec,
                                          const std::string& forward_key, Time now) {
  // Volumes, a network block and builds change the sandbox itself, not only what the claim sets.
  if (spec.dockerfile || !spec.volumes.empty() || spec.network_block_all) return std::nullopt;
  const auto pool = warm_pool_id(spec.snapshot, spec.region, spec.resources);
  std::vector<queries::ClaimCandidate> candidates;
  {
    pqxx::nontransaction tx(db.conn);
    candidates = queries::claim_candidates(tx, pool.str(), warm_pool_organization().str(), 3);
  }
  if (candidates.empty()) return std::nullopt;  // every create asks: one query when no pool serves it
  if (spec.snapshot != "default") {
    // The pool holds the general snapshot of that name; an organization's own one of the same name is another image.
    const auto general = snapshot_for_sandbox(db, warm_pool_organization().str(), spec.snapshot);
    const auto wanted = snapshot_for_sandbox(db, spec.organization_id.str(), spec.snapshot);
    if (!general || !wanted || general->id != wanted->id) return std::nullopt;
  }
  const SandboxClaimed claim{spec.organization_id, spec.name, spec.user, spec.env, spec.labels, spec.is_public,
                             spec.auto_stop_minutes, spec.auto_archive_minutes, spec.auto_delete_minutes, ms_of(now)};
  for (const auto& candidate : candidates) {
    const SandboxId id{candidate.sandbox_id};
    const auto& endpoint = candidate.runner_endpoint;
    if (!lock_for_claim(db, id)) continue;  // another create is claiming it
    ClaimLock held{db, id};
    // Claimable and the name free: then the env goes straight to the daemon — here, not in the
    // function that makes the events — so the claim can leave the sandbox started; if that fails
    // the runner applies it from the claim event. (create_named checks the name again, in the
    // same transaction as the claim.)
    auto member = load_sandbox(db, id);
    if (!member) return member.error();
    if (!sandbox::decide(sandbox::Claim{claim}, member->state)) continue;  // taken meanwhile, or not ready
    auto in_use = name_in_use(db, spec.organization_id, spec.name);
    if (!in_use) return in_use.error();
    if (*in_use) return Result<Outcome>(make_error(ErrorCode::already_exists, "a sandbox named '" + spec.name + "' already exists"));
    SandboxClaimed c = claim;
    bool applied = false;  // this caller's env is in the member's daemon
    if (spec.env.empty()) {
      c.env_applied = true;  // members are made without an env: nothing to apply, no trip to the daemon
    } else if (endpoint) {
      auto posted = post_env_through_runner(*endpoint, forward_key, id.str(), spec.env);
      c.env_applied = posted.has_value();
      applied = c.env_applied;
      if (!posted) spdlog::warn("warm pool: claim of {}: env not applied directly ({}); the runner will", id.str(), posted.error().message);
    }
    auto out = create_named(db, call, spec.organization_id, spec.name, id, [&]() -> Result<SandboxEvents> {
      auto current = load_sandbox(db, id);
      if (!current) return current.error();
      auto events = sandbox::decide(sandbox::Claim{c}, current->state);
      if (!events) return events.error();
      auto after = sandbox::replay_onto(current->state, *events);
      return SandboxEvents{std::move(*events), ExpectedVersion::after(current->count), std::move(after)};
    });
    if (!out && applied) {
      // It has this caller's env but is not theirs: nobody else may get it.
      remove_members(db, {id.str()}, "warm pool: a claim failed after its env was applied");
    }
    // Taken meanwhile (or no longer ready): the next candidate.
    if (!out && out.error().code == ErrorCode::invalid_transition) continue;
    if (out && endpoint) out->runner_endpoint = *endpoint;
    return out;
  }
  return std::nullopt;
}

asio::awaitable<void> wait_for_claim(Services& s, const SandboxId& id, std::int64_t claimed_at) {
  if (s.feed == nullptr) co_return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  const auto stream = StreamName::of("sandbox", id).str();
  std::int64_t after = claimed_at;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) co_return;
    auto batch = co_await s.feed->next(after, 512, left);
    if (batch.empty()) co_return;
    for (const auto& e : batch) {
      after = e.position.value();
      if (e.stream == stream && (e.type == "SandboxStarted" || e.type == "SandboxErrored")) co_return;
    }
  }
}

namespace {

Result<int> int_field(const json::object& o, std::string_view name, int fallback) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_int64() && !v->is_uint64()) {
    return make_error(ErrorCode::invalid_argument, std::string(name) + " must be a whole number");
  }
  const auto n = v->to_number<std::int64_t>();
  if (n < -1000000 || n > 1000000) return make_error(ErrorCode::invalid_argument, std::string(name) + " is out of range");
  return static_cast<int>(n);
}

Result<warm_pool::SetSize> parse_size(const std::string& body, const std::string& default_region) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return make_error(ErrorCode::invalid_argument, "body must be a JSON object");
  const auto& o = v.as_object();
  warm_pool::SetSize c;
  auto text = [&](std::string_view name, const std::string& fallback) -> Result<std::string> {
    const auto* f = o.if_contains(name);
    if (f == nullptr || f->is_null()) return fallback;
    if (!f->is_string()) return make_error(ErrorCode::invalid_argument, std::string(name) + " must be a string");
    return std::string(f->as_string());
  };
  auto snapshot = text("snapshot", "default");
  if (!snapshot) return snapshot.error();
  auto region = text("region", default_region);
  if (!region) return region.error();
  auto size = int_field(o, "size", -1);
  if (!size) return size.error();
  if (!o.contains("size")) return make_error(ErrorCode::invalid_argument, "size is required (0 turns the pool off)");
  auto cpu = int_field(o, "cpu", 1);
  auto gpu = int_field(o, "gpu", 0);
  auto memory = int_field(o, "memory", 1);
  auto disk = int_field(o, "disk", 3);
  for (const auto* r : {&cpu, &gpu, &memory, &disk}) {
    if (!*r) return r->error();
  }
  c.snapshot = *snapshot;
  c.region = *region;
  c.resources = Resources{*cpu, *gpu, *memory, *disk};
  c.size = *size;
  return c;
}

dto::WarmPool pool_dto(const queries::PoolStatus& p) {
  return {p.id,    p.snapshot, p.region,  p.resources.cpu, p.resources.gpu, p.resources.memory_gib,
          p.resources.disk_gib, p.size, p.ready, p.starting,       p.claimed};
}

asio::awaitable<Response> set_pool_size(Services& s, Call& call) {
  auto command = parse_size(call.request.body(), s.settings.default_region);
  if (!command) co_return error_for(command.error());
  if (command->snapshot != "default") {
    const auto known = co_await s.db.run([&](DbContext& db) {
      return snapshot_for_sandbox(db, warm_pool_organization().str(), command->snapshot).has_value();
    });
    if (!known) {
      co_return error_for(make_error(ErrorCode::not_found, "Snapshot " + command->snapshot +
                                                               " not found among the general snapshots (a warm pool "
                                                               "serves every organization)"));
    }
  }
  const auto id = warm_pool_id(command->snapshot, command->region, command->resources);
  auto position = co_await s.db.run([&](DbContext& db) -> Result<std::int64_t> {
    auto executed = execute<WarmPoolEvent, warm_pool::State>(
        db.store, StreamName::of("warmpool", id), metadata_for(call),
        [&](const warm_pool::State& st) { return warm_pool::decide(*command, st); },
        [](warm_pool::State st, const WarmPoolEvent& e) { return warm_pool::evolve(std::move(st), e); });
    if (!executed) return executed.error();
    return executed->appended ? executed->appended->last.value() : std::int64_t{0};
  });
  if (!position) co_return error_for(position.error());
  co_await wait_for_projection(s, "warm_pools", *position);
  auto status = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    return queries::pool_status(tx, id.str(), warm_pool_organization().str());
  });
  if (!status) co_return error_response(http::status::internal_server_error, "the pool was not projected in time");
  co_return json_response(http::status::ok, events::http::to_json(pool_dto(*status)));
}

asio::awaitable<Response> list_pools(Services& s, Call&) {
  auto pools = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    return queries::pool_statuses(tx, warm_pool_organization().str());
  });
  dto::WarmPoolList out;
  for (const auto& p : pools) out.items.push_back(pool_dto(p));
  co_return json_response(http::status::ok, events::http::to_json(out));
}

}  // namespace

void register_warm_pool_routes(Router& r, Services& s) {
  using V = http::verb;
  r.add({V::put, "/api/admin/warm-pools",
         "Size the warm pool of a snapshot, region and resource class: {snapshot, region, cpu, gpu, memory, disk, "
         "size} (admin; size 0 turns it off)",
         false, [&s](Call& c) { return set_pool_size(s, c); }, LimitClass::admin})
      .answers<dto::WarmPool>();
  r.add({V::get, "/api/admin/warm-pools", "Warm pools with their ready, starting and claimed sandboxes (admin)", false,
         [&s](Call& c) { return list_pools(s, c); }, LimitClass::admin})
      .answers<dto::WarmPoolList>();
}

}  // namespace command_service
