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
#include <spdlog/spdlog.h>

namespace command_service {

using namespace events;

std::optional<RunnerId> pick_runner(DbContext& db, const std::string& region, const Resources& resources) {
  pqxx::nontransaction tx(db.conn);
  const auto rows = exec_cached(tx, 
      "select id::text from runners where state = 'ready' and region = $1 "
      "and assigned_sandboxes < max_sandboxes and assigned_memory + $2 <= memory "
      "and assigned_disk + $3 <= disk "
      "and (last_heartbeat_at is null or last_heartbeat_at > now() - interval '30 seconds') "
      "order by assigned_sandboxes::float / max_sandboxes, assigned_memory limit 1",
      region, resources.memory_gib, resources.disk_gib);
  if (rows.empty()) return std::nullopt;
  return RunnerId{rows[0][0].as<std::string>()};
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

int apply_timers(DbContext& db) {
  pqxx::result due;
  {
    pqxx::nontransaction tx(db.conn);
    // Activity is the later of the last reported activity and the last change (a start).
    due = exec_cached(tx,
        "select id::text, organization_id::text, state, auto_stop_interval, auto_archive_interval, "
        "auto_delete_interval from sandboxes where desired_state = state::text and ("
        " (state = 'started' and auto_stop_interval > 0 and greatest(coalesce(last_activity_at, updated_at), "
        "  updated_at) < now() - make_interval(mins => auto_stop_interval))"
        " or (state = 'stopped' and auto_delete_interval >= 0 and updated_at < now() - make_interval(mins => "
        "  auto_delete_interval))"
        " or (state = 'stopped' and auto_archive_interval > 0 and updated_at < now() - make_interval(mins => "
        "  auto_archive_interval))) order by updated_at limit 100");
  }
  int changed = 0;
  for (const auto& row : due) {
    const SandboxId id{row[0].as<std::string>()};
    const auto state = row[2].as<std::string>();
    const int stop_after = row[3].as<int>();
    const int archive_after = row[4].as<int>();
    const int delete_after = row[5].as<int>();
    sandbox::Command command;
    if (state == "started") {
      command = sandbox::Stop{false, "auto-stop: no activity for " + std::to_string(stop_after) + " minutes"};
    } else if (delete_after >= 0) {
      command = sandbox::Destroy{delete_after == 0 ? std::string("auto-delete: deleted when stopped")
                                                   : "auto-delete: stopped for " + std::to_string(delete_after) + " minutes"};
    } else {
      command = sandbox::Archive{"auto-archive: stopped for " + std::to_string(archive_after) + " minutes"};
    }
    auto executed = system_command(db, id, row[1].as<std::string>(), command, "timer");
    if (executed && executed->appended) {
      ++changed;
      spdlog::info("timers: sandbox {}: {}", id.str(), std::visit([](const auto& c) -> std::string {
        if constexpr (requires { c.reason; }) return c.reason; else return "";
      }, command));
    } else if (!executed && executed.error().code != ErrorCode::invalid_transition) {
      spdlog::warn("timers: sandbox {}: {}", id.str(), executed.error().message);
    }
  }
  return changed;
}

int schedule_once(DbContext& db, const SchedulerSettings& settings) {
  pqxx::result waiting;
  {
    pqxx::nontransaction tx(db.conn);
    waiting = exec_cached(tx, 
        "select id::text, organization_id::text, region, memory, disk, "
        "extract(epoch from (now() - updated_at)) from sandboxes where runner_id is null "
        "and desired_state = 'started' and state in ('creating', 'pending_build', 'archived') "
        "order by updated_at limit 100");
  }
  int changed = 0;
  for (const auto& row : waiting) {
    const SandboxId id{row[0].as<std::string>()};
    const auto region = row[2].as<std::string>();
    const Resources resources{1, 0, row[3].as<int>(), row[4].as<int>()};
    const double waited = row[5].as<double>();
    const auto runner = pick_runner(db, region, resources);
    if (!runner && waited < static_cast<double>(settings.wait.count())) continue;
    sandbox::Command command = runner ? sandbox::Command{sandbox::AssignRunner{*runner}}
                                      : sandbox::Command{sandbox::FailScheduling{
                                            "no runner with free capacity in region '" + region + "' after " +
                                            std::to_string(settings.wait.count()) +
                                            " s; register a runner there or free capacity, then start the sandbox"}};
    auto executed = system_command(db, id, row[1].as<std::string>(), command, "scheduler");
    if (executed && executed->appended) {
      ++changed;
      spdlog::info("scheduler: sandbox {} {}", id.str(), runner ? "placed on " + runner->str() : "failed: no runner");
    } else if (!executed && executed.error().code != ErrorCode::invalid_transition) {
      spdlog::warn("scheduler: sandbox {}: {}", id.str(), executed.error().message);
    }
  }
  return changed;
}

boost::asio::awaitable<void> run_scheduler(Db& db, SchedulerSettings settings) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  while (true) {
    try {
      co_await db.run([&settings](DbContext& ctx) { return schedule_once(ctx, settings) + apply_timers(ctx) + refill_warm_pools(ctx); });
    } catch (const std::exception& e) {
      spdlog::warn("scheduler: {}", e.what());
    }
    timer.expires_after(settings.every);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace command_service
