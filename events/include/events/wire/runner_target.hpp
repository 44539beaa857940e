#pragma once
// API → runner: what the log says a sandbox of the runner should be (GET
// /api/runners/{runner}/sandboxes[/{sandbox}], admin). Built by the command-service
// (runner_routes.cpp) and decoded strictly by the runner (engine.cpp): a missing or extra field, a
// wrong type or an unknown state is a clear error, never a default.
#include "events/catalogue/sandbox.hpp"
#include "events/json.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace events::wire {

// The snapshot an image sandbox runs from: its files in the object store are the snapshot's id.
struct TargetImage {
  std::string name;
  SnapshotId snapshot_id;
  std::string state;  // the snapshot's: only an active one can be used
  std::vector<std::string> entrypoint;  // the snapshot's; empty: the image's Entrypoint + Cmd
};
BOOST_DESCRIBE_STRUCT(TargetImage, (), (name, snapshot_id, state, entrypoint))

struct TargetVolume {
  VolumeId volume_id;
  std::string mount_path;
};
BOOST_DESCRIBE_STRUCT(TargetVolume, (), (volume_id, mount_path))

// The sandbox's egress: its policy, the organization's limit enforced beside it, and the proxy
// its HTTP(S)_PROXY names.
struct TargetNetwork {
  NetworkPolicy policy;
  std::optional<NetworkPolicy> limit;
  std::string outbound_proxy_url;
};
BOOST_DESCRIBE_STRUCT(TargetNetwork, (), (policy, limit, outbound_proxy_url))

struct RunnerTarget {
  SandboxId id;
  OrganizationId organization_id;
  DesiredState desired = DesiredState::none;
  SandboxState actual = SandboxState::unknown;
  Resources resources;
  std::map<std::string, std::string> env;
  std::vector<TargetVolume> volumes;
  std::optional<TargetImage> image;  // none: the host userland
  TargetNetwork network;
};
BOOST_DESCRIBE_STRUCT(RunnerTarget, (), (id, organization_id, desired, actual, resources, env, volumes, image, network))

// API → runner over the bus (bus/runner_targets.hpp), right after an append that concerns the
// runner: the target as of the sandbox's stream `version` (the newest event's), so the runner needs
// no look-up. No target: the sandbox is no longer this runner's (moved, or deleted), as a 404 of
// the look-up says.
struct TargetHandOff {
  SandboxId sandbox_id;
  std::int64_t version = 0;
  std::optional<RunnerTarget> target;
};
BOOST_DESCRIBE_STRUCT(TargetHandOff, (), (sandbox_id, version, target))

struct RunnerTargets {
  std::vector<RunnerTarget> items;
};
BOOST_DESCRIBE_STRUCT(RunnerTargets, (), (items))

}  // namespace events::wire
