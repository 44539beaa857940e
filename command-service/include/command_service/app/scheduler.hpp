#pragma once
// Places sandboxes on runners. A create is placed at once when a runner has room; otherwise the
// scheduler retries every second and, after `wait`, fails the sandbox with a reason a person
// can act on, so nothing waits in `creating` forever. The same loop runs the lifecycle timers. It also places archived sandboxes that
// were asked to start again. Safe with several API instances: every placement is a command
// that the sandbox decider accepts once.
#include "command_service/pg/db.hpp"
#include "command_service/app/policies.hpp"
#include "events/catalogue/sandbox.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/sandbox.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>

namespace command_service {

// The least-loaded ready runner of the region with room for `resources` and a recent heartbeat
// at `now` (policy::place over the region's ready runners).
std::optional<events::RunnerId> pick_runner(DbContext& db, const std::string& region, const events::Resources& resources,
                                            Time now);

// Metadata of what the platform itself appends: a new event and correlation id, `actor`, the organization.
events::Metadata system_metadata(const std::string& actor, const std::string& organization);

// A command the platform itself issues (placement, timers, warm pools) as `actor`, routed to the
// sandbox's runner.
events::Result<events::Executed> system_command(DbContext& db, const events::SandboxId& id,
                                                const std::string& organization,
                                                const events::sandbox::Command& command, const std::string& actor);

struct SchedulerSettings {
  std::chrono::milliseconds every{1000};
  std::chrono::seconds wait{30};
};

// Runs forever on the calling coroutine's executor; cancel it by stopping the io_context.
boost::asio::awaitable<void> run_scheduler(Db& db, SchedulerSettings settings, Clock clock);

// One pass (tests): returns how many sandboxes it placed or failed.
int schedule_once(DbContext& db, const SchedulerSettings& settings, Time now);

// The lifecycle timers, one pass (the scheduler's loop runs it every tick): a started sandbox
// without activity for its auto-stop interval is stopped; a stopped one is deleted after its
// auto-delete interval (0: at once) or else archived after its auto-archive interval. Each is a
// command from the read model whose event carries the reason. Returns how many it issued.
int apply_timers(DbContext& db, Time now);

}  // namespace command_service
