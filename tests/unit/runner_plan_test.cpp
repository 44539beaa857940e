// The runner's planner (runner-worker/include/runner/plan.hpp), as a table like the deciders':
// what the log wants × what the host shows → the steps, written as plan::describe prints them
// ("?" marks a step whose failure is only logged).
#include "runner/plan.hpp"
#include "support/catch.hpp"

using namespace runner::plan;
using S = events::SandboxState;
using D = events::DesiredState;
using C = Seen::Container;

namespace {

struct Row {
  const char* name;
  Wanted wanted;
  Seen seen;
  std::string_view steps;
};

Wanted want(D desired, S actual) { return Wanted{desired, actual, false, "", true}; }

}  // namespace

TEST_CASE("runner plan: every kind of target against what the host shows") {
  const std::vector<Row> rows = {
      // Create and start.
      {"first start", want(D::started, S::creating), {C::absent, false, false, false},
       "layer start net ready watch report(started)"},
      {"restart of a stopped one", want(D::started, S::stopped), {C::absent, true, false, false},
       "report(starting) layer start net ready watch report(started)"},
      {"a start after an error", want(D::started, S::error), {C::absent, true, false, false},
       "report(starting) layer start net ready watch report(started)"},
      {"restore from the archive", want(D::started, S::archived), {C::absent, false, true, false},
       "report(restoring) restore report(starting) layer start net ready watch report(started)"},
      {"restore half done before a crash", want(D::started, S::restoring), {C::absent, true, true, false},
       "report(starting) layer start net ready watch report(started)"},
      {"restore with the archive gone", want(D::started, S::archived), {C::absent, false, false, false}, "error"},
      {"already running: env, limits, the report it missed", want(D::started, S::starting),
       {C::running, true, false, false}, "watch env resources? net? report(started)"},
      {"running and reported", want(D::started, S::started), {C::running, true, false, false},
       "watch env resources? net?"},
      {"a created container left by a crash: started again", want(D::started, S::starting),
       {C::created, true, false, false}, "layer start net ready watch report(started)"},
      // PID 1 died.
      {"PID 1 died: an error, stopped, not restarted", want(D::started, S::started), {C::stopped, true, false, true},
       "unwatch exited remove? unmount?"},
      {"gone while the log says started, no death seen (runner restart): started again",
       want(D::started, S::started), {C::absent, true, false, false},
       "report(starting) layer start net ready watch report(started)"},
      // Stop and archive.
      {"stop a running one", want(D::stopped, S::started), {C::running, true, false, false},
       "unwatch report(stopping) stop unmount report(stopped)"},
      {"stop, the container gone already", want(D::stopped, S::stopping), {C::absent, true, false, false},
       "unwatch unmount report(stopped)"},
      {"stop after an error: no report, a leftover removed", want(D::stopped, S::error), {C::stopped, true, false, false},
       "unwatch remove? unmount"},
      {"archive a stopped one", want(D::archived, S::stopped), {C::absent, true, false, false},
       "unwatch unmount report(archiving) archive remove-local? report(archived)"},
      {"archive half done before a crash", want(D::archived, S::archiving), {C::absent, false, true, false},
       "unwatch unmount report(archived)"},
      {"archived already", want(D::archived, S::archived), {C::absent, false, true, false}, "unwatch unmount"},
      // Destroy.
      {"destroy a running one", want(D::destroyed, S::started), {C::running, true, false, false},
       "unwatch report(destroying) stop destroy report(destroyed)"},
      {"destroy again after a crash", want(D::destroyed, S::destroying), {C::absent, false, false, false},
       "unwatch stop destroy report(destroyed)"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(describe(plan(row.wanted, row.seen)) == row.steps);
  }
}

TEST_CASE("runner plan: an image sandbox starts only from an active snapshot") {
  Wanted w = want(D::started, S::creating);
  w.from_image = true;
  w.image_name = "busybox";
  w.image_active = false;
  const auto steps = plan(w, Seen{});
  REQUIRE(describe(steps) == "error");
  CHECK_THAT(steps[0].reason, Catch::Contains("snapshot busybox is not active"));
  w.image_active = true;
  CHECK(describe(plan(w, Seen{})) == "layer start net ready watch report(started)");
}
