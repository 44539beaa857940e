#pragma once
// Who may do what: the one authorization function of the platform. Pure; every use case of the
// command-service, every runner report and every proxy look-up asks it. A refusal is answered as
// if the resource did not exist (the caller learns nothing about other organizations).
//
//   caller            may
//   ----------------  -----------------------------------------------------------------------
//   API key of org O  everything on O's own sandboxes, volumes, snapshots, audit and events;
//                     read and use general snapshots (no owner); nothing of another org
//   admin key         the admin resources (runners, organizations, warm pools, placements);
//                     never a sandbox's toolbox or previews
//   preview token     preview of the one sandbox port it was signed for, until it expires
//   nobody            preview of a public sandbox's ports
//   runner R          reports about the sandboxes assigned to R
//   SSH token         an SSH session into the one sandbox it was granted for (ssh-gateway/),
//                     while the token is neither revoked nor expired
// The toolbox port (2280) is never a preview: only the toolbox route with an API key reaches it.
#include "events/ids.hpp"

#include <optional>
#include <variant>

namespace events::access {

inline constexpr int kToolboxPort = 2280;

struct Anonymous {};
struct ApiKeyCaller {
  OrganizationId organization;
};
struct AdminCaller {};
// A preview token that verified (tokens.hpp): scoped to one sandbox port.
struct PreviewCaller {
  SandboxId sandbox;
  int port = 0;
};
struct RunnerCaller {
  RunnerId runner;
};
// An SSH access token that is active (deciders/ssh_access.hpp): scoped to one sandbox.
struct SshCaller {
  SandboxId sandbox;
};
using Caller = std::variant<Anonymous, ApiKeyCaller, AdminCaller, PreviewCaller, RunnerCaller, SshCaller>;

enum class Action {
  read,     // get, list, follow
  create,   // make a new resource in the caller's organization
  change,   // lifecycle commands, labels, timers, resize
  remove,   // delete
  use,      // name a snapshot or mount a volume in a create
  toolbox,  // reach the sandbox daemon through the toolbox route
  preview,  // reach a port of the sandbox through a preview URL
  report,   // a runner's report about a sandbox it runs
  operate,  // admin resources
  ssh,      // an SSH session into the sandbox (shell, exec, file transfer, port forwarding)
};

enum class Kind { sandbox, volume, snapshot, audit, event_stream, webhook, admin };

struct Resource {
  Kind kind = Kind::sandbox;
  std::optional<OrganizationId> owner;  // none: a general resource (the default snapshot)
  bool is_public = false;               // a public sandbox's previews are open
  int port = 0;                         // for preview
  std::optional<SandboxId> sandbox;     // for preview tokens
  std::optional<RunnerId> runner;       // the runner the sandbox is assigned to
};

bool authorize(const Caller& caller, Action action, const Resource& resource);

// Resources, spelled briefly where they are checked.
Resource sandbox(const OrganizationId& owner, std::optional<RunnerId> runner = std::nullopt);
Resource sandbox_port(const SandboxId& id, const OrganizationId& owner, bool is_public, int port);
Resource sandbox_shell(const SandboxId& id, const OrganizationId& owner);
Resource owned(Kind kind, std::optional<OrganizationId> owner);
Resource admin_resource();

}  // namespace events::access
