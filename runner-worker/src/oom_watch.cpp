#include "runner/oom_watch.hpp"

#include <fcntl.h>
#include <fstream>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace runner {

OomWatch::OomWatch(OnKill on_kill) : on_kill_(std::move(on_kill)), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
  thread_ = std::jthread([this](std::stop_token stop) { loop(stop); });
}

OomWatch::~OomWatch() {
  thread_.request_stop();
  thread_.join();
  for (auto& [id, w] : watched_) {
    close(w.event_fd);
    close(w.control_fd);
  }
  close(epoll_);
}

long OomWatch::kills_in(const std::string& cgroup) {
  std::ifstream in(cgroup + "/memory.oom_control");
  std::string key;
  long value = 0;
  while (in >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return 0;
}

bool OomWatch::watch(const std::string& id, const std::string& memory_cgroup) {
  std::lock_guard lock(mutex_);
  if (watched_.contains(id)) return true;
  Watched w;
  w.cgroup = memory_cgroup;
  w.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  w.control_fd = open((memory_cgroup + "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC);
  const int event_control = open((memory_cgroup + "/cgroup.event_control").c_str(), O_WRONLY | O_CLOEXEC);
  bool ok = w.event_fd >= 0 && w.control_fd >= 0 && event_control >= 0;
  if (ok) {
    const auto line = std::to_string(w.event_fd) + " " + std::to_string(w.control_fd);
    ok = write(event_control, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  }
  if (event_control >= 0) close(event_control);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = w.event_fd;
  if (ok) ok = epoll_ctl(epoll_, EPOLL_CTL_ADD, w.event_fd, &ev) == 0;
  if (!ok) {
    if (w.event_fd >= 0) close(w.event_fd);
    if (w.control_fd >= 0) close(w.control_fd);
    return false;
  }
  w.kills = kills_in(memory_cgroup);
  std::ifstream(memory_cgroup + "/memory.limit_in_bytes") >> w.limit;
  by_fd_[w.event_fd] = id;
  watched_[id] = w;
  return true;
}

void OomWatch::unwatch(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = watched_.find(id);
  if (it == watched_.end()) return;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, it->second.event_fd, nullptr);
  close(it->second.event_fd);
  close(it->second.control_fd);
  by_fd_.erase(it->second.event_fd);
  watched_.erase(it);
}

void OomWatch::loop(std::stop_token stop) {
  epoll_event events[16];
  while (!stop.stop_requested()) {
    const int n = epoll_wait(epoll_, events, 16, 200);
    for (int i = 0; i < n; ++i) {
      std::uint64_t count = 0;
      if (read(events[i].data.fd, &count, sizeof count) != sizeof count) continue;
      // The counter moves just after the notification: look again shortly.
      usleep(20 * 1000);
      std::string id;
      int killed = 0;
      long long limit = 0;
      {
        std::lock_guard lock(mutex_);
        auto fd = by_fd_.find(events[i].data.fd);
        if (fd == by_fd_.end()) continue;
        auto& w = watched_.at(fd->second);
        const long now = kills_in(w.cgroup);
        killed = static_cast<int>(now - w.kills);
        w.kills = now;
        limit = w.limit;
        id = fd->second;
      }
      if (killed > 0) on_kill_(id, killed, limit);
    }
  }
}

}  // namespace runner
