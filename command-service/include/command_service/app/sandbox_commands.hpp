#pragma once
// Sandbox creates as the routes make them: a new sandbox (sandbox_routes.cpp) or a claimed warm
// one (warm_pools.cpp). Both claim the sandbox's name in the same transaction as its events.
#include "command_service/http/api.hpp"
#include "command_service/http/sandbox_view.hpp"
#include "events/deciders/sandbox.hpp"
#include "events/store/event_store.hpp"

#include <functional>
#include <optional>

namespace command_service {

struct Outcome {
  SandboxView view;
  std::int64_t position = 0;  // of the last event appended (0: nothing appended)
  std::string runner_endpoint;  // its runner's forwarding endpoint, when the command learnt it (a warm claim)
};

// The sandbox as `state` has it, with the row's region, user and creation time.
events::Result<Outcome> outcome_of(DbContext& db, const events::sandbox::State& state, std::int64_t position);

// The sandbox as its stream has it (the aggregate cache and the events since), for a read that
// must not wait for the projection; nullopt when it does not exist. The caller decides who may see it.
std::optional<SandboxView> view_from_stream(DbContext& db, const events::SandboxId& id);

// What a create appends to the sandbox's stream, at which expected version, and the state after.
struct SandboxEvents {
  events::sandbox::Events events;
  events::ExpectedVersion expected;
  events::sandbox::State after;
};
using MakeSandboxEvents = std::function<events::Result<SandboxEvents>()>;

// Claims `name` in `org` and appends `make()`'s events to sandbox `id` in one transaction;
// `make` runs again after a conflict. A name still held by a live sandbox is already_exists.
events::Result<Outcome> create_named(DbContext& db, const Call& call, const events::OrganizationId& org,
                                     const std::string& name, const events::SandboxId& id,
                                     const MakeSandboxEvents& make);

// Whether a live sandbox of `org` holds `name` (a deleted one's name is free again).
events::Result<bool> name_in_use(DbContext& db, const events::OrganizationId& org, const std::string& name);

// A create that a warm pool can serve: claims one of the pool's started sandboxes for the caller
// (SandboxClaimed). Nothing when no pool matches or none is ready: the create goes the cold way.
std::optional<events::Result<Outcome>> claim_warm(DbContext& db, const Call& call, const events::SandboxCreated& spec,
                                                  const std::string& forward_key, Time now);

}  // namespace command_service
