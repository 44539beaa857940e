#include "runner/plan.hpp"

namespace runner::plan {

namespace {

using S = events::SandboxState;
using D = events::DesiredState;
using C = Seen::Container;

// Builds the plan, tracking the actual state its reports leave in the log.
struct Planner {
  S actual;
  std::vector<Step> steps;

  void add(Op op, bool must = true) { steps.push_back(Step{op, S::unknown, {}, true, must}); }
  void report(S state) {
    steps.push_back(Step{Op::report, state});
    actual = state;
  }
  void error(std::string reason) {
    steps.push_back(Step{Op::report_error, S::unknown, std::move(reason)});
    actual = S::error;
  }
  void stop(bool graceful, bool must = true) { steps.push_back(Step{Op::stop, S::unknown, {}, graceful, must}); }
};

}  // namespace

std::vector<Step> plan(const Wanted& w, const Seen& seen) {
  Planner p{w.actual, {}};
  const bool running = seen.container == C::running;
  if (w.desired != D::started) p.add(Op::unwatch);

  if (w.desired == D::destroyed) {
    if (p.actual != S::destroying) p.report(S::destroying);
    p.stop(true);
    p.add(Op::destroy_files);
    p.report(S::destroyed);
    return p.steps;
  }

  if (w.desired == D::started) {
    if (!running && seen.exited && p.actual == S::started) {
      // PID 1 died under a running sandbox: say why and leave it stopped (the error makes the
      // log's desired state "stopped"; a start asks for it again).
      p.add(Op::unwatch);
      p.steps.push_back(Step{Op::report_exit});
      p.actual = S::error;
      p.stop(false, false);
      p.add(Op::unmount, false);
      return p.steps;
    }
    if (running) {
      p.add(Op::watch);
      p.add(Op::apply_env);
      p.add(Op::apply_resources, false);
      p.add(Op::network, false);  // a policy change; a failure closes the sandbox's egress (network.cpp)
      if (p.actual != S::started) p.report(S::started);
      return p.steps;
    }
    if (!seen.has_layer && (seen.has_archive || p.actual == S::archived || p.actual == S::restoring)) {
      if (!seen.has_archive) {
        p.error("the archive of this sandbox is missing from the object store; it cannot be restored");
        return p.steps;
      }
      if (p.actual != S::restoring) p.report(S::restoring);
      p.add(Op::restore);
    }
    // A first start reports only `started` (`creating` says as much as `starting` would, and the
    // report is a synchronous append on the create's path); a restart or restore says `starting`.
    if (p.actual != S::starting && p.actual != S::creating) p.report(S::starting);
    if (w.from_image && !w.image_active) {
      p.error("snapshot " + w.image_name + " is not active: the sandbox cannot start from it");
      return p.steps;
    }
    p.add(Op::create_layer);
    p.add(Op::start);
    p.add(Op::network);  // while the daemon starts
    p.add(Op::wait_ready);
    p.add(Op::watch);
    p.report(S::started);
    return p.steps;
  }

  if (w.desired == D::stopped || w.desired == D::archived) {
    if (running) {
      if (p.actual == S::started) p.report(S::stopping);
      p.stop(true);
    } else if (seen.container != C::absent) {
      p.stop(false, false);  // a leftover container record
    }
    p.add(Op::unmount);
    if (p.actual == S::started || p.actual == S::stopping) p.report(S::stopped);
    if (w.desired == D::archived && seen.has_layer) {
      if (p.actual != S::archiving) p.report(S::archiving);
      p.add(Op::archive);
      p.add(Op::remove_local, false);  // the archive is all that stays: the bundle goes with the layer
      p.report(S::archived);
    } else if (w.desired == D::archived && seen.has_archive && p.actual != S::archived) {
      p.report(S::archived);
    }
    return p.steps;
  }
  return p.steps;
}

std::string describe(const std::vector<Step>& steps) {
  std::string out;
  for (const auto& s : steps) {
    if (!out.empty()) out += ' ';
    switch (s.op) {
      case Op::report: out += "report(" + std::string(events::to_string(s.state)) + ")"; break;
      case Op::report_error: out += "error"; break;
      case Op::report_exit: out += "exited"; break;
      case Op::stop: out += s.graceful ? "stop" : "remove"; break;
      case Op::destroy_files: out += "destroy"; break;
      case Op::unmount: out += "unmount"; break;
      case Op::watch: out += "watch"; break;
      case Op::unwatch: out += "unwatch"; break;
      case Op::apply_env: out += "env"; break;
      case Op::apply_resources: out += "resources"; break;
      case Op::restore: out += "restore"; break;
      case Op::create_layer: out += "layer"; break;
      case Op::start: out += "start"; break;
      case Op::network: out += "net"; break;
      case Op::wait_ready: out += "ready"; break;
      case Op::archive: out += "archive"; break;
      case Op::remove_local: out += "remove-local"; break;
    }
    if (!s.must) out += '?';
  }
  return out;
}

}  // namespace runner::plan
