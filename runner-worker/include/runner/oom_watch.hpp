#pragma once
// OOM kills inside sandboxes. crun only sees the exit of processes it waits for itself, not
// those the daemon starts, so the runner listens to the kernel: on cgroup v1 an eventfd
// registered on memory.oom_control (cgroup.event_control) fires on every OOM in the cgroup,
// and the "oom_kill" counter of memory.oom_control says how many processes died.
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace runner {

class OomWatch {
 public:
  // Called from the watch thread: the sandbox, how many processes were killed, its limit.
  using OnKill = std::function<void(const std::string& id, int killed, long long limit_bytes)>;
  explicit OomWatch(OnKill on_kill);
  ~OomWatch();
  OomWatch(const OomWatch&) = delete;
  OomWatch& operator=(const OomWatch&) = delete;

  // `memory_cgroup`: the sandbox's directory under /sys/fs/cgroup/memory. Watching twice is a no-op.
  bool watch(const std::string& id, const std::string& memory_cgroup);
  void unwatch(const std::string& id);

 private:
  struct Watched {
    int event_fd = -1;
    int control_fd = -1;
    std::string cgroup;
    long kills = 0;
    long long limit = 0;
  };
  void loop(std::stop_token stop);
  static long kills_in(const std::string& cgroup);

  OnKill on_kill_;
  int epoll_ = -1;
  std::mutex mutex_;
  std::map<std::string, Watched> watched_;
  std::map<int, std::string> by_fd_;
  std::jthread thread_;
};

}  // namespace runner
