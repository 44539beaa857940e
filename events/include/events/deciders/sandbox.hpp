#pragma once
// The sandbox aggregate's decider: pure decide(command, state) -> events | error and
// evolve(state, event) -> state. No I/O; time comes in with the commands.
#include "events/catalogue/sandbox.hpp"

#include <optional>
#include <variant>
#include <vector>

namespace events::sandbox {

struct State {
  bool exists = false;
  SandboxId id;
  OrganizationId organization_id;
  SandboxState actual = SandboxState::unknown;
  DesiredState desired = DesiredState::none;
  std::optional<RunnerId> runner;
  std::string name;
  std::string snapshot;
  std::string region;
  std::string user;  // the OS user its processes run as
  Resources resources;
  StringMap env;
  StringMap labels;
  bool is_public = false;
  bool network_block_all = false;  // = network.block_all
  NetworkPolicy network;
  std::optional<NetworkPolicy> network_limit;  // the organization's, when the policy was last set
  std::string outbound_proxy_url;
  std::vector<VolumeMount> volumes;
  int auto_stop_minutes = 15;
  int auto_archive_minutes = 10080;
  int auto_delete_minutes = -1;
  bool builds_from_dockerfile = false;
  std::string error_reason;
  bool recoverable = false;
  std::string archive_ref;
  std::int64_t last_activity_ms = 0;
  int oom_kills = 0;
  std::optional<WarmPoolId> warm_pool;  // made for that warm pool
  bool claimed = false;                 // a warm sandbox a create has claimed
  bool operator==(const State&) const = default;
};

// --- commands from users (through the API) ---
struct Create { SandboxCreated spec; };
// A warm-pool member: created for the pool, owned by warm_pool_organization() until claimed.
struct CreateWarm { SandboxCreated spec; WarmPoolId pool; };
// A create that takes an unclaimed, started warm sandbox instead of making one.
struct Claim { SandboxClaimed claim; };
struct Start {};
struct Stop { bool force = false; std::string reason = "user"; };
struct Archive { std::string reason = "user"; };
struct Destroy { std::string reason = "user"; };
struct ReplaceLabels { StringMap labels; };
struct SetTimer { LifecycleTimer timer; int minutes; };
struct RecordActivity { std::int64_t at_ms; };
struct Resize { Resources resources; };
// A new egress policy (validated), with the organization's limit at this time. The proxy URL is
// set only at create.
struct SetNetwork {
  NetworkPolicy policy;
  std::optional<NetworkPolicy> limit;
  std::optional<std::string> outbound_proxy_url;
  std::string reason = "user";
};
// --- commands from the scheduler ---
struct AssignRunner { RunnerId runner; };
struct FailScheduling { std::string reason; };
// --- runner reports: facts a runner claims; rejected when they do not fit ---
enum class Reported { pulling_snapshot, building_snapshot, starting, started, stopping, stopped,
                      archiving, archived, restoring, destroying, destroyed };
struct Report { RunnerId runner; Reported state; std::string archive_ref = {}; };
struct ReportError { RunnerId runner; std::string reason; bool recoverable = true; };
struct ReportBuildFailed { RunnerId runner; std::string reason; };
struct ReportOomKilled { RunnerId runner; std::int64_t memory_limit_bytes; std::string process; };

using Command = std::variant<Create, CreateWarm, Claim, Start, Stop, Archive, Destroy, ReplaceLabels, SetTimer,
                             RecordActivity, Resize, SetNetwork, AssignRunner, FailScheduling, Report,
                             ReportError, ReportBuildFailed, ReportOomKilled>;

using Events = std::vector<SandboxEvent>;

// Whether the sandbox is a warm-pool member no create has claimed yet.
bool unclaimed_warm(const State& s);

// An empty event list means the command was accepted and changes nothing (already so).
Result<Events> decide(const Command& command, const State& state);
State evolve(State state, const SandboxEvent& event);
State replay(const Events& events);
State replay_onto(State state, const Events& events);

// The runner that should see the events appended after `state` (routing key), if any.
std::optional<RunnerId> routing_runner(const State& before, const State& after);

}  // namespace events::sandbox
