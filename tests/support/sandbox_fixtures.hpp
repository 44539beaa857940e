#pragma once
// Builds sandbox states the way the log would: by folding the events of a realistic history.
#include "events/deciders/sandbox.hpp"

#include <map>
#include <string>

namespace fixtures {

using namespace events;
using namespace events::sandbox;

inline const RunnerId kRunner1{"11111111-1111-1111-1111-111111111111"};
inline const RunnerId kRunner2{"22222222-2222-2222-2222-222222222222"};
inline const SandboxId kSandbox{"33333333-3333-3333-3333-333333333333"};
inline const OrganizationId kOrg{"44444444-4444-4444-4444-444444444444"};

inline SandboxCreated spec(bool dockerfile = false) {
  SandboxCreated c;
  c.sandbox_id = kSandbox;
  c.organization_id = kOrg;
  c.name = "box";
  c.snapshot = "default";
  c.user = "daytona";
  c.region = "local";
  c.env = {{"A", "1"}};
  c.labels = {{"code-toolbox-language", "python"}};
  if (dockerfile) c.dockerfile = "FROM busybox\n";
  return c;
}

// The events that bring a new sandbox to `target` along the usual path, on kRunner1.
inline Events history_to(SandboxState target) {
  using S = SandboxState;
  const auto& r = kRunner1;
  switch (target) {
    case S::creating: return {spec(), SandboxRunnerAssigned{r}};
    case S::pending_build: return {spec(true), SandboxRunnerAssigned{r}};
    case S::building_snapshot: return {spec(true), SandboxRunnerAssigned{r}, SandboxBuildingSnapshot{r}};
    case S::build_failed:
      return {spec(true), SandboxRunnerAssigned{r}, SandboxBuildingSnapshot{r},
              SandboxBuildFailed{r, "RUN step failed"}};
    case S::pulling_snapshot: return {spec(), SandboxRunnerAssigned{r}, SandboxPullingSnapshot{r}};
    case S::starting: return {spec(), SandboxRunnerAssigned{r}, SandboxStarting{r}};
    case S::started: return {spec(), SandboxRunnerAssigned{r}, SandboxStarted{r}};
    default: break;
  }
  auto h = history_to(S::started);
  auto add = [&](std::initializer_list<SandboxEvent> more) { h.insert(h.end(), more); };
  switch (target) {
    case S::stopping: add({SandboxStopRequested{}, SandboxStopping{r}}); break;
    case S::stopped: add({SandboxStopRequested{}, SandboxStopped{r}}); break;
    case S::archiving:
      add({SandboxStopRequested{}, SandboxStopped{r}, SandboxArchiveRequested{}, SandboxArchiving{r}});
      break;
    case S::archived:
      add({SandboxStopRequested{}, SandboxStopped{r}, SandboxArchiveRequested{}, SandboxArchiving{r},
           SandboxArchived{r, "archive/x.tar"}});
      break;
    case S::restoring:
      add({SandboxStopRequested{}, SandboxStopped{r}, SandboxArchiveRequested{}, SandboxArchiving{r},
           SandboxArchived{r, "archive/x.tar"}, SandboxStartRequested{}, SandboxRunnerAssigned{r},
           SandboxRestoring{r}});
      break;
    case S::destroying: add({SandboxDestroyRequested{}, SandboxDestroying{r}}); break;
    case S::destroyed: add({SandboxDestroyRequested{}, SandboxDestroying{r}, SandboxDestroyed{r}}); break;
    case S::error: add({SandboxErrored{r, "boom", true}}); break;
    default: break;
  }
  return h;
}

}  // namespace fixtures
