#include "events/deciders/sandbox.hpp"

#include "events/catalogue/warm_pool.hpp"
#include "events/deciders/validate.hpp"

#include <algorithm>
#include <initializer_list>

namespace events::sandbox {
namespace {

bool in(SandboxState s, std::initializer_list<SandboxState> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}
bool in(DesiredState s, std::initializer_list<DesiredState> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

std::string state_text(const State& s) {
  return "'" + std::string(to_string(s.actual)) + "' (desired '" +
         std::string(to_string(s.desired)) + "')";
}

Error invalid(const State& s, std::string_view what) {
  return make_error(ErrorCode::invalid_transition,
                    "cannot " + std::string(what) + " a sandbox in state " + state_text(s));
}

Error late(const State& s, std::string_view reported) {
  return make_error(ErrorCode::late_report, "report '" + std::string(reported) +
                                                "' does not fit a sandbox in state " + state_text(s));
}

Error duplicate(std::string_view reported) {
  return make_error(ErrorCode::duplicate_report,
                    "report '" + std::string(reported) + "' was already applied");
}

using S = SandboxState;
using D = DesiredState;

struct Decider {
  const State& s;

  Result<Events> operator()(const Create& c) const {
    if (c.spec.organization_id == warm_pool_organization()) {
      return make_error(ErrorCode::invalid_argument, "this organization id is reserved for warm pools");
    }
    if (auto bad = check_spec(c.spec)) return *bad;
    return Events{c.spec};
  }

  std::optional<Error> check_spec(const SandboxCreated& spec) const {
    if (s.exists) return make_error(ErrorCode::already_exists, "sandbox already exists");
    if (auto bad = validate::sandbox_name(spec.name)) return bad;
    if (auto bad = validate::resources(spec.resources)) return bad;
    if (auto bad = validate::env(spec.env)) return bad;
    if (auto bad = validate::labels(spec.labels)) return bad;
    if (auto bad = validate::timer(LifecycleTimer::auto_stop, spec.auto_stop_minutes)) return bad;
    if (auto bad = validate::timer(LifecycleTimer::auto_archive, spec.auto_archive_minutes)) return bad;
    if (auto bad = validate::timer(LifecycleTimer::auto_delete, spec.auto_delete_minutes)) return bad;
    if (auto bad = validate::volumes(spec.volumes)) return bad;
    return std::nullopt;
  }

  Result<Events> operator()(const CreateWarm& c) const {
    if (c.spec.organization_id != warm_pool_organization()) {
      return make_error(ErrorCode::invalid_argument, "a warm sandbox belongs to the warm-pool organization until claimed");
    }
    if (auto bad = check_spec(c.spec)) return *bad;
    return Events{c.spec, SandboxJoinedWarmPool{c.pool}};
  }

  Result<Events> operator()(const Claim& c) const {
    if (!unclaimed_warm(s)) return invalid(s, "claim");
    if (s.actual != S::started || s.desired != D::started || !s.runner) {
      return make_error(ErrorCode::invalid_transition, "warm sandbox is not ready to be claimed: state " + state_text(s));
    }
    if (c.claim.organization_id == warm_pool_organization()) {
      return make_error(ErrorCode::invalid_argument, "a claim must name the organization that takes the sandbox");
    }
    if (auto bad = validate::sandbox_name(c.claim.name)) return *bad;
    if (auto bad = validate::env(c.claim.env)) return *bad;
    if (auto bad = validate::labels(c.claim.labels)) return *bad;
    if (auto bad = validate::timer(LifecycleTimer::auto_stop, c.claim.auto_stop_minutes)) return *bad;
    if (auto bad = validate::timer(LifecycleTimer::auto_archive, c.claim.auto_archive_minutes)) return *bad;
    if (auto bad = validate::timer(LifecycleTimer::auto_delete, c.claim.auto_delete_minutes)) return *bad;
    return Events{c.claim};
  }

  Result<Events> operator()(const Start&) const {
    if (s.desired == D::destroyed) return invalid(s, "start");
    if (s.actual == S::build_failed) {
      return make_error(ErrorCode::invalid_transition,
                        "cannot start a sandbox whose build failed: " + s.error_reason);
    }
    if (in(s.actual, {S::stopped, S::archived})) return Events{SandboxStartRequested{}};
    if (s.actual == S::error) {
      if (!s.recoverable) {
        return make_error(ErrorCode::invalid_transition,
                          "sandbox is in an unrecoverable error: " + s.error_reason);
      }
      return Events{SandboxStartRequested{}};
    }
    if (s.desired == D::started) return Events{};
    return invalid(s, "start");
  }

  Result<Events> operator()(const Stop& c) const {
    if (s.actual == S::started && s.desired == D::started) {
      return Events{SandboxStopRequested{c.force, c.reason}};
    }
    if (in(s.desired, {D::stopped, D::archived}) && in(s.actual, {S::stopping, S::stopped})) {
      return Events{};
    }
    return invalid(s, "stop");
  }

  Result<Events> operator()(const Archive& c) const {
    if (s.actual == S::stopped && s.desired == D::stopped) {
      return Events{SandboxArchiveRequested{c.reason}};
    }
    if (s.desired == D::archived && in(s.actual, {S::stopped, S::archiving, S::archived})) {
      return Events{};
    }
    return invalid(s, "archive");
  }

  Result<Events> operator()(const Destroy& c) const {
    if (s.desired == D::destroyed) return Events{};
    if (!s.runner) return Events{SandboxDestroyRequested{c.reason}, SandboxDestroyed{std::nullopt}};
    return Events{SandboxDestroyRequested{c.reason}};
  }

  Result<Events> operator()(const ReplaceLabels& c) const {
    if (auto bad = validate::labels(c.labels)) return *bad;
    if (c.labels == s.labels) return Events{};
    return Events{SandboxLabelsReplaced{c.labels}};
  }

  Result<Events> operator()(const SetTimer& c) const {
    if (auto bad = validate::timer(c.timer, c.minutes)) return *bad;
    const int current = c.timer == LifecycleTimer::auto_stop      ? s.auto_stop_minutes
                        : c.timer == LifecycleTimer::auto_archive ? s.auto_archive_minutes
                                                                  : s.auto_delete_minutes;
    if (current == c.minutes) return Events{};
    return Events{SandboxTimerSet{c.timer, c.minutes}};
  }

  Result<Events> operator()(const RecordActivity& c) const {
    if (c.at_ms <= s.last_activity_ms) return Events{};
    return Events{SandboxActivityRecorded{c.at_ms}};
  }

  Result<Events> operator()(const Resize& c) const {
    if (auto bad = validate::resources(c.resources)) return *bad;
    if (s.desired == D::destroyed || !in(s.actual, {S::started, S::stopped})) {
      return invalid(s, "resize");
    }
    if (c.resources == s.resources) return Events{};
    return Events{SandboxResized{c.resources}};
  }

  Result<Events> operator()(const SetNetwork& c) const {
    if (auto bad = network::validate(c.policy)) return *bad;
    if (c.limit) {
      if (auto bad = network::validate(*c.limit)) return make_error(ErrorCode::invalid_argument, "limit: " + bad->message);
    }
    if (s.desired == D::destroyed) return invalid(s, "change the network of");
    const auto proxy = c.outbound_proxy_url.value_or(s.outbound_proxy_url);
    if (c.policy == s.network && c.limit == s.network_limit && proxy == s.outbound_proxy_url) return Events{};
    return Events{SandboxNetworkChanged{s.network, c.policy, c.limit, proxy, c.reason}};
  }

  Result<Events> operator()(const AssignRunner& c) const {
    if (s.runner) {
      return make_error(ErrorCode::invalid_transition,
                        "sandbox is already on runner " + s.runner->str());
    }
    if (s.desired == D::started &&
        in(s.actual, {S::creating, S::pending_build, S::archived, S::error})) {
      return Events{SandboxRunnerAssigned{c.runner}};
    }
    return invalid(s, "assign a runner to");
  }

  Result<Events> operator()(const FailScheduling& c) const {
    if (!s.runner && s.desired == D::started && s.actual == S::error) return Events{};
    if (!s.runner && s.desired == D::started &&
        in(s.actual, {S::creating, S::pending_build, S::archived})) {
      return Events{SandboxSchedulingFailed{c.reason}};
    }
    return invalid(s, "fail scheduling of");
  }

  // Checks common to every runner report.
  std::optional<Error> check_reporter(const RunnerId& runner, std::string_view what) const {
    if (s.actual == S::destroyed) return late(s, what);
    if (!s.runner || *s.runner != runner) {
      return make_error(ErrorCode::wrong_runner,
                        "runner " + runner.str() + " does not own this sandbox (owner: " +
                            (s.runner ? s.runner->str() : std::string("none")) + ")");
    }
    return std::nullopt;
  }

  Result<Events> operator()(const Report& r) const {
    const std::string_view what = reported_name(r.state);
    if (auto bad = check_reporter(r.runner, what)) return *bad;
    auto fact = [&](auto event, SandboxState reached, bool fits) -> Result<Events> {
      if (s.actual == reached) return duplicate(what);
      if (!fits) return late(s, what);
      return Events{std::move(event)};
    };
    const auto& id = r.runner;
    switch (r.state) {
      case Reported::pulling_snapshot:
        return fact(SandboxPullingSnapshot{id}, S::pulling_snapshot,
                    s.desired == D::started && s.actual == S::creating);
      case Reported::building_snapshot:
        return fact(SandboxBuildingSnapshot{id}, S::building_snapshot,
                    s.desired == D::started && s.actual == S::pending_build);
      case Reported::starting:
        return fact(SandboxStarting{id}, S::starting,
                    s.desired == D::started &&
                        in(s.actual, {S::creating, S::pulling_snapshot, S::building_snapshot,
                                      S::stopped, S::restoring, S::error}));
      case Reported::started:
        return fact(SandboxStarted{id}, S::started,
                    s.desired == D::started &&
                        in(s.actual, {S::creating, S::pulling_snapshot, S::building_snapshot,
                                      S::starting, S::stopped, S::restoring, S::error}));
      case Reported::stopping:
        return fact(SandboxStopping{id}, S::stopping,
                    in(s.desired, {D::stopped, D::archived}) && s.actual == S::started);
      case Reported::stopped:
        return fact(SandboxStopped{id}, S::stopped,
                    in(s.desired, {D::stopped, D::archived}) &&
                        in(s.actual, {S::started, S::stopping}));
      case Reported::archiving:
        return fact(SandboxArchiving{id}, S::archiving,
                    s.desired == D::archived && s.actual == S::stopped);
      case Reported::archived:
        return fact(SandboxArchived{id, r.archive_ref}, S::archived,
                    s.desired == D::archived && in(s.actual, {S::stopped, S::archiving}));
      case Reported::restoring:
        return fact(SandboxRestoring{id}, S::restoring,
                    s.desired == D::started && s.actual == S::archived);
      case Reported::destroying:
        return fact(SandboxDestroying{id}, S::destroying, s.desired == D::destroyed);
      case Reported::destroyed:
        return fact(SandboxDestroyed{id}, S::destroyed, s.desired == D::destroyed);
    }
    return late(s, what);
  }

  Result<Events> operator()(const ReportError& r) const {
    if (auto bad = check_reporter(r.runner, "error")) return *bad;
    if (s.actual == S::error && s.error_reason == r.reason) return duplicate("error");
    return Events{SandboxErrored{r.runner, r.reason, r.recoverable}};
  }

  Result<Events> operator()(const ReportBuildFailed& r) const {
    if (auto bad = check_reporter(r.runner, "build_failed")) return *bad;
    if (s.actual == S::build_failed) return duplicate("build_failed");
    if (!in(s.actual, {S::pending_build, S::building_snapshot})) return late(s, "build_failed");
    return Events{SandboxBuildFailed{r.runner, r.reason}};
  }

  Result<Events> operator()(const ReportOomKilled& r) const {
    if (auto bad = check_reporter(r.runner, "oom_killed")) return *bad;
    if (s.actual != S::started) return late(s, "oom_killed");
    std::string reason = "a process";
    if (!r.process.empty()) reason += " (" + r.process + ")";
    reason += " was killed for exceeding the sandbox memory limit of " +
              std::to_string(r.memory_limit_bytes / (std::int64_t{1024} * 1024)) + " MiB";
    return Events{SandboxOomKilled{r.runner, r.memory_limit_bytes, r.process, reason}};
  }

  static std::string_view reported_name(Reported r) {
    switch (r) {
      case Reported::pulling_snapshot: return "pulling_snapshot";
      case Reported::building_snapshot: return "building_snapshot";
      case Reported::starting: return "starting";
      case Reported::started: return "started";
      case Reported::stopping: return "stopping";
      case Reported::stopped: return "stopped";
      case Reported::archiving: return "archiving";
      case Reported::archived: return "archived";
      case Reported::restoring: return "restoring";
      case Reported::destroying: return "destroying";
      case Reported::destroyed: return "destroyed";
    }
    return "?";
  }
};

bool is_user_command(const Command& c) {
  return std::holds_alternative<Start>(c) || std::holds_alternative<Stop>(c) ||
         std::holds_alternative<Archive>(c) || std::holds_alternative<Destroy>(c) ||
         std::holds_alternative<ReplaceLabels>(c) || std::holds_alternative<SetTimer>(c) ||
         std::holds_alternative<RecordActivity>(c) || std::holds_alternative<Resize>(c) ||
         std::holds_alternative<SetNetwork>(c) ||
         std::holds_alternative<AssignRunner>(c) || std::holds_alternative<FailScheduling>(c) ||
         std::holds_alternative<Claim>(c);
}

struct Evolver {
  State& s;
  void operator()(const SandboxCreated& e) {
    s.exists = true;
    s.id = e.sandbox_id;
    s.organization_id = e.organization_id;
    s.name = e.name;
    s.snapshot = e.snapshot;
    s.region = e.region;
    s.user = e.user;
    s.resources = e.resources;
    s.env = e.env;
    s.labels = e.labels;
    s.is_public = e.is_public;
    s.network_block_all = e.network_block_all;
    s.network = NetworkPolicy{};
    s.network.block_all = e.network_block_all;
    s.volumes = e.volumes;
    s.auto_stop_minutes = e.auto_stop_minutes;
    s.auto_archive_minutes = e.auto_archive_minutes;
    s.auto_delete_minutes = e.auto_delete_minutes;
    s.builds_from_dockerfile = e.dockerfile.has_value();
    s.actual = s.builds_from_dockerfile ? S::pending_build : S::creating;
    s.desired = D::started;
  }
  void operator()(const SandboxRunnerAssigned& e) { s.runner = e.runner_id; }
  void operator()(const SandboxSchedulingFailed& e) { fail(e.reason, true); }
  void operator()(const SandboxStartRequested&) { s.desired = D::started; }
  void operator()(const SandboxStopRequested&) { s.desired = D::stopped; }
  void operator()(const SandboxArchiveRequested&) { s.desired = D::archived; }
  void operator()(const SandboxDestroyRequested&) { s.desired = D::destroyed; }
  void operator()(const SandboxLabelsReplaced& e) { s.labels = e.labels; }
  void operator()(const SandboxTimerSet& e) {
    switch (e.timer) {
      case LifecycleTimer::auto_stop: s.auto_stop_minutes = e.minutes; break;
      case LifecycleTimer::auto_archive: s.auto_archive_minutes = e.minutes; break;
      case LifecycleTimer::auto_delete: s.auto_delete_minutes = e.minutes; break;
    }
  }
  void operator()(const SandboxActivityRecorded& e) { s.last_activity_ms = e.at_ms; }
  void operator()(const SandboxResized& e) { s.resources = e.resources; }
  void operator()(const SandboxNetworkChanged& e) {
    s.network = e.after;
    s.network_block_all = e.after.block_all;
    s.network_limit = e.limit;
    s.outbound_proxy_url = e.outbound_proxy_url;
  }
  void operator()(const SandboxPullingSnapshot&) { s.actual = S::pulling_snapshot; }
  void operator()(const SandboxBuildingSnapshot&) { s.actual = S::building_snapshot; }
  void operator()(const SandboxStarting&) { s.actual = S::starting; }
  void operator()(const SandboxStarted&) {
    s.actual = S::started;
    s.error_reason.clear();
    s.recoverable = false;
  }
  void operator()(const SandboxStopping&) { s.actual = S::stopping; }
  void operator()(const SandboxStopped&) { s.actual = S::stopped; }
  void operator()(const SandboxArchiving&) { s.actual = S::archiving; }
  void operator()(const SandboxArchived& e) {
    s.actual = S::archived;
    s.runner.reset();
    s.archive_ref = e.archive_ref;
  }
  void operator()(const SandboxRestoring&) { s.actual = S::restoring; }
  void operator()(const SandboxDestroying&) { s.actual = S::destroying; }
  void operator()(const SandboxDestroyed&) {
    s.actual = S::destroyed;
    s.desired = D::destroyed;
    s.runner.reset();
  }
  // A runner's error stops a sandbox that was meant to run: nothing restarts it behind the user's
  // back (a sandbox whose PID 1 died of memory would otherwise die again and again); a start
  // asks for it again.
  void operator()(const SandboxErrored& e) {
    fail(e.reason, e.recoverable);
    if (s.desired == D::started) s.desired = D::stopped;
  }
  void operator()(const SandboxBuildFailed& e) {
    s.actual = S::build_failed;
    s.error_reason = e.reason;
    s.recoverable = false;
  }
  void operator()(const SandboxOomKilled&) { ++s.oom_kills; }
  void operator()(const SandboxJoinedWarmPool& e) { s.warm_pool = e.pool_id; }
  // Back to starting until the runner has given the running sandbox the claimer's env, unless
  // the API did before the claim.
  void operator()(const SandboxClaimed& e) {
    s.claimed = true;
    s.organization_id = e.organization_id;
    s.name = e.name;
    s.user = e.user;
    s.env = e.env;
    s.labels = e.labels;
    s.is_public = e.is_public;
    s.auto_stop_minutes = e.auto_stop_minutes;
    s.auto_archive_minutes = e.auto_archive_minutes;
    s.auto_delete_minutes = e.auto_delete_minutes;
    s.last_activity_ms = e.at_ms;
    s.actual = e.env_applied ? S::started : S::starting;
  }

  void fail(const std::string& reason, bool recoverable) {
    s.actual = S::error;
    s.error_reason = reason;
    s.recoverable = recoverable;
  }
};

}  // namespace

bool unclaimed_warm(const State& s) { return s.exists && s.warm_pool.has_value() && !s.claimed; }

Result<Events> decide(const Command& command, const State& state) {
  if (!std::holds_alternative<Create>(command) && !std::holds_alternative<CreateWarm>(command)) {
    if (!state.exists) return make_error(ErrorCode::not_found, "sandbox does not exist");
    if (state.actual == S::destroyed && is_user_command(command)) {
      return make_error(ErrorCode::not_found, "sandbox was destroyed");
    }
  }
  return std::visit(Decider{state}, command);
}

State evolve(State state, const SandboxEvent& event) {
  std::visit(Evolver{state}, event);
  return state;
}

State replay_onto(State state, const Events& events) {
  for (const auto& e : events) state = evolve(std::move(state), e);
  return state;
}

State replay(const Events& events) { return replay_onto(State{}, events); }

std::optional<RunnerId> routing_runner(const State& before, const State& after) {
  if (after.runner) return after.runner;
  return before.runner;
}

}  // namespace events::sandbox
