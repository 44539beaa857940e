#include "command_service/scheduler.hpp"
#include "command_service/route_support.hpp"
#include "command_service/warm_pools.hpp"
#include "events/store/sql.hpp"

#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/sandbox.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pqxx/pqxx>
#include <boost/describe/enum_from_string.hpp>
#include <spdlog/spdlog.h>

namespace command_service {

using namespace events;

namespace {

Time at_epoch(double seconds) {
  return Time{std::chrono::duration_cast<Time::duration>(std::chrono::duration<double>(seconds))};
}

std::optional<Time> maybe_at_epoch(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return at_epoch(f.as<double>());
}

}  // namespace

std::optional<RunnerId> pick_runner(DbContext& db, const std::string& region, const Resources& resources, Time now) {
  pqxx::nontransaction tx(db.conn);
  const auto rows = exec_cached(tx,
      "select id::text, assigned_sandboxes, max_sandboxes, assigned_memory, memory, assigned_disk, disk, "
      "extract(epoch from last_heartbeat_at) from runners where state = 'ready' and region = $1",
      region);
  std::vector<policy::RunnerFacts> runners;
  for (const auto& r : rows) {
    runners.push_back({RunnerId{r[0].as<std::string>()}, r[1].as<int>(), r[2].as<int>(), r[3].as<int>(), r[4].as<int>(),
                       r[5].as<int>(), r[6].as<int>(), maybe_at_epoch(r[7])});
  }
  return policy::place(runners, resources, now);
}

Metadata system_metadata(const std::string& actor, const std::string& organization) {
  Metadata meta;
  meta.event_id = new_uuid();
  meta.correlation_id = new_uuid();
  meta.actor = actor;
  meta.organization_id = organization;
  return meta;
}

Result<Executed> system_command(DbContext& db, const SandboxId& id, const std::string& organization,
                                const sandbox::Command& command, const std::string& actor) {
  const auto meta = system_metadata(actor, organization);
  return execute_sandbox(
      db, id, meta, [&](const sandbox::State& s) { return sandbox::decide(command, s); },
      [&](const sandbox::State&, const sandbox::State& after) {
        AppendOptions o;
        if (after.runner) o.routing_key = after.runner->str();
        return o;
      });
}

int apply_timers(DbContext& db, Time now) {
  pqxx::result candidates;
  {
    pqxx::nontransaction tx(db.conn);
    // Sandboxes whose timers could be due (policy::lifecycle_due decides); every interval is at
    // least a minute, but for a delete when stopped.
    candidates = exec_cached(tx,
        "select id::text, organization_id::text, state, auto_stop_interval, auto_archive_interval, "
        "auto_delete_interval, extract(epoch from updated_at), extract(epoch from last_activity_at) from sandboxes "
        "where desired_state = state::text and ((state = 'started' and auto_stop_interval > 0) or "
        "(state = 'stopped' and (auto_delete_interval >= 0 or auto_archive_interval > 0))) and "
        "(updated_at <= to_timestamp($1) - interval '1 minute' or (state = 'stopped' and auto_delete_interval = 0)) "
        "order by updated_at limit 1000",
        std::chrono::duration<double>(now.time_since_epoch()).count());
  }
  int changed = 0;
  for (const auto& row : candidates) {
    const SandboxId id{row[0].as<std::string>()};
    policy::TimerFacts facts;
    boost::describe::enum_from_string(row[2].c_str(), facts.state);
    facts.auto_stop_minutes = row[3].as<int>();
    facts.auto_archive_minutes = row[4].as<int>();
    facts.auto_delete_minutes = row[5].as<int>();
    facts.changed_at = at_epoch(row[6].as<double>());
    facts.last_activity = maybe_at_epoch(row[7]);
    const auto command = policy::lifecycle_due(facts, now);
    if (!command) continue;
    auto executed = system_command(db, id, row[1].as<std::string>(), *command, "timer");
    if (executed && executed->appended) {
      ++changed;
      spdlog::info("timers: sandbox {}: {}", id.str(), std::visit([](const auto& c) -> std::string {
        if constexpr (requires { c.reason; }) return c.reason; else return "";
      }, *command));
    } else if (!executed && executed.error().code != ErrorCode::invalid_transition) {
      spdlog::warn("timers: sandbox {}: {}", id.str(), executed.error().message);
    }
  }
  return changed;
}

int schedule_once(DbContext& db, const SchedulerSettings& settings, Time now) {
  pqxx::result waiting;
  {
    pqxx::nontransaction tx(db.conn);
    waiting = exec_cached(tx,
        "select id::text, organization_id::text, region, memory, disk, extract(epoch from updated_at) "
        "from sandboxes where runner_id is null and desired_state = 'started' "
        "and state in ('creating', 'pending_build', 'archived') order by updated_at limit 100");
  }
  int changed = 0;
  for (const auto& row : waiting) {
    const SandboxId id{row[0].as<std::string>()};
    const auto region = row[2].as<std::string>();
    const Resources resources{1, 0, row[3].as<int>(), row[4].as<int>()};
    const auto runner = pick_runner(db, region, resources, now);
    const auto command = policy::schedule(runner, region, at_epoch(row[5].as<double>()), now, settings.wait);
    if (!command) continue;
    auto executed = system_command(db, id, row[1].as<std::string>(), *command, "scheduler");
    if (executed && executed->appended) {
      ++changed;
      spdlog::info("scheduler: sandbox {} {}", id.str(), runner ? "placed on " + runner->str() : "failed: no runner");
    } else if (!executed && executed.error().code != ErrorCode::invalid_transition) {
      spdlog::warn("scheduler: sandbox {}: {}", id.str(), executed.error().message);
    }
  }
  return changed;
}

boost::asio::awaitable<void> run_scheduler(Db& db, SchedulerSettings settings, Clock clock) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  while (true) {
    try {
      const auto now = clock();
      co_await db.run([&settings, now](DbContext& ctx) {
        return schedule_once(ctx, settings, now) + apply_timers(ctx, now) + refill_warm_pools(ctx, now);
      });
    } catch (const std::exception& e) {
      spdlog::warn("scheduler: {}", e.what());
    }
    timer.expires_after(settings.every);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace command_service
