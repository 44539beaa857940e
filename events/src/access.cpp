#include "events/access.hpp"

namespace events::access {

namespace {

bool user_action(Action a) {
  switch (a) {
    case Action::read:
    case Action::create:
    case Action::change:
    case Action::remove:
    case Action::use:
    case Action::toolbox: return true;  // the toolbox: only on a sandbox (Check below)
    case Action::preview:
    case Action::report:
    case Action::operate:
    case Action::ssh: return false;  // a key grants SSH tokens (change); the session is the token's
  }
  return false;
}

struct Check {
  Action action;
  const Resource& r;

  bool preview_port_ok() const {
    return action == Action::preview && r.kind == Kind::sandbox && r.port >= 1 && r.port <= 65535 &&
           r.port != kToolboxPort;
  }

  bool operator()(const Anonymous&) const { return preview_port_ok() && r.is_public; }

  bool operator()(const ApiKeyCaller& c) const {
    // The nil organization owns the unclaimed warm-pool sandboxes; no key speaks for it.
    if (c.organization == OrganizationId{} || r.kind == Kind::admin || !user_action(action)) return false;
    if (action == Action::toolbox) return r.kind == Kind::sandbox && r.owner == c.organization;
    if (!r.owner) {
      // General resources: only snapshots, and only to look at and to run sandboxes from.
      return r.kind == Kind::snapshot && (action == Action::read || action == Action::use);
    }
    return *r.owner == c.organization;
  }

  bool operator()(const AdminCaller&) const {
    if (action == Action::toolbox || action == Action::preview || action == Action::report || action == Action::ssh) {
      return false;
    }
    return true;  // operators see and manage everything else (placements, runners, organizations)
  }

  bool operator()(const PreviewCaller& c) const {
    return preview_port_ok() && r.sandbox && *r.sandbox == c.sandbox && r.port == c.port;
  }

  bool operator()(const RunnerCaller& c) const {
    return action == Action::report && r.kind == Kind::sandbox && r.runner && *r.runner == c.runner;
  }

  bool operator()(const SshCaller& c) const {
    return action == Action::ssh && r.kind == Kind::sandbox && r.sandbox && *r.sandbox == c.sandbox;
  }
};

}  // namespace

bool authorize(const Caller& caller, Action action, const Resource& resource) {
  return std::visit(Check{action, resource}, caller);
}

Resource sandbox(const OrganizationId& owner, std::optional<RunnerId> runner) {
  Resource r;
  r.kind = Kind::sandbox;
  r.owner = owner;
  r.runner = std::move(runner);
  return r;
}

Resource sandbox_port(const SandboxId& id, const OrganizationId& owner, bool is_public, int port) {
  Resource r;
  r.kind = Kind::sandbox;
  r.owner = owner;
  r.is_public = is_public;
  r.port = port;
  r.sandbox = id;
  return r;
}

Resource sandbox_shell(const SandboxId& id, const OrganizationId& owner) {
  Resource r = sandbox(owner);
  r.sandbox = id;
  return r;
}

Resource owned(Kind kind, std::optional<OrganizationId> owner) {
  Resource r;
  r.kind = kind;
  r.owner = std::move(owner);
  return r;
}

Resource admin_resource() { return owned(Kind::admin, std::nullopt); }

}  // namespace events::access
