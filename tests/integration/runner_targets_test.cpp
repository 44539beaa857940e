// Target hand-offs (events/bus/runner_targets.hpp): after each append routed to a runner the API
// publishes, on that runner's subject only, what the sandbox should be as of its newest event,
// and the runner converges from it instead of asking (runner/handed_targets.hpp).
#include "runner_fixture.hpp"

#include "events/bus/runner_targets.hpp"
#include "events/store/pg_event_store.hpp"

#include <nats/nats.h>

#include <mutex>
#include <sstream>
#include <thread>

namespace {

using namespace runner_testing;

// Every hand-off published on one runner's subject, as a runner would hear it.
class Heard {
 public:
  Heard(Api& api, const RunnerId& runner)
      : listener_(*api.nats, runner, [this](wire::TargetHandOff h) {
          std::lock_guard lock(mutex_);
          seen_.push_back(std::move(h));
        }) {
    REQUIRE(listener_.ok());
    REQUIRE(natsConnection_Flush(api.nats->connection()) == NATS_OK);
  }
  std::vector<wire::TargetHandOff> of(const std::string& sandbox) {
    std::lock_guard lock(mutex_);
    std::vector<wire::TargetHandOff> out;
    for (const auto& h : seen_) {
      if (h.sandbox_id.str() == sandbox) out.push_back(h);
    }
    return out;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return seen_.size();
  }

 private:
  std::mutex mutex_;
  std::vector<wire::TargetHandOff> seen_;
  bus::TargetListener listener_;
};

// The newest event's version of a sandbox's stream.
std::int64_t newest_version(Api& api, const std::string& sandbox) {
  PgEventStore store(api.conn);
  auto events = store.read_stream(StreamName::of("sandbox", SandboxId{sandbox}));
  REQUIRE(events);
  REQUIRE(!events->empty());
  return events->back().version.value();
}

// Waits until the newest hand-off of `sandbox` is for its newest event, and returns it.
std::optional<wire::TargetHandOff> caught_up(Api& api, Heard& heard, const std::string& sandbox) {
  std::optional<wire::TargetHandOff> last;
  eventually([&] {
    const auto all = heard.of(sandbox);
    if (all.empty()) return false;
    last = all.back();
    return last->version == newest_version(api, sandbox);
  }, std::chrono::seconds(5));
  return last;
}

// The runner's log line for the start of `sandbox` (its timings).
std::string start_line(RunnerProcess& r, const std::string& sandbox) {
  std::istringstream log(r.log());
  for (std::string line; std::getline(log, line);) {
    if (line.find("sandbox " + sandbox + ": timings") != std::string::npos) return line;
  }
  return "";
}

}  // namespace

TEST_CASE("runner targets: each append routed to a runner hands it the target, only it, and it starts from it", "[root]") {
  Api api;
  // What is tested is that a hand-off is used, not how soon it comes: the runner waits for one up
  // to 2 s here, not 20 ms (a loaded debug build can take longer to hand one over).
  setenv("RUNNER_HAND_OFF_WAIT_MS", "2000", 1);
  RunnerProcess r(api);
  unsetenv("RUNNER_HAND_OFF_WAIT_MS");
  const auto runner = RunnerId{runner_ready(api, r)};
  Heard mine(api, runner);
  Heard elsewhere(api, RunnerId::generate());

  const auto id = create_started(api, r, R"({"env": {"WHO": "a"}, "cpu": 1, "memory": 1, "disk": 3})");
  // The create itself was handed over: the runner's start line says where its target came from.
  CHECK_THAT(start_line(r, id), Catch::Contains("(target handed)"));

  // After `started`, the last hand-off is the sandbox as the log has it now.
  auto last = caught_up(api, mine, id);
  REQUIRE(last);
  REQUIRE(last->target);
  CHECK(last->target->id.str() == id);
  CHECK(last->target->desired == DesiredState::started);
  CHECK(last->target->actual == SandboxState::started);
  CHECK(last->target->env.at("WHO") == "a");
  CHECK(last->target->resources.disk_gib == 3);
  // Versions only go up, one hand-off per look of the API at the log (events seen together are one).
  const auto all = mine.of(id);
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i].version > all[i - 1].version);

  // A stop is handed over too, and the runner stops the sandbox.
  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/stop").status == 200);
  REQUIRE_REACHES(api, r, id, "stopped");
  last = caught_up(api, mine, id);
  REQUIRE(last);
  REQUIRE(last->target);
  CHECK(last->target->desired == DesiredState::stopped);

  // Deleted: the last hand-off says it is no longer this runner's (no target), as the look-up's
  // 404 does, and the runner removes it.
  REQUIRE(api.call("DELETE", "/api/sandbox/" + id).status == 200);
  REQUIRE_REACHES(api, r, id, "gone");
  const bool destroyed = eventually([&] {  // the runner has reported it removed: the stream's last event
    PgEventStore store(api.conn);
    auto events = store.read_stream(StreamName::of("sandbox", SandboxId{id}));
    return events && !events->empty() && events->back().type == SandboxDestroyed::kType;
  });
  INFO("runner log:\n" << r.log());
  REQUIRE(destroyed);
  last = caught_up(api, mine, id);
  REQUIRE(last);
  CHECK_FALSE(last->target);
  CHECK(eventually([&] { return !r.crun.state(id); }));

  // A running sandbox deleted is destroyed once: the reconcile that the runner's own `destroying`
  // report started (it came while the container stopped) waits for a target as new as the
  // `destroyed` report, so it neither destroys again nor sends a second `destroyed`, which the API
  // would refuse (the sandbox has no runner any more). That reconcile came within 150 ms of the
  // first one; a second is given to show.
  const auto running = create_started(api, r, "{}");
  REQUIRE(api.call("DELETE", "/api/sandbox/" + running).status == 200);
  REQUIRE_REACHES(api, r, running, "gone");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto log = r.log();
  INFO("runner log:\n" << log);
  CHECK(log.find("sandbox " + running + ": report state destroyed refused") == std::string::npos);
  std::size_t destroys = 0;
  const auto planned = "sandbox " + running + ": desired destroyed";
  for (auto at = log.find(planned); at != std::string::npos; at = log.find(planned, at + 1)) ++destroys;
  CHECK(destroys == 1);

  // Another runner heard none of it.
  CHECK(elsewhere.count() == 0);
}
