#include "runner/engine.hpp"
#include "events/runtime.hpp"
#include "runner/daemon_client.hpp"
#include "runner/forwarder.hpp"
#include "runner/json_fields.hpp"
#include "runner/plan.hpp"
#include "events/wire/daemon_env.hpp"
#include "events/wire/runner_target.hpp"

#include <boost/describe/enum_from_string.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <algorithm>
#include <filesystem>
#include <thread>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace runner {

namespace json = boost::json;
using events::ErrorCode;
using events::make_error;

namespace {

// The last reconcile's look-up of its target, per thread, and whether it was handed or asked for
// (the start log shows both).
thread_local double lookup_ms = 0;
thread_local const char* target_from = "asked for";

std::string env_text(const std::map<std::string, std::string>& env) {
  json::object o;
  for (const auto& [k, v] : env) o[k] = v;
  return json::serialize(o);
}

std::string resources_text(const SandboxSpec& s) {
  return std::to_string(s.cpu) + " " + std::to_string(s.memory_gib) + " " + std::to_string(s.disk_gib);
}

}  // namespace

events::Result<Target> target_from_dto(const json::object& dto) {
  auto wire = events::from_json<events::wire::RunnerTarget>(dto, "the platform's target for a sandbox");
  if (!wire) return wire.error();
  return target_from_wire(*wire);
}

Target target_from_wire(const events::wire::RunnerTarget& wire) {
  Target t;
  t.spec.id = wire.id.str();
  t.spec.cpu = wire.resources.cpu;
  t.spec.memory_gib = wire.resources.memory_gib;
  t.spec.disk_gib = wire.resources.disk_gib;
  t.spec.env = wire.env;
  for (const auto& v : wire.volumes) t.volumes.emplace_back(v.volume_id.str(), v.mount_path);
  if (wire.image) {
    t.image = TargetImage{wire.image->name, wire.image->snapshot_id.str(), wire.image->state, wire.image->entrypoint};
  }
  t.egress = Egress{wire.network.policy, wire.network.limit};
  t.outbound_proxy_url = wire.network.outbound_proxy_url;
  t.desired = std::string(events::to_string(wire.desired));
  t.actual = std::string(events::to_string(wire.actual));
  return t;
}

Engine::Engine(EngineSettings settings, SandboxFs& fs, ImageStore& images, Crun& crun, ApiClient& api,
               Reporter& reporter)
    : settings_(std::move(settings)), fs_(fs), images_(images), crun_(crun), api_(api), reporter_(reporter) {}

namespace {

long long read_number(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  in >> text;
  try {
    return text == "max" ? -1 : std::stoll(text);
  } catch (const std::exception&) {
    return -1;
  }
}

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

std::vector<std::string> Engine::with_cgroup() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/fs/cgroup/pids" + settings_.cgroup_parent, ec)) {
    if (e.is_directory()) ids.push_back(e.path().filename().string());
  }
  return ids;
}

// Reads only cgroup files each second (no crun process per sandbox: with 500 sandboxes that was
// 500 spawns a second); crun is asked for PID 1 only when a sandbox has to be defused.
int Engine::defuse_fork_bombs(int checks) {
  int defused = 0;
  const auto ids = with_cgroup();
  std::erase_if(full_pids_, [&](const auto& e) { return std::find(ids.begin(), ids.end(), e.first) == ids.end(); });
  for (const auto& id : ids) {
    const auto pids = "/sys/fs/cgroup/pids" + settings_.cgroup_parent + "/" + id;
    const auto current = read_number(pids + "/pids.current");
    const auto max = read_number(pids + "/pids.max");
    if (max <= 0 || current < max - 1) {
      full_pids_.erase(id);
      continue;
    }
    if (++full_pids_[id] < checks) continue;
    full_pids_.erase(id);
    const auto state = crun_.state(id);
    if (!state || state->status != "running") continue;
    const auto freezer = "/sys/fs/cgroup/freezer" + settings_.cgroup_parent + "/" + id;
    write_text(freezer + "/freezer.state", "FROZEN");
    for (int i = 0; i < 100; ++i) {
      std::ifstream in(freezer + "/freezer.state");
      std::string now;
      in >> now;
      if (now == "FROZEN") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    int killed = 0;
    std::ifstream procs(pids + "/cgroup.procs");
    for (int pid = 0; procs >> pid;) {
      if (pid != state->pid && ::kill(pid, SIGKILL) == 0) ++killed;
    }
    write_text(freezer + "/freezer.state", "THAWED");
    spdlog::warn("sandbox {}: its pids limit ({}) stayed full, as with a fork bomb: {} processes killed, PID 1 kept", id,
                 max, killed);
    ++defused;
  }
  return defused;
}

int Engine::running() const { return static_cast<int>(with_cgroup().size()); }

std::vector<std::string> Engine::toolbox_in_use(std::chrono::seconds window) const {
  std::vector<std::string> busy;
  const auto now = std::filesystem::file_time_type::clock::now();
  for (const auto& id : with_cgroup()) {
    std::error_code ec;
    const auto touched = std::filesystem::last_write_time(fs_.upper(id) + "/.platform/activity", ec);
    if (!ec && now - touched < window) busy.push_back(id);
  }
  return busy;
}

void Engine::watch_exit(const std::string& id) {
  std::lock_guard lock(exits_mutex_);
  running_.insert(id);
}

void Engine::unwatch_exit(const std::string& id) {
  std::lock_guard lock(exits_mutex_);
  running_.erase(id);
  exited_.erase(id);
}

bool Engine::take_exit(const std::string& id) {
  std::lock_guard lock(exits_mutex_);
  return exited_.erase(id) > 0;
}

std::vector<std::string> Engine::find_exits() {
  std::vector<std::string> watched;
  {
    std::lock_guard lock(exits_mutex_);
    watched.assign(running_.begin(), running_.end());
  }
  std::vector<std::string> gone;
  for (const auto& id : watched) {
    const auto state = crun_.state(id);
    if (state && state->status == "running") continue;
    std::lock_guard lock(exits_mutex_);
    if (running_.erase(id) == 0) continue;  // converge stopped it meanwhile
    exited_.insert(id);
    gone.push_back(id);
  }
  return gone;
}

std::string Engine::exit_reason(const std::string& id) const {
  const auto cgroup = "/sys/fs/cgroup/memory" + settings_.cgroup_parent + "/" + id;
  std::ifstream control(cgroup + "/memory.oom_control");
  long kills = 0;
  for (std::string key; control >> key;) {
    long value = 0;
    control >> value;
    if (key == "oom_kill") kills = value;
  }
  const auto limit = read_number(cgroup + "/memory.limit_in_bytes");
  std::string reason = "the sandbox's main process (PID 1, its daemon) exited";
  if (kills > 0) {
    reason += ": the kernel killed processes for exceeding the memory limit";
    if (limit > 0) reason += " of " + std::to_string(limit / (1024 * 1024)) + " MiB";
    reason += " (" + std::to_string(kills) + " so far)";
  }
  return reason + "; start the sandbox to run it again";
}

events::Result<void> Engine::wait_ready(const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + settings_.ready_timeout;
  for (int attempt = 0;; ++attempt) {
    const auto state = crun_.state(id);
    if (!state || state->status != "running") {
      std::ifstream log(fs_.bundle_dir(id) + "/init.log");
      std::stringstream text;
      text << log.rdbuf();
      auto tail = text.str();
      if (tail.size() > 400) tail = tail.substr(tail.size() - 400);
      while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
      return make_error(ErrorCode::unavailable,
                        "the sandbox exited while starting" + (tail.empty() ? std::string() : ": " + tail));
    }
    if (auto fd = connect_in_namespace(state->pid, settings_.daemon_port)) {
      ::close(*fd);
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error(ErrorCode::unavailable, "the sandbox daemon did not listen on port " +
                                                    std::to_string(settings_.daemon_port) + " within " +
                                                    std::to_string(settings_.ready_timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 50 ? 1 : 10));
  }
}

void Engine::forget_destroyed(const std::string& id) {
  if (crun_.state(id)) crun_.stop(id, 0);
  detach_network(id);
  if (auto gone = fs_.destroy(id); !gone) spdlog::warn("sandbox {}: removing what is left: {}", id, gone.error().message);
}

bool Engine::report(const std::string& id, std::string& actual, const std::string& kind, const std::string& state,
                    const std::string& reason, const std::stop_token& stop, const std::string& archive_ref) {
  events::bus::RunnerReport r;
  r.sandbox_id = id;
  r.kind = kind;
  r.state = state;
  r.reason = reason;
  r.archive_ref = archive_ref;
  auto reply = reporter_.send(r, stop);
  // The platform could not take it now (its database is down): the fact stays true, so it is
  // sent again until it is taken or refused for a reason (a lost report would leave the log
  // behind the host for good).
  for (auto wait = std::chrono::milliseconds(200); !reply.ok && reply.code == "unavailable" && !stop.stop_requested();
       wait = std::min(wait * 2, std::chrono::milliseconds(5000))) {
    spdlog::warn("sandbox {}: report {} {} not taken ({}); again in {} ms", id, kind, state, reply.message, wait.count());
    events::nap(stop, wait);
    reply = reporter_.send(r, stop);
  }
  if (reply.ok || reply.code == "duplicate_report") {
    actual = kind == "error" ? "error" : state;
    // The log is at least this new now: the next reconcile of it waits for a hand-off as new (a
    // reconcile that our own earlier report's event started would otherwise act on a target older
    // than this report, and do again what was just done).
    if (reply.version > 0 && handed_ != nullptr) handed_->saw(id, reply.version);
    return true;
  }
  spdlog::warn("sandbox {}: report {} {} refused ({}: {})", id, kind, state, reply.code, reply.message);
  return false;
}

events::Result<void> Engine::start(const Target& t, RunTimings* timings) {
  const auto& id = t.spec.id;
  SandboxSpec spec = t.spec;
  for (const auto& [volume, path] : t.volumes) {
    auto dir = fs_.ensure_volume(volume);
    if (!dir) return dir.error();
    spec.volumes.push_back({*dir, path});
  }
  BundleSettings b;
  b.rootfs = fs_.rootfs(id);
  b.daemon = settings_.daemon_path;
  b.cgroups_path = settings_.cgroup_parent + "/" + id;
  b.seccomp_bpf = settings_.seccomp_bpf;
  b.uid_base = settings_.uid_base;
  if (!t.outbound_proxy_url.empty()) {
    // As the SDK documents: the sandbox's HTTP(S) clients go through it (the policy still applies).
    for (const auto* key : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}) spec.env.emplace(key, t.outbound_proxy_url);
    spec.env.emplace("NO_PROXY", "localhost,127.0.0.1");
    spec.env.emplace("no_proxy", "localhost,127.0.0.1");
  }
  std::vector<std::string> lowers;
  spec.cwd = "/home/daytona";
  if (t.image) {
    auto image = images_.config(t.image->snapshot_id);
    if (!image) return image.error();
    auto unpacked = images_.lowers(t.image->snapshot_id, *image);
    if (!unpacked) return unpacked.error();
    lowers = std::move(*unpacked);
    spec.host_userland = false;
    spec.image_env = image->env;
    spec.cwd = image->working_dir.empty() ? "/" : image->working_dir;
    spec.entrypoint = t.image->entrypoint;
    if (spec.entrypoint.empty()) {
      spec.entrypoint = image->entrypoint;
      spec.entrypoint.insert(spec.entrypoint.end(), image->cmd.begin(), image->cmd.end());
    }
  }
  if (auto m = fs_.mount(id, lowers); !m) return m;
  if (network_ != nullptr && network_->enabled()) {  // the bundle dir exists once mounted
    b.resolv_conf = fs_.bundle_dir(id) + "/resolv.conf";
    if (!(std::ofstream(b.resolv_conf) << network_->resolv_conf())) {
      return make_error(ErrorCode::unavailable, "cannot write " + b.resolv_conf);
    }
  }
  {
    std::ofstream out(fs_.bundle_dir(id) + "/config.json");
    out << json::serialize(oci_config(spec, b));
    if (!out) return make_error(ErrorCode::unavailable, "cannot write the bundle of " + id);
  }
  if (auto ran = crun_.run(id, fs_.bundle_dir(id), timings); !ran) return ran;
  std::ofstream(fs_.bundle_dir(id) + "/resources") << resources_text(t.spec);
  std::ofstream(fs_.bundle_dir(id) + "/env") << env_text(t.spec.env);
  return {};
}

events::Result<void> Engine::apply_env(const Target& t, int pid) {
  const auto path = fs_.bundle_dir(t.spec.id) + "/env";
  const auto wanted = env_text(t.spec.env);
  std::ifstream in(path);
  if (!in) {  // started by a runner that kept no record: its bundle has the env
    std::ofstream(path) << wanted;
    return {};
  }
  std::string applied;
  std::getline(in, applied);
  if (applied == wanted) return {};
  events::wire::DaemonEnv change{t.spec.env, {}};
  boost::system::error_code ec;
  const auto before = json::parse(applied, ec);
  if (!ec && before.is_object()) {
    for (const auto& [k, v] : before.as_object()) {
      if (!t.spec.env.contains(std::string(k))) change.unset.emplace_back(k);
    }
  }
  const auto body = events::to_json_text(change);
  if (auto posted = post_to_daemon(pid, "/env", body); !posted) return posted;
  std::ofstream(path) << wanted;
  spdlog::info("sandbox {}: env applied ({} variables)", t.spec.id, t.spec.env.size());
  return {};
}

events::Result<void> Engine::attach_network(const Target& t) {
  if (network_ == nullptr || !network_->enabled()) return {};
  const auto state = crun_.state(t.spec.id);
  if (!state || state->status != "running") return make_error(ErrorCode::unavailable, "the sandbox is not running");
  if (auto attached = network_->attach(t.spec.id, state->pid, t.egress, t.spec.cpu); !attached) {
    return make_error(attached.error().code, "network: " + attached.error().message);
  }
  return {};
}

void Engine::detach_network(const std::string& id) {
  if (network_ != nullptr) network_->detach(id);
}

events::Result<void> Engine::apply_resources(const Target& t) {
  const auto& id = t.spec.id;
  const auto path = fs_.bundle_dir(id) + "/resources";
  std::string applied;
  std::getline(std::ifstream(path), applied);
  if (applied == resources_text(t.spec)) return {};
  const std::int64_t period = 10000;
  if (auto u = crun_.update(id, static_cast<std::int64_t>(t.spec.memory_gib) << 30, t.spec.cpu * period, period); !u) {
    return u;
  }
  if (auto d = fs_.resize(id, t.spec.disk_gib); !d) return d;
  std::ofstream(path) << resources_text(t.spec);
  spdlog::info("sandbox {}: resized to {} cpu, {} GiB memory, {} GiB disk", id, t.spec.cpu, t.spec.memory_gib, t.spec.disk_gib);
  return {};
}

// Observe → plan → act: what the host shows, the steps plan() makes of it (pure, plan.hpp), and
// each step's one I/O thing. A step that must succeed and fails is the sandbox's error, reported
// to the log; the next event (a start, a delete) tries again. Not a reason to hold up the other
// sandboxes' events.
events::Result<void> Engine::converge(const Target& t, const std::stop_token& stop) {
  const auto& id = t.spec.id;
  std::string actual = t.actual;
  // Observe.
  const auto container = crun_.state(id);
  plan::Seen seen;
  if (container) {
    seen.container = container->status == "running"   ? plan::Seen::Container::running
                     : container->status == "stopped" ? plan::Seen::Container::stopped
                                                      : plan::Seen::Container::created;
  }
  seen.has_layer = fs_.has_layer(id);
  seen.has_archive = fs_.has_archive(id);
  seen.exited = seen.container != plan::Seen::Container::running && take_exit(id);
  plan::Wanted wanted;
  boost::describe::enum_from_string(t.desired.c_str(), wanted.desired);
  boost::describe::enum_from_string(t.actual.c_str(), wanted.actual);
  wanted.from_image = t.image.has_value();
  if (t.image) {
    wanted.image_name = t.image->name;
    wanted.image_active = t.image->state == "active";
  }
  // Plan.
  const auto steps = plan::plan(wanted, seen);
  spdlog::info("sandbox {}: desired {}, log says {}, here {}: {}", id, t.desired, actual,
               container ? container->status : seen.has_layer ? "stopped" : "absent", plan::describe(steps));
  // Act.
  const auto memory_cgroup = "/sys/fs/cgroup/memory" + settings_.cgroup_parent + "/" + id;
  std::string archive_ref;
  using Ms = std::chrono::duration<double, std::milli>;
  auto t0 = std::chrono::steady_clock::now();
  RunTimings crun_times;
  for (const auto& step : steps) {
    events::Result<void> done;
    switch (step.op) {
      case plan::Op::report: {
        const bool archived = step.state == events::SandboxState::archived;
        report(id, actual, "state", std::string(events::to_string(step.state)), "", stop,
               archived ? (archive_ref.empty() ? fs_.archive_path(id) : archive_ref) : std::string());
        break;
      }
      case plan::Op::report_error:
        spdlog::warn("sandbox {}: {}", id, step.reason);
        report(id, actual, "error", "", step.reason, stop);
        break;
      case plan::Op::report_exit: {
        const auto reason = exit_reason(id);
        spdlog::warn("sandbox {}: {}", id, reason);
        report(id, actual, "error", "", reason, stop);
        break;
      }
      case plan::Op::stop:
        done = crun_.stop(id, step.graceful ? settings_.stop_grace_ms : 0);
        if (done) detach_network(id);
        break;
      case plan::Op::destroy_files:
        detach_network(id);
        done = fs_.destroy(id);
        break;
      case plan::Op::unmount:
        detach_network(id);
        done = fs_.unmount(id);
        break;
      case plan::Op::network: done = attach_network(t); break;
      case plan::Op::watch:
        watch_exit(id);
        if (oom_ != nullptr && !oom_->watch(id, memory_cgroup)) spdlog::warn("sandbox {}: cannot watch for OOM kills", id);
        break;
      case plan::Op::unwatch:
        if (oom_ != nullptr) oom_->unwatch(id);
        unwatch_exit(id);
        break;
      case plan::Op::apply_env: done = apply_env(t, container ? container->pid : 0); break;
      case plan::Op::apply_resources: done = apply_resources(t); break;
      case plan::Op::restore: done = fs_.restore(id, t.spec.disk_gib); break;
      case plan::Op::create_layer:
        t0 = std::chrono::steady_clock::now();
        done = fs_.create(id, t.spec.disk_gib, t.image.has_value());
        break;
      case plan::Op::start: {
        const auto t1 = std::chrono::steady_clock::now();
        done = start(t, &crun_times);
        if (done) {
          // bench/runner reads this line for its breakdown.
          spdlog::info("sandbox {}: timings look-up {:.2f} ms, layer {:.2f} ms, mount+bundle {:.2f} ms, crun run "
                       "{:.2f} ms (target {})", id, lookup_ms, Ms(t1 - t0).count(),
                       Ms(std::chrono::steady_clock::now() - t1).count() - crun_times.run_ms, crun_times.run_ms,
                       target_from);
        }
        break;
      }
      case plan::Op::wait_ready:
        done = wait_ready(id);
        if (!done) crun_.stop(id, 0);
        break;
      case plan::Op::archive: {
        auto ref = fs_.archive(id);
        if (ref) archive_ref = *ref;
        else done = ref.error();
        break;
      }
      case plan::Op::remove_local:
        detach_network(id);
        done = fs_.remove_local(id);
        break;
    }
    if (!done) {
      spdlog::warn("sandbox {}: {}", id, done.error().message);
      if (step.must) {
        report(id, actual, "error", "", done.error().message, stop);
        return {};
      }
    }
  }
  return {};
}

events::Result<void> Engine::reconcile(const std::string& sandbox_id, const std::stop_token& stop) {
  const auto looked = std::chrono::steady_clock::now();
  auto wanted = wanted_target(sandbox_id, stop);
  lookup_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - looked).count();
  if (!wanted) return wanted.error();
  if (!*wanted) {
    // Not ours (any more), or deleted: nothing of it may stay on this host.
    // Its archive stays in the object store: the log may still want it (restore elsewhere).
    unwatch_exit(sandbox_id);
    if (crun_.state(sandbox_id) || fs_.has_layer(sandbox_id) || std::filesystem::exists(fs_.bundle_dir(sandbox_id))) {
      spdlog::info("sandbox {}: not on this runner any more; removing it from the host", sandbox_id);
      if (oom_ != nullptr) oom_->unwatch(sandbox_id);
      crun_.stop(sandbox_id, settings_.stop_grace_ms);
      detach_network(sandbox_id);
      return fs_.remove_local(sandbox_id);
    }
    return {};
  }
  return converge(**wanted, stop);
}

events::Result<std::optional<Target>> Engine::wanted_target(const std::string& sandbox_id, const std::stop_token& stop) {
  if (handed_ != nullptr) {
    if (auto handed = handed_->claim(sandbox_id, stop)) {
      target_from = "handed";
      if (!handed->target) return std::optional<Target>();
      return std::optional<Target>(target_from_wire(*handed->target));
    }
  }
  target_from = "asked for";
  auto dto = api_.call("GET", "/runners/" + settings_.runner_id + "/sandboxes/" + sandbox_id);
  if (!dto) {
    if (dto.error().code == ErrorCode::not_found) return std::optional<Target>();
    return dto.error();
  }
  auto target = target_from_dto(*dto);
  if (!target) return target.error();
  return std::optional<Target>(std::move(*target));
}

void Engine::reconcile_all(const std::stop_token& stop) {
  std::set<std::string> wanted;
  auto listed = api_.call("GET", "/runners/" + settings_.runner_id + "/sandboxes");
  if (!listed) {
    spdlog::warn("reconcile: {}", listed.error().message);
    return;
  }
  for (const auto& item : listed->at("items").as_array()) {
    if (!item.is_object()) continue;
    auto target = target_from_dto(item.as_object());
    if (!target) {
      spdlog::warn("reconcile: {}", target.error().message);
      continue;
    }
    wanted.insert(target->spec.id);
    if (auto done = converge(*target, stop); !done) spdlog::warn("reconcile {}: {}", target->spec.id, done.error().message);
  }
  const auto known = fs_.known();
  std::set<std::string> local(known.begin(), known.end());
  for (const auto& id : crun_.list()) local.insert(id);
  for (const auto& id : local) {
    if (wanted.contains(id)) continue;
    if (auto done = reconcile(id, stop); !done) spdlog::warn("reconcile orphan {}: {}", id, done.error().message);
  }
}

}  // namespace runner
