#pragma once
// Events of the sandbox aggregate (stream "sandbox-<uuid>"). Past tense, versioned.
// Runner-reported facts carry the reporting runner's id.
#include "events/ids.hpp"
#include "events/json.hpp"
#include "events/network_policy.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace events {

// The seed's state machine (chapter 4.1), lowercase as the API shows it.
enum class SandboxState {
  unknown, creating, pending_build, building_snapshot, pulling_snapshot, starting, started,
  stopping, stopped, restoring, archiving, archived, destroying, destroyed, error, build_failed
};
BOOST_DESCRIBE_ENUM(SandboxState, unknown, creating, pending_build, building_snapshot,
                    pulling_snapshot, starting, started, stopping, stopped, restoring, archiving,
                    archived, destroying, destroyed, error, build_failed)

enum class DesiredState { none, started, stopped, archived, destroyed };
BOOST_DESCRIBE_ENUM(DesiredState, none, started, stopped, archived, destroyed)

enum class LifecycleTimer { auto_stop, auto_archive, auto_delete };
BOOST_DESCRIBE_ENUM(LifecycleTimer, auto_stop, auto_archive, auto_delete)

std::string_view to_string(SandboxState s);
std::string_view to_string(DesiredState s);
std::string_view to_string(LifecycleTimer t);

struct Resources {
  int cpu = 1;
  int gpu = 0;
  int memory_gib = 1;
  int disk_gib = 3;
  bool operator==(const Resources&) const = default;
};
BOOST_DESCRIBE_STRUCT(Resources, (), (cpu, gpu, memory_gib, disk_gib))

struct VolumeMount {
  VolumeId volume_id;
  std::string mount_path;
  std::string subpath;
  bool operator==(const VolumeMount&) const = default;
};
BOOST_DESCRIBE_STRUCT(VolumeMount, (), (volume_id, mount_path, subpath))

using StringMap = std::map<std::string, std::string>;

// v2: resources grouped, labels and network_block_all added (v1 is upcast, see codec).
struct SandboxCreated {
  static constexpr std::string_view kType = "SandboxCreated";
  static constexpr int kVersion = 2;
  SandboxId sandbox_id;
  OrganizationId organization_id;
  std::string name;
  std::string snapshot;
  std::string user;
  std::string region;
  Resources resources;
  StringMap env;
  StringMap labels;
  bool is_public = false;
  bool network_block_all = false;
  std::vector<VolumeMount> volumes;
  int auto_stop_minutes = 15;
  int auto_archive_minutes = 10080;
  int auto_delete_minutes = -1;
  std::optional<std::string> dockerfile;  // set when the sandbox is built from a Dockerfile
};
BOOST_DESCRIBE_STRUCT(SandboxCreated, (),
                      (sandbox_id, organization_id, name, snapshot, user, region, resources, env,
                       labels, is_public, network_block_all, volumes, auto_stop_minutes,
                       auto_archive_minutes, auto_delete_minutes, dockerfile))

struct SandboxRunnerAssigned {
  static constexpr std::string_view kType = "SandboxRunnerAssigned";
  static constexpr int kVersion = 1;
  RunnerId runner_id;
};
BOOST_DESCRIBE_STRUCT(SandboxRunnerAssigned, (), (runner_id))

struct SandboxSchedulingFailed {
  static constexpr std::string_view kType = "SandboxSchedulingFailed";
  static constexpr int kVersion = 1;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(SandboxSchedulingFailed, (), (reason))

struct SandboxStartRequested {
  static constexpr std::string_view kType = "SandboxStartRequested";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(SandboxStartRequested, (), ())

struct SandboxStopRequested {
  static constexpr std::string_view kType = "SandboxStopRequested";
  static constexpr int kVersion = 1;
  bool force = false;
  std::string reason;  // "user", or why a timer stopped it
};
BOOST_DESCRIBE_STRUCT(SandboxStopRequested, (), (force, reason))

struct SandboxArchiveRequested {
  static constexpr std::string_view kType = "SandboxArchiveRequested";
  static constexpr int kVersion = 1;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(SandboxArchiveRequested, (), (reason))

struct SandboxDestroyRequested {
  static constexpr std::string_view kType = "SandboxDestroyRequested";
  static constexpr int kVersion = 1;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(SandboxDestroyRequested, (), (reason))

struct SandboxLabelsReplaced {
  static constexpr std::string_view kType = "SandboxLabelsReplaced";
  static constexpr int kVersion = 1;
  StringMap labels;
};
BOOST_DESCRIBE_STRUCT(SandboxLabelsReplaced, (), (labels))

struct SandboxTimerSet {
  static constexpr std::string_view kType = "SandboxTimerSet";
  static constexpr int kVersion = 1;
  LifecycleTimer timer = LifecycleTimer::auto_stop;
  int minutes = 0;
};
BOOST_DESCRIBE_STRUCT(SandboxTimerSet, (), (timer, minutes))

struct SandboxActivityRecorded {
  static constexpr std::string_view kType = "SandboxActivityRecorded";
  static constexpr int kVersion = 1;
  std::int64_t at_ms = 0;  // Unix milliseconds
};
BOOST_DESCRIBE_STRUCT(SandboxActivityRecorded, (), (at_ms))

struct SandboxResized {
  static constexpr std::string_view kType = "SandboxResized";
  static constexpr int kVersion = 1;
  Resources resources;
};
BOOST_DESCRIBE_STRUCT(SandboxResized, (), (resources))

// The sandbox's egress policy changed: at create (when it is not the open default, or the
// organization has a limit) and by POST /sandbox/{id}/network-settings. `limit` is the
// organization's limit when the change was made, enforced beside the policy (a sandbox cannot
// widen it). The runner applies it to a running sandbox; the log keeps the policy before and after.
struct SandboxNetworkChanged {
  static constexpr std::string_view kType = "SandboxNetworkChanged";
  static constexpr int kVersion = 1;
  NetworkPolicy before;
  NetworkPolicy after;
  std::optional<NetworkPolicy> limit;
  std::string outbound_proxy_url;  // set at create: HTTP(S)_PROXY in the sandbox
  std::string reason;              // "create", "user", "organization limit"
};
BOOST_DESCRIBE_STRUCT(SandboxNetworkChanged, (), (before, after, limit, outbound_proxy_url, reason))

// A runner's report that the sandbox reached `state` (one event type per reported state keeps
// the log readable: SandboxStarted, SandboxStopped, ...).
#define EVENTS_RUNNER_FACT(Name)                                  \
  struct Name {                                                   \
    static constexpr std::string_view kType = #Name;              \
    static constexpr int kVersion = 1;                            \
    RunnerId runner_id;                                           \
  };                                                              \
  BOOST_DESCRIBE_STRUCT(Name, (), (runner_id))

EVENTS_RUNNER_FACT(SandboxPullingSnapshot)
EVENTS_RUNNER_FACT(SandboxBuildingSnapshot)
EVENTS_RUNNER_FACT(SandboxStarting)
EVENTS_RUNNER_FACT(SandboxStarted)
EVENTS_RUNNER_FACT(SandboxStopping)
EVENTS_RUNNER_FACT(SandboxStopped)
EVENTS_RUNNER_FACT(SandboxArchiving)
EVENTS_RUNNER_FACT(SandboxRestoring)
EVENTS_RUNNER_FACT(SandboxDestroying)
#undef EVENTS_RUNNER_FACT

// Archived and destroyed also release the runner; the event says so by carrying its id.
struct SandboxArchived {
  static constexpr std::string_view kType = "SandboxArchived";
  static constexpr int kVersion = 1;
  RunnerId runner_id;
  std::string archive_ref;  // where the packed upper layer lives
};
BOOST_DESCRIBE_STRUCT(SandboxArchived, (), (runner_id, archive_ref))

struct SandboxDestroyed {
  static constexpr std::string_view kType = "SandboxDestroyed";
  static constexpr int kVersion = 1;
  std::optional<RunnerId> runner_id;  // empty when nothing was on a runner
};
BOOST_DESCRIBE_STRUCT(SandboxDestroyed, (), (runner_id))

struct SandboxErrored {
  static constexpr std::string_view kType = "SandboxErrored";
  static constexpr int kVersion = 1;
  RunnerId runner_id;
  std::string reason;
  bool recoverable = true;
};
BOOST_DESCRIBE_STRUCT(SandboxErrored, (), (runner_id, reason, recoverable))

struct SandboxBuildFailed {
  static constexpr std::string_view kType = "SandboxBuildFailed";
  static constexpr int kVersion = 1;
  RunnerId runner_id;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(SandboxBuildFailed, (), (runner_id, reason))

struct SandboxOomKilled {
  static constexpr std::string_view kType = "SandboxOomKilled";
  static constexpr int kVersion = 1;
  RunnerId runner_id;
  std::int64_t memory_limit_bytes = 0;
  std::string process;  // what was killed, when the runner could tell
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(SandboxOomKilled, (), (runner_id, memory_limit_bytes, process, reason))

// Warm pools (warm_pool.hpp): a sandbox made ahead of demand, started and unassigned (its
// organization is warm_pool_organization()) until a matching create claims it.
struct SandboxJoinedWarmPool {
  static constexpr std::string_view kType = "SandboxJoinedWarmPool";
  static constexpr int kVersion = 1;
  WarmPoolId pool_id;
};
BOOST_DESCRIBE_STRUCT(SandboxJoinedWarmPool, (), (pool_id))

// A create claimed a warm sandbox: from here on it is the organization's, under the create's
// name, env, labels and timers. `env_applied`: the API gave the running sandbox the env before
// the claim (through the runner's forwarding endpoint), so it stays started; otherwise it is
// starting until the runner has applied the env and reports it started.
struct SandboxClaimed {
  static constexpr std::string_view kType = "SandboxClaimed";
  static constexpr int kVersion = 1;
  OrganizationId organization_id;
  std::string name;
  std::string user;
  StringMap env;
  StringMap labels;
  bool is_public = false;
  int auto_stop_minutes = 15;
  int auto_archive_minutes = 10080;
  int auto_delete_minutes = -1;
  std::int64_t at_ms = 0;  // Unix milliseconds: auto-stop counts from here
  bool env_applied = false;
};
BOOST_DESCRIBE_STRUCT(SandboxClaimed, (),
                      (organization_id, name, user, env, labels, is_public, auto_stop_minutes,
                       auto_archive_minutes, auto_delete_minutes, at_ms, env_applied))

using SandboxEvent =
    std::variant<SandboxCreated, SandboxRunnerAssigned, SandboxSchedulingFailed,
                 SandboxStartRequested, SandboxStopRequested, SandboxArchiveRequested,
                 SandboxDestroyRequested, SandboxLabelsReplaced, SandboxTimerSet,
                 SandboxActivityRecorded, SandboxResized, SandboxPullingSnapshot,
                 SandboxBuildingSnapshot, SandboxStarting, SandboxStarted, SandboxStopping,
                 SandboxStopped, SandboxArchiving, SandboxArchived, SandboxRestoring,
                 SandboxDestroying, SandboxDestroyed, SandboxErrored, SandboxBuildFailed,
                 SandboxOomKilled, SandboxJoinedWarmPool, SandboxClaimed, SandboxNetworkChanged>;

}  // namespace events
