#include "command_service/app/scheduler.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/app/warm_pools.hpp"
#include "projector/queries/runners.hpp"
#include "projector/queries/sandboxes.hpp"

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

std::optional<RunnerId> pick_runner(DbContext& db, const std::string& region, const Resources& resources, Time now) {
  std::vector<policy::RunnerFacts> ready;
  {
    pqxx::nontransaction tx(db.conn);
    ready = projector::queries::ready_runners(tx, region);
  }
  return policy::place(ready, resources, now);
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
  std::vector<projector::queries::TimerCandidate> candidates;
  {
    pqxx::nontransaction tx(db.conn);
    candidates = projector::queries::timer_candidates(tx, now);
  }
  int changed = 0;
  for (const auto& c : candidates) {
    const auto& id = c.id;
    const policy::TimerFacts facts{c.state, c.auto_stop_minutes, c.auto_archive_minutes, c.auto_delete_minutes,
                                   c.changed_at, c.last_activity};
    const auto command = policy::lifecycle_due(facts, now);
    if (!command) continue;
    auto executed = system_command(db, id, c.organization, *command, "timer");
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
  std::vector<projector::queries::WaitingSandbox> waiting;
  {
    pqxx::nontransaction tx(db.conn);
    waiting = projector::queries::waiting_for_runner(tx);
  }
  int changed = 0;
  for (const auto& w : waiting) {
    const auto& id = w.id;
    const auto& region = w.region;
    const Resources resources{1, 0, w.memory_gib, w.disk_gib};
    const auto runner = pick_runner(db, region, resources, now);
    const auto command = policy::schedule(runner, region, w.waiting_since, now, settings.wait);
    if (!command) continue;
    auto executed = system_command(db, id, w.organization, *command, "scheduler");
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
        return schedule_once(ctx, settings, now) + apply_timers(ctx, now) + refill_warm_pools(ctx, now) +
               expire_ssh_access(ctx, now);
      });
    } catch (const std::exception& e) {
      spdlog::warn("scheduler: {}", e.what());
    }
    timer.expires_after(settings.every);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace command_service
