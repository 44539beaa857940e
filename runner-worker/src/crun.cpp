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
  const auto log = bundle_dir + "/init.log";
  const auto t0 = std::chrono::steady_clock::now();
  auto created = run_command({binary_, "--root", root_, "create", "--bundle", bundle_dir, id}, {}, log);
  if (!created) return created.error();
  if (created->exit_code != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    auto tail = text.str();
    if (tail.size() > 500) tail = tail.substr(tail.size() - 500);
    while (!tail.empty() && tail.back() == '\n') tail.pop_back();
    return make_error(ErrorCode::unavailable, "crun create failed (exit " + std::to_string(created->exit_code) + "): " + tail);
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (auto started = run_checked({binary_, "--root", root_, "start", id}); !started) {
    run_command({binary_, "--root", root_, "delete", "-f", id});
    return started.error();
  }
  if (timings != nullptr) {
    timings->create_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    timings->start_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
  }
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

std::optional<ContainerState> Crun::state(const std::string& id) const {
  auto r = run_command({binary_, "--root", root_, "state", id});
  if (!r || r->exit_code != 0) return std::nullopt;
  boost::system::error_code ec;
  auto v = boost::json::parse(r->output, ec);
  if (ec || !v.is_object()) return std::nullopt;
  ContainerState s;
  if (const auto* st = v.as_object().if_contains("status"); st != nullptr && st->is_string()) s.status = st->as_string();
  if (const auto* pid = v.as_object().if_contains("pid"); pid != nullptr && pid->is_int64()) {
    s.pid = static_cast<int>(pid->as_int64());
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
