#include "command_service/scheduler.hpp"

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
  const auto rows = tx.exec_params(
      "select id::text from runners where state = 'ready' and region = $1 "
      "and assigned_sandboxes < max_sandboxes and assigned_memory + $2 <= memory * 4 "
      "and assigned_disk + $3 <= disk "
      "and (last_heartbeat_at is null or last_heartbeat_at > now() - interval '30 seconds') "
      "order by assigned_sandboxes::float / max_sandboxes, assigned_memory limit 1",
      region, resources.memory_gib, resources.disk_gib);
  if (rows.empty()) return std::nullopt;
  return RunnerId{rows[0][0].as<std::string>()};
}

int schedule_once(DbContext& db, const SchedulerSettings& settings) {
  pqxx::result waiting;
  {
    pqxx::nontransaction tx(db.conn);
    waiting = tx.exec_params(
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
    Metadata meta;
    meta.event_id = new_uuid();
    meta.correlation_id = new_uuid();
    meta.actor = "scheduler";
    meta.organization_id = row[1].as<std::string>();
    auto executed = execute<SandboxEvent, sandbox::State>(
        db.store, StreamName::of("sandbox", id), meta,
        [&](const sandbox::State& s) { return sandbox::decide(command, s); },
        [](sandbox::State s, const SandboxEvent& e) { return sandbox::evolve(std::move(s), e); },
        [&](const sandbox::State&, const sandbox::State& after) {
          AppendOptions o;
          if (after.runner) o.routing_key = after.runner->str();
          return o;
        });
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
      co_await db.run([&settings](DbContext& ctx) { return schedule_once(ctx, settings); });
    } catch (const std::exception& e) {
      spdlog::warn("scheduler: {}", e.what());
    }
    timer.expires_after(settings.every);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace command_service
