#include "runner/worker.hpp"

#include "events/catalogue/sandbox.hpp"
#include "events/runtime.hpp"
#include "events/tokens.hpp"
#include "runner/host.hpp"
#include "runner/seccomp.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

namespace runner {

namespace fs = std::filesystem;
using events::ErrorCode;
using events::make_error;

namespace {

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

int host_memory_gib() {
  return static_cast<int>(std::max<long>(1, sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGE_SIZE) / (1L << 30)));
}

}  // namespace

events::Result<std::unique_ptr<Worker>> Worker::start(const Settings& given) {
  std::unique_ptr<Worker> w(new Worker());
  auto& s = w->settings_;
  s = given;
  s.state_dir = fs::absolute(s.state_dir).lexically_normal().string();
  std::error_code ec;
  fs::create_directories(s.state_dir, ec);
  if (ec) return make_error(ErrorCode::invalid_argument, "RUNNER_STATE_DIR " + s.state_dir + ": " + ec.message());
  if (s.daemon.empty()) {
    s.daemon = (fs::canonical("/proc/self/exe").parent_path().parent_path() / "sandbox-daemon" / "sandbox-daemon").string();
  }
  if (!fs::exists(s.daemon)) {
    return make_error(ErrorCode::invalid_argument, "RUNNER_DAEMON: the sandbox daemon " + s.daemon + " does not exist");
  }
  if (s.object_store.empty()) s.object_store = (fs::path(s.state_dir).parent_path() / "objects").string();
  const auto colon = s.endpoint.rfind(':');
  if (colon == std::string::npos || s.endpoint.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
      colon + 1 == s.endpoint.size()) {
    return make_error(ErrorCode::invalid_argument, "RUNNER_ENDPOINT '" + s.endpoint + "' is not host:port");
  }
  w->id_ = runner_id(s.state_dir);
  if (auto data = mount_data(s.state_dir + "/data.img", s.state_dir + "/data", static_cast<std::int64_t>(s.disk_gib) << 30);
      !data) {
    return data.error();
  }
  auto bpf = seccomp_bpf_base64();
  if (!bpf) return bpf.error();
  auto nats = events::bus::NatsClient::connect(s.nats_url, "runner-" + w->id_);
  if (!nats) return nats.error();
  w->nats_ = std::move(*nats);
  w->api_ = std::make_unique<ApiClient>(s.api_url, s.admin_api_key);
  w->reporter_ = std::make_unique<Reporter>(*w->nats_, w->id_);
  w->fs_ = std::make_unique<SandboxFs>(s.state_dir, s.object_store, 100000);
  w->crun_ = std::make_unique<Crun>(s.state_dir + "/crun");
  w->images_ = std::make_unique<ImageStore>(s.object_store, s.state_dir + "/layers", 100000);
  w->images_->set_import_dirs(s.snapshot_import_dirs);
  NetSettings net{s.net_pool, s.net_uplink, s.net_gateway, s.net_dns, events::network::split_list(s.net_refused),
                  s.net_mbit_per_cpu, s.state_dir + "/net"};
  auto network = Network::open(net);
  if (!network) return network.error();
  w->network_ = std::move(*network);
  if (w->network_->enabled()) {
    try {
      w->resolver_ = std::make_unique<Resolver>(*w->network_);
      w->sni_gate_ = std::make_unique<SniGate>(*w->network_);
    } catch (const std::exception& e) {
      return make_error(ErrorCode::unavailable, "the sandboxes' resolver or SNI gate cannot listen on " +
                                                    w->network_->resolver_address() + ": " + e.what());
    }
  }
  EngineSettings engine{w->id_, s.daemon, "/sandbox-platform/" + w->id_, *bpf, 100000, 3000};
  w->engine_ = std::make_unique<Engine>(engine, *w->fs_, *w->images_, *w->crun_, *w->api_, *w->reporter_);
  w->engine_->use_network(w->network_.get());
  w->puller_ = std::make_unique<SnapshotPuller>(*w->images_, *w->reporter_);

  // The forwarding endpoint the edge proxy reaches sandbox ports through.
  try {
    auto* crun = w->crun_.get();
    w->forwarder_ = std::make_unique<Forwarder>(
        s.endpoint.substr(0, colon), static_cast<unsigned short>(std::stoi(s.endpoint.substr(colon + 1))),
        events::tokens::forward_key(s.admin_api_key), [crun](const std::string& sandbox) {
          auto st = crun->state(sandbox);
          return st && st->status == "running" ? st->pid : 0;
        });
  } catch (const std::exception& e) {
    return make_error(ErrorCode::unavailable, "cannot listen on RUNNER_ENDPOINT " + s.endpoint + ": " + e.what());
  }
  if (auto registered = w->register_with_platform(); !registered) return registered.error();
  spdlog::info("runner {} registered (state in {})", w->id_, s.state_dir);

  auto* worker = w.get();
  w->oom_ = std::make_unique<OomWatch>([worker](const std::string& sandbox, int killed, long long limit) {
    events::bus::RunnerReport r;
    r.sandbox_id = sandbox;
    r.kind = "oom_killed";
    r.memory_limit_bytes = limit;
    const auto reply = worker->reporter_->send(r, worker->stopping_.get_token());
    spdlog::info("sandbox {}: {} process(es) killed at the memory limit ({})", sandbox, killed,
                 reply.ok ? "reported" : reply.message);
  });
  w->engine_->watch_oom(w->oom_.get());
  w->engine_->reconcile_all(w->stopping_.get_token());

  // The API hands over what a sandbox should be right after each append routed here
  // (handed_targets.hpp); without that subscription every reconcile asks.
  w->handed_ = std::make_unique<HandedTargets>(std::chrono::milliseconds(s.hand_off_wait_ms));
  w->hand_offs_ = std::make_unique<events::bus::TargetListener>(
      *w->nats_, events::RunnerId{w->id_}, [worker](events::wire::TargetHandOff handed) { worker->handed_->take(std::move(handed)); });
  if (w->hand_offs_->ok()) {
    w->engine_->use_hand_offs(w->handed_.get());
  } else {
    spdlog::warn("cannot subscribe to {}: every reconcile asks the API", events::bus::target_subject(events::RunnerId{w->id_}));
    w->hand_offs_.reset();
    w->handed_.reset();
  }
  // Events only say "look at this sandbox again": the queue converges it on one of its threads.
  w->queue_ = std::make_unique<ReconcileQueue>(s.workers, [worker](const std::string& sandbox, const std::stop_token& stop) {
    return worker->engine_->reconcile(sandbox, stop);
  });
  auto consume = [&](const std::string& name, events::ReadFilter filter, std::chrono::seconds ack_wait,
                     std::function<void(const events::RecordedEvent&)> handle) {
    events::bus::SubscriberSettings sub;
    sub.name = name;
    sub.filter = std::move(filter);
    sub.ack_wait = ack_wait;
    auto subscriber = std::make_unique<events::bus::Subscriber>(
        sub, s.database_url, *w->nats_, [handle = std::move(handle)](const events::RecordedEvent& e) {
          handle(e);
          return events::bus::HandleResult{};
        });
    auto* running = subscriber.get();
    w->subscribers_.push_back(std::move(subscriber));
    w->threads_.emplace_back([running](std::stop_token stop) { running->run(stop); });
  };
  // Its own sandboxes.
  consume("runner-" + w->id_, events::ReadFilter{"sandbox", w->id_}, std::chrono::seconds(30),
          [worker](const events::RecordedEvent& e) {
            if (worker->handed_) worker->handed_->saw(e.stream_id(), e.version.value());
            worker->queue_->post(e.stream_id());
          });
  // Snapshots: every runner sees them; one wins each import (snapshots.hpp); an import can take minutes.
  consume("runner-" + w->id_ + "-snapshots", events::ReadFilter{"snapshot", ""}, std::chrono::seconds(600),
          [worker](const events::RecordedEvent& e) { worker->puller_->handle(e, worker->stopping_.get_token()); });
  // Sandboxes deleted while on no runner (archived ones): every runner removes what its host and
  // the shared object store still hold of them (idempotent, so all of them may).
  consume("runner-" + w->id_ + "-unplaced", events::ReadFilter{"sandbox", events::kUnrouted}, std::chrono::seconds(30),
          [worker](const events::RecordedEvent& e) {
            if (e.type == events::SandboxDestroyed::kType) worker->engine_->forget_destroyed(e.stream_id());
          });
  w->threads_.emplace_back([worker](std::stop_token stop) { worker->heartbeat_loop(stop); });
  w->threads_.emplace_back([worker](std::stop_token stop) { worker->guard_loop(stop); });
  spdlog::info("runner {} consuming ev.sandbox.{}.>", w->id_, w->id_);
  return w;
}

events::Result<void> Worker::register_with_platform() {
  // What this host offers the scheduler. Memory and disk sizes of sandboxes are limits, not
  // reservations (an idle sandbox uses a few MiB and its quota only what it writes), so both are
  // overcommitted (settings.cpp); RUNNER_MAX_SANDBOXES bounds the count whatever the sizes.
  const auto& s = settings_;
  const std::string registration = boost::json::serialize(boost::json::object{
      {"id", id_},
      {"region", s.region},
      {"endpoint", s.endpoint},
      {"capacity",
       {{"cpu", static_cast<int>(std::thread::hardware_concurrency())},
        {"memory_gib", s.memory_gib > 0 ? s.memory_gib : host_memory_gib() * s.memory_overcommit},
        {"disk_gib", s.disk_gib * s.disk_overcommit},
        {"max_sandboxes", s.max_sandboxes}}}});
  for (int attempt = 0;; ++attempt) {
    auto registered = api_->call("POST", "/runners", registration);
    if (registered) return {};
    if (attempt == 50) return make_error(ErrorCode::unavailable, "cannot register: " + registered.error().message);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void Worker::heartbeat_loop(const std::stop_token& stop) {
  std::map<std::string, std::chrono::steady_clock::time_point> reported;  // toolbox activity, per sandbox
  while (!stop.stop_requested()) {
    // A toolbox process still running is activity: the sandbox's auto-stop waits (at most one
    // report per sandbox every 30 s).
    const auto now = std::chrono::steady_clock::now();
    for (const auto& sandbox : engine_->toolbox_in_use(std::chrono::seconds(20))) {
      auto& last = reported[sandbox];
      if (now - last < std::chrono::seconds(30)) continue;
      last = now;
      if (auto r = api_->call("POST", "/proxy/sandboxes/" + sandbox + "/activity"); !r) {
        spdlog::warn("activity of {}: {}", sandbox, r.error().message);
      }
    }
    const auto body = boost::json::serialize(boost::json::object{
        {"load", {{"sandboxes", engine_->running()}, {"cpu_used", 0}, {"memory_used_gib", 0}, {"disk_used_gib", 0}}}});
    if (auto beat = api_->call("POST", "/runners/" + id_ + "/heartbeat", body); !beat) {
      spdlog::warn("heartbeat: {}", beat.error().message);
    }
    events::nap(stop, std::chrono::seconds(5));
  }
}

void Worker::guard_loop(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    engine_->defuse_fork_bombs();
    // A sandbox whose PID 1 died (memory, a crash) is noticed within a second and reported.
    for (const auto& sandbox : engine_->find_exits()) queue_->post(sandbox);
    events::nap(stop, std::chrono::seconds(1));
  }
}

void Worker::drain() {
  if (auto drained = api_->call("POST", "/runners/" + id_ + "/drain"); !drained) {
    spdlog::warn("drain: {}", drained.error().message);
  }
}

Worker::~Worker() {
  stopping_.request_stop();
  for (auto& t : threads_) t.request_stop();
  threads_.clear();  // joins
  queue_.reset();
  hand_offs_.reset();
  resolver_.reset();
  sni_gate_.reset();
  if (network_) network_->close_if_unused();
  spdlog::info("runner {} stopped; its sandboxes keep running", id_);
}

}  // namespace runner
