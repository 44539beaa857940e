#include "runner/crun.hpp"

#include "runner/command.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <filesystem>
#include <thread>

namespace runner {

using events::ErrorCode;
using events::make_error;

Crun::Crun(std::string state_root, std::string binary) : root_(std::move(state_root)), binary_(std::move(binary)) {
  std::filesystem::create_directories(root_);
}

events::Result<void> Crun::run(const std::string& id, const std::string& bundle_dir, RunTimings* timings) {
  if (auto s = state(id)) {
    if (s->status == "running") return {};
    // A leftover (created but not started, or stopped): start over.
    run_command({binary_, "--root", root_, "delete", "-f", id});
  }
  // The container's init keeps crun's stdout and stderr: give it a file, not our pipe.
  // One process (`run --detach`), not `create` then `start`: a second crun process cost 5-20 ms.
  const auto log = bundle_dir + "/init.log";
  const auto t0 = std::chrono::steady_clock::now();
  auto ran = run_command({binary_, "--root", root_, "run", "--detach", "--bundle", bundle_dir, id}, {}, log);
  if (!ran) return ran.error();
  if (ran->exit_code != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    auto tail = text.str();
    if (tail.size() > 500) tail = tail.substr(tail.size() - 500);
    while (!tail.empty() && tail.back() == '\n') tail.pop_back();
    run_command({binary_, "--root", root_, "delete", "-f", id});
    return make_error(ErrorCode::unavailable, "crun run failed (exit " + std::to_string(ran->exit_code) + "): " + tail);
  }
  if (timings != nullptr) timings->run_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return {};
}

events::Result<void> Crun::stop(const std::string& id, int grace_ms) {
  auto s = state(id);
  if (!s) return {};
  if (s->status == "running" || s->status == "paused") {
    run_command({binary_, "--root", root_, "kill", id, "TERM"});
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
    while (std::chrono::steady_clock::now() < until) {
      auto now = state(id);
      if (!now || now->status == "stopped") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (auto deleted = run_checked({binary_, "--root", root_, "delete", "-f", id}); !deleted) {
    if (state(id)) return deleted.error();
  }
  return {};
}

events::Result<void> Crun::update(const std::string& id, std::int64_t memory_bytes, std::int64_t cpu_quota_us,
                                  std::int64_t cpu_period_us) {
  auto updated = run_checked({binary_, "--root", root_, "update", "--memory", std::to_string(memory_bytes),
                              "--memory-swap", std::to_string(memory_bytes), "--cpu-quota", std::to_string(cpu_quota_us),
                              "--cpu-period", std::to_string(cpu_period_us), id});
  if (!updated) return updated.error();
  return {};
}

namespace {

// Field 22 (start time, clock ticks after boot) and field 3 (state) of /proc/<pid>/stat.
std::optional<std::pair<char, long long>> process_stat(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 2));
  char state = '?';
  rest >> state;
  std::string field;
  for (int i = 4; i < 22 && rest >> field; ++i) {
  }
  long long start = -1;
  rest >> start;
  return std::pair{state, start};
}

}  // namespace

// Read from crun's own state directory, as `crun state` does, without starting a process (a
// `crun state` took 5-10 ms, on every reconcile and every forwarded connection): the status
// file gives PID 1 and its start time; a live process with that start time is the container,
// and while `exec.fifo` exists it has been created but not started.
std::optional<ContainerState> Crun::state(const std::string& id) const {
  const auto dir = root_ + "/" + id;
  std::ifstream in(dir + "/status");
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
    return ContainerState{"creating", 0};  // crun is writing it
  }
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto v = boost::json::parse(text.str(), ec);
  if (ec || !v.is_object()) return ContainerState{"creating", 0};
  const auto& o = v.as_object();
  ContainerState s;
  if (const auto* pid = o.if_contains("pid"); pid != nullptr && pid->is_int64()) s.pid = static_cast<int>(pid->as_int64());
  long long started = -1;
  if (const auto* t = o.if_contains("process-start-time"); t != nullptr && t->is_int64()) started = t->as_int64();
  const auto stat = s.pid > 0 ? process_stat(s.pid) : std::nullopt;
  const bool alive = stat && stat->first != 'Z' && (started < 0 || stat->second == started);
  std::error_code fifo_ec;
  if (!alive) {
    s.status = "stopped";
  } else if (std::filesystem::exists(dir + "/exec.fifo", fifo_ec)) {
    s.status = "created";
  } else {
    s.status = "running";
  }
  return s;
}

std::vector<std::string> Crun::list() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root_, ec)) {
    if (e.is_directory()) out.push_back(e.path().filename().string());
  }
  return out;
}

events::Result<std::pair<int, std::string>> Crun::exec(const std::string& id, const std::vector<std::string>& argv) {
  std::vector<std::string> full{binary_, "--root", root_, "exec", "--no-new-privs", id};
  full.insert(full.end(), argv.begin(), argv.end());
  auto r = run_command(full);
  if (!r) return r.error();
  return std::pair{r->exit_code, r->output};
}

}  // namespace runner
