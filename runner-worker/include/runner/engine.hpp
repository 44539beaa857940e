#pragma once
// The runner's core: brings each sandbox on this host to what the log says it should be
// (level-triggered: an event only says "look at this sandbox again"), and reports every
// transition it makes. Doing it twice does nothing twice, so redelivered events and restarts
// are safe; a step that fails is reported as an error with the reason.
#include "runner/bundle.hpp"
#include "runner/crun.hpp"
#include "runner/handed_targets.hpp"
#include "runner/image.hpp"
#include "runner/network.hpp"
#include "runner/oom_watch.hpp"
#include "runner/platform.hpp"
#include "runner/sandbox_fs.hpp"

#include <map>
#include <mutex>
#include <set>
#include <stop_token>

namespace runner {

struct EngineSettings {
  std::string runner_id;
  std::string daemon_path;     // the sandbox daemon binary (PID 1 of every sandbox)
  std::string cgroup_parent;   // cgroupsPath prefix, e.g. /sandbox-platform/<runner id>
  std::string seccomp_bpf;     // base64 BPF (seccomp.hpp)
  unsigned uid_base = 100000;
  int stop_grace_ms = 3000;
  unsigned short daemon_port = 2280;
  // A started sandbox answers its toolbox: `started` is reported only once the daemon accepts
  // connections, waiting at most this long (then the start is an error).
  std::chrono::milliseconds ready_timeout{10000};
};

// The snapshot a sandbox runs from, when it is an imported image.
struct TargetImage {
  std::string name;
  std::string snapshot_id;
  std::string state;  // the snapshot's: only an active one can be used
  std::vector<std::string> entrypoint;  // the snapshot's; empty: the image's Entrypoint + Cmd
};

// What the log says about a sandbox of this runner (GET /runners/{id}/sandboxes/{sandbox}).
struct Target {
  SandboxSpec spec;
  std::optional<TargetImage> image;  // none: the host userland
  std::vector<std::pair<std::string, std::string>> volumes;  // volume id, path inside
  std::string desired;  // started | stopped | archived | destroyed
  std::string actual;   // the log's actual state
  Egress egress;        // what it may reach (when this runner gives sandboxes a network)
  std::string outbound_proxy_url;
};

events::Result<Target> target_from_dto(const boost::json::object& dto);
Target target_from_wire(const events::wire::RunnerTarget& target);

class Engine {
 public:
  Engine(EngineSettings settings, SandboxFs& fs, ImageStore& images, Crun& crun, ApiClient& api, Reporter& reporter);

  // Looks the sandbox up (or takes the target the API handed over, handed_targets.hpp) and
  // converges it. A sandbox the log no longer gives this runner is removed from the host.
  events::Result<void> reconcile(const std::string& sandbox_id, const std::stop_token& stop);
  // At start-up: every sandbox the log gives this runner, then every orphan on disk.
  void reconcile_all(const std::stop_token& stop);
  events::Result<void> converge(const Target& target, const std::stop_token& stop);
  // Sandboxes with a cgroup here (created or running), from the cgroup tree: no crun call.
  int running() const;
  // Running sandboxes whose toolbox was in use within `window`: their daemon touches
  // /.platform/activity while a toolbox process runs (sandbox-daemon/main.cpp).
  std::vector<std::string> toolbox_in_use(std::chrono::seconds window) const;
  void watch_oom(OomWatch* oom) { oom_ = oom; }
  void use_network(Network* network) { network_ = network; }
  void use_hand_offs(HandedTargets* handed) { handed_ = handed; }
  // Sandboxes whose PID 1 has exited since the last look although this runner did not stop them
  // (killed for memory, crashed). The caller queues them; converge reports each as an error
  // with the reason and leaves it stopped until someone starts it again.
  std::vector<std::string> find_exits();
  // A sandbox deleted while on no runner (archived, or never placed): what any host and the
  // object store still hold of it goes.
  void forget_destroyed(const std::string& id);
  // Fork bombs: a sandbox whose pids limit stayed full for `checks` looks in a row has every
  // process but its PID 1 killed (frozen first, so none can fork away). Returns how many.
  int defuse_fork_bombs(int checks = 3);

 private:
  // Sends a report; false when the platform refused it for a reason other than "already so".
  bool report(const std::string& id, std::string& actual, const std::string& kind, const std::string& state,
              const std::string& reason, const std::stop_token& stop, const std::string& archive_ref = {});
  events::Result<void> start(const Target& t, RunTimings* timings);
  // What the log says `sandbox_id` should be: handed over, or asked for. Empty: not this runner's.
  events::Result<std::optional<Target>> wanted_target(const std::string& sandbox_id, const std::stop_token& stop);
  std::vector<std::string> with_cgroup() const;
  // A running sandbox whose resources changed in the log gets the new limits (what was applied
  // is kept beside its bundle).
  events::Result<void> apply_resources(const Target& t);
  // A running sandbox whose env changed in the log (a claimed warm sandbox) gets it through its
  // daemon: every process started afterwards sees it. What was applied is kept beside the bundle.
  events::Result<void> apply_env(const Target& t, int pid);
  // Waits until the daemon of a just started sandbox accepts connections on its port.
  events::Result<void> wait_ready(const std::string& id);
  // Why PID 1 of a sandbox is gone, for the error the runner reports.
  std::string exit_reason(const std::string& id) const;
  void watch_exit(const std::string& id);
  void unwatch_exit(const std::string& id);
  bool take_exit(const std::string& id);

  EngineSettings settings_;
  SandboxFs& fs_;
  ImageStore& images_;
  Crun& crun_;
  ApiClient& api_;
  Reporter& reporter_;
  OomWatch* oom_ = nullptr;
  Network* network_ = nullptr;
  HandedTargets* handed_ = nullptr;
  // The sandbox's network: veth, address and bandwidth once, its policy whenever it changed.
  events::Result<void> attach_network(const Target& t);
  void detach_network(const std::string& id);
  std::map<std::string, int> full_pids_;  // sandbox -> looks in a row with the pids limit full
  std::mutex exits_mutex_;
  std::set<std::string> running_;  // started here, PID 1 watched
  std::set<std::string> exited_;   // PID 1 gone unasked, not yet reported
};

}  // namespace runner
