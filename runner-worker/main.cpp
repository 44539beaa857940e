// runner-worker: one per compute host. Registers, heartbeats, consumes the sandbox events routed
// to it, drives crun, reports transitions; on SIGTERM drains and stops. Settings come from the
// environment (see README.md); a bad one stops it with a message naming it.
#include "events/bus/subscriber.hpp"
#include "events/catalogue/sandbox.hpp"
#include "events/runtime.hpp"
#include "events/tokens.hpp"
#include "runner/engine.hpp"
#include "runner/forwarder.hpp"
#include "runner/host.hpp"
#include "runner/reconcile_queue.hpp"
#include "runner/seccomp.hpp"
#include "runner/snapshots.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>
#include <unistd.h>

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

int env_int(const char* name, int fallback) {
  const auto text = env_or(name, std::to_string(fallback));
  try {
    const int v = std::stoi(text);
    if (v < 1) throw std::out_of_range(text);
    return v;
  } catch (const std::exception&) {
    std::cerr << "runner-worker: " << name << " '" << text << "' is not a positive number\n";
    std::exit(2);
  }
}

// The runner's id survives restarts: the log knows it by that id.
std::string runner_id(const std::string& state_dir) {
  const auto path = state_dir + "/runner-id";
  std::ifstream in(path);
  std::string id;
  if (in >> id && events::RunnerId::parse(id)) return id;
  id = events::RunnerId::generate().str();
  std::ofstream(path) << id << "\n";
  return id;
}

int memory_gib() {
  return static_cast<int>(std::max<long>(1, sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGE_SIZE) / (1L << 30)));
}

}  // namespace

int main(int argc, char** argv) {
  // First, before any thread: the private mount namespace (crun, overlays) and blocked signals.
  if (auto ns = runner::enter_private_mount_namespace(); !ns) {
    std::cerr << "runner-worker: " << ns.error().message << "\n";
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const auto db = env_or("DATABASE_URL", "");
  const auto admin_key = env_or("ADMIN_API_KEY", "");
  if (db.empty() || admin_key.empty()) {
    std::cerr << "runner-worker: DATABASE_URL and ADMIN_API_KEY must be set\n";
    return 2;
  }
  const auto state_dir = std::filesystem::absolute(env_or("RUNNER_STATE_DIR", "var/runner")).lexically_normal().string();
  std::filesystem::create_directories(state_dir);
  const auto self = std::filesystem::canonical("/proc/self/exe").parent_path();
  const auto daemon = env_or("RUNNER_DAEMON", (self.parent_path() / "sandbox-daemon" / "sandbox-daemon").string());
  if (!std::filesystem::exists(daemon)) {
    std::cerr << "runner-worker: the sandbox daemon " << daemon << " does not exist (RUNNER_DAEMON)\n";
    return 2;
  }
  const int disk_gib = env_int("RUNNER_DISK_GIB", 20);
  const auto id = runner_id(state_dir);

  if (auto data = runner::mount_data(state_dir + "/data.img", state_dir + "/data",
                                     static_cast<std::int64_t>(disk_gib) << 30);
      !data) {
    std::cerr << "runner-worker: " << data.error().message << "\n";
    return 1;
  }
  auto bpf = runner::seccomp_bpf_base64();
  if (!bpf) {
    std::cerr << "runner-worker: " << bpf.error().message << "\n";
    return 1;
  }
  auto nats = events::bus::NatsClient::connect(env_or("NATS_URL", "nats://127.0.0.1:4222"), "runner-" + id);
  if (!nats) {
    std::cerr << "runner-worker: " << nats.error().message << "\n";
    return 2;
  }
  runner::ApiClient api(env_or("API_URL", "http://127.0.0.1:3000/api"), admin_key);
  runner::Reporter reporter(**nats, id);
  // Archives outlive a runner's hold on a sandbox: by default beside the state dir, shared by
  // every runner of this machine.
  const auto objects = env_or("RUNNER_OBJECT_STORE", (std::filesystem::path(state_dir).parent_path() / "objects").string());
  runner::SandboxFs fs(state_dir, objects, 100000);
  runner::Crun crun(state_dir + "/crun");
  runner::EngineSettings settings{id, daemon, "/sandbox-platform/" + id, *bpf, 100000, 3000};
  runner::ImageStore images(objects, state_dir + "/layers", 100000);
  // Host directories snapshots may be imported from (SNAPSHOT_IMPORT_DIRS, colon-separated, as
  // the command-service has them): none unless the operator lists them.
  {
    std::vector<std::string> dirs;
    const std::string configured = env_or("SNAPSHOT_IMPORT_DIRS", "");
    for (std::string_view list = configured; !list.empty();) {
      const auto colon = list.find(':');
      if (const std::string dir(list.substr(0, colon)); !dir.empty()) dirs.push_back(dir);
      if (colon == std::string_view::npos) break;
      list.remove_prefix(colon + 1);
    }
    images.set_import_dirs(std::move(dirs));
  }
  runner::Engine engine(settings, fs, images, crun, api, reporter);
  runner::SnapshotPuller puller(images, reporter);

  // The forwarding endpoint the edge proxy reaches sandbox ports through.
  const auto endpoint = env_or("RUNNER_ENDPOINT", "127.0.0.1:4100");
  std::unique_ptr<runner::Forwarder> forwarder;
  try {
    const auto colon = endpoint.rfind(':');
    forwarder = std::make_unique<runner::Forwarder>(
        endpoint.substr(0, colon), static_cast<unsigned short>(std::stoi(endpoint.substr(colon + 1))),
        events::tokens::forward_key(admin_key), [&crun](const std::string& sandbox) {
          auto s = crun.state(sandbox);
          return s && s->status == "running" ? s->pid : 0;
        });
  } catch (const std::exception& e) {
    std::cerr << "runner-worker: cannot listen on RUNNER_ENDPOINT " << endpoint << ": " << e.what() << "\n";
    return 2;
  }

  // What this host offers the scheduler. Memory and disk sizes of sandboxes are limits, not
  // reservations (an idle sandbox uses a few MiB and its quota only what it writes), so both are
  // overcommitted: by default 16x the host's memory and 20x the data image, enough for a hundred
  // default sandboxes (1 GiB, 3 GiB) on a laptop. RUNNER_MEMORY_GIB / RUNNER_*_OVERCOMMIT say
  // otherwise; RUNNER_MAX_SANDBOXES bounds the count whatever the sizes.
  const int memory_overcommit = env_int("RUNNER_MEMORY_OVERCOMMIT", 16);
  const int disk_overcommit = env_int("RUNNER_DISK_OVERCOMMIT", 20);
  const std::string registration =
      boost::json::serialize(boost::json::object{
          {"id", id},
          {"region", env_or("RUNNER_REGION", "local")},
          {"endpoint", endpoint},
          {"capacity",
           {{"cpu", static_cast<int>(std::thread::hardware_concurrency())},
            {"memory_gib", env_int("RUNNER_MEMORY_GIB", memory_gib() * memory_overcommit)},
            {"disk_gib", disk_gib * disk_overcommit},
            {"max_sandboxes", env_int("RUNNER_MAX_SANDBOXES", 500)}}}});
  for (int attempt = 0;; ++attempt) {
    auto registered = api.call("POST", "/runners", registration);
    if (registered) break;
    if (attempt == 50) {
      std::cerr << "runner-worker: cannot register: " << registered.error().message << "\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  spdlog::info("runner {} registered (state in {})", id, state_dir);

  std::stop_source stopping;
  runner::OomWatch oom([&](const std::string& sandbox, int killed, long long limit) {
    events::bus::RunnerReport r;
    r.sandbox_id = sandbox;
    r.kind = "oom_killed";
    r.memory_limit_bytes = limit;
    const auto reply = reporter.send(r, stopping.get_token());
    spdlog::info("sandbox {}: {} process(es) killed at the memory limit ({})", sandbox, killed,
                 reply.ok ? "reported" : reply.message);
  });
  engine.watch_oom(&oom);
  engine.reconcile_all(stopping.get_token());

  events::bus::SubscriberSettings sub;
  sub.name = "runner-" + id;
  sub.filter = events::ReadFilter{"sandbox", id};
  // Events only say "look at this sandbox again": the queue converges it on one of its threads.
  runner::ReconcileQueue queue(env_int("RUNNER_WORKERS", 4), [&](const std::string& sandbox, const std::stop_token& stop) {
    return engine.reconcile(sandbox, stop);
  });
  events::bus::Subscriber subscriber(sub, db, **nats, [&](const events::RecordedEvent& e) {
    queue.post(e.stream_id());
    return events::bus::HandleResult{};
  });
  std::jthread consuming([&](std::stop_token stop) { subscriber.run(stop); });
  // Snapshots: every runner sees them; one wins each import (snapshots.hpp).
  events::bus::SubscriberSettings snap_sub;
  snap_sub.name = "runner-" + id + "-snapshots";
  snap_sub.filter = events::ReadFilter{"snapshot", ""};
  snap_sub.ack_wait = std::chrono::seconds(600);  // an import can take minutes
  events::bus::Subscriber snapshot_subscriber(snap_sub, db, **nats, [&](const events::RecordedEvent& e) {
    puller.handle(e, stopping.get_token());
    return events::bus::HandleResult{};
  });
  std::jthread importing([&](std::stop_token stop) { snapshot_subscriber.run(stop); });
  // Sandboxes deleted while on no runner (archived ones): every runner removes what its host and
  // the shared object store still hold of them (idempotent, so all of them may).
  events::bus::SubscriberSettings janitor_sub;
  janitor_sub.name = "runner-" + id + "-unplaced";
  janitor_sub.filter = events::ReadFilter{"sandbox", "_"};
  events::bus::Subscriber janitor(janitor_sub, db, **nats, [&](const events::RecordedEvent& e) {
    if (e.type == events::SandboxDestroyed::kType) engine.forget_destroyed(e.stream_id());
    return events::bus::HandleResult{};
  });
  std::jthread sweeping([&](std::stop_token stop) { janitor.run(stop); });
  std::jthread heartbeats([&](std::stop_token stop) {
    std::map<std::string, std::chrono::steady_clock::time_point> reported;  // toolbox activity, per sandbox
    while (!stop.stop_requested()) {
      // A toolbox process still running is activity: the sandbox's auto-stop waits (at most
      // one report per sandbox every 30 s).
      const auto now = std::chrono::steady_clock::now();
      for (const auto& sandbox : engine.toolbox_in_use(std::chrono::seconds(20))) {
        auto& last = reported[sandbox];
        if (now - last < std::chrono::seconds(30)) continue;
        last = now;
        if (auto r = api.call("POST", "/proxy/sandboxes/" + sandbox + "/activity"); !r) {
          spdlog::warn("activity of {}: {}", sandbox, r.error().message);
        }
      }
      const auto body = boost::json::serialize(boost::json::object{
          {"load", {{"sandboxes", engine.running()}, {"cpu_used", 0}, {"memory_used_gib", 0}, {"disk_used_gib", 0}}}});
      if (auto beat = api.call("POST", "/runners/" + id + "/heartbeat", body); !beat) {
        spdlog::warn("heartbeat: {}", beat.error().message);
      }
      events::nap(stop, std::chrono::seconds(5));
    }
  });
  std::jthread guarding([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      engine.defuse_fork_bombs();
      // A sandbox whose PID 1 died (memory, a crash) is noticed within a second and reported.
      for (const auto& sandbox : engine.find_exits()) queue.post(sandbox);
      events::nap(stop, std::chrono::seconds(1));
    }
  });
  spdlog::info("runner {} consuming ev.sandbox.{}.>", id, id);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("runner {}: draining (signal {})", id, sig);
  if (auto drained = api.call("POST", "/runners/" + id + "/drain"); !drained) {
    spdlog::warn("drain: {}", drained.error().message);
  }
  stopping.request_stop();
  consuming.request_stop();
  importing.request_stop();
  sweeping.request_stop();
  heartbeats.request_stop();
  guarding.request_stop();
  consuming.join();
  importing.join();
  sweeping.join();
  heartbeats.join();
  spdlog::info("runner {} stopped; its sandboxes keep running", id);
  (void)argc;
  (void)argv;
  return 0;
}
