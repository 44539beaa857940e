#pragma once
// crun, driven through its command line with a state root of the runner's own.
#include "events/error.hpp"

#include <optional>
#include <string>
#include <vector>

namespace runner {

struct RunTimings {
  double run_ms = 0;  // `crun run --detach`: create and start
};

struct ContainerState {
  std::string status;  // creating, created, running, stopped, paused
  int pid = 0;
};

class Crun {
 public:
  explicit Crun(std::string state_root, std::string binary = "crun");

  // create + start (one `crun run --detach`): PID 1 of the bundle runs. crun must run in the
  // runner's private mount namespace (host.hpp), which the runner's children inherit.
  events::Result<void> run(const std::string& id, const std::string& bundle_dir, RunTimings* timings = nullptr);
  // SIGTERM, up to `grace_ms`, then SIGKILL; then the container is deleted. No container: ok.
  events::Result<void> stop(const std::string& id, int grace_ms);
  std::optional<ContainerState> state(const std::string& id) const;
  // New cpu and memory limits for a running container (crun update).
  events::Result<void> update(const std::string& id, std::int64_t memory_bytes, std::int64_t cpu_quota_us,
                              std::int64_t cpu_period_us);
  std::vector<std::string> list() const;
  // Runs argv inside (no new privileges), for tests and maintenance.
  events::Result<std::pair<int, std::string>> exec(const std::string& id, const std::vector<std::string>& argv);
  const std::string& root() const { return root_; }

 private:
  std::string root_;
  std::string binary_;
};

}  // namespace runner
