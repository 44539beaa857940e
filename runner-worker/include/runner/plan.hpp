#pragma once
// What the runner does for one sandbox, decided purely: plan(target, observation) → steps. The
// engine observes the host (container, layer, archive, a PID 1 that died), asks plan(), and acts
// each step (engine.cpp); a step that must succeed and fails ends the plan with the sandbox's
// error. Table-tested in tests/unit/runner_plan_test.cpp, like the deciders.
#include "events/catalogue/sandbox.hpp"

#include <string>
#include <vector>

namespace runner::plan {

// What the log says the sandbox should be and is (Target, typed).
struct Wanted {
  events::DesiredState desired = events::DesiredState::none;
  events::SandboxState actual = events::SandboxState::unknown;
  bool from_image = false;
  std::string image_name;   // the snapshot's, for messages
  bool image_active = true;  // an image sandbox starts only from an active snapshot
};

// What the host shows.
struct Seen {
  enum class Container { absent, created, running, stopped };
  Container container = Container::absent;
  bool has_layer = false;    // its btrfs subvolume
  bool has_archive = false;  // its archive in the object store
  bool exited = false;       // its PID 1 died since the last look, without the runner stopping it
};

enum class Op {
  report,           // the actual state `state` (an archived report carries the archive made before)
  report_error,     // `reason`
  report_exit,      // the error of a PID 1 that died (the reason is read from the host)
  stop,             // stop the container: `graceful` TERM then KILL, or remove a leftover record
  destroy_files,    // layer, bundle and archive
  unmount,
  watch,            // watch PID 1 and OOM kills
  unwatch,
  apply_env,        // a running sandbox gets the env the log has (a claimed warm sandbox)
  apply_resources,  // and its cpu, memory and disk limits
  restore,          // the archive into a new layer
  create_layer,     // idempotent: completes a half-made one, sets the disk quota
  start,            // bundle, crun create + start
  network,          // its veth, address and bandwidth (once) and its egress policy (when it changed)
  wait_ready,       // the daemon accepts connections
  archive,          // pack the layer into the object store
  remove_local,     // the bundle and what else the host kept (the archive stays)
};

struct Step {
  Op op;
  events::SandboxState state = events::SandboxState::unknown;  // report
  std::string reason;                                           // report_error
  bool graceful = true;                                         // stop
  bool must = true;  // its failure ends the plan with the sandbox's error; else only logged
  bool operator==(const Step&) const = default;
};

std::vector<Step> plan(const Wanted& wanted, const Seen& seen);

// "report(started) watch ..." — how the tests and the logs show a plan.
std::string describe(const std::vector<Step>& steps);

}  // namespace runner::plan
