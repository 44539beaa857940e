// The platform's one authorization function (events/access.hpp), as a table: every kind of
// caller against every kind of resource and action.
#include "events/access.hpp"
#include "support/catch.hpp"

using namespace events;
using namespace events::access;

namespace {

const OrganizationId kA = OrganizationId::generate();
const OrganizationId kB = OrganizationId::generate();
const SandboxId kBox = SandboxId::generate();
const RunnerId kRunner = RunnerId::generate();

}  // namespace

TEST_CASE("access: an API key acts on its own organization's resources only") {
  const Caller a = ApiKeyCaller{kA};
  for (auto action : {Action::read, Action::create, Action::change, Action::remove, Action::use, Action::toolbox}) {
    INFO(static_cast<int>(action));
    CHECK(authorize(a, action, sandbox(kA)));
    CHECK_FALSE(authorize(a, action, sandbox(kB)));
  }
  for (auto kind : {Kind::volume, Kind::snapshot, Kind::audit, Kind::event_stream, Kind::webhook}) {
    CHECK(authorize(a, Action::read, owned(kind, kA)));
    CHECK_FALSE(authorize(a, Action::read, owned(kind, kB)));
    CHECK_FALSE(authorize(a, Action::use, owned(kind, kB)));
  }
  // General snapshots: seen and used by everyone, changed by no key.
  CHECK(authorize(a, Action::read, owned(Kind::snapshot, std::nullopt)));
  CHECK(authorize(a, Action::use, owned(Kind::snapshot, std::nullopt)));
  CHECK_FALSE(authorize(a, Action::change, owned(Kind::snapshot, std::nullopt)));
  CHECK_FALSE(authorize(a, Action::remove, owned(Kind::snapshot, std::nullopt)));
  CHECK_FALSE(authorize(a, Action::read, owned(Kind::volume, std::nullopt)));
  // The toolbox is a sandbox's only: not a volume's.
  CHECK_FALSE(authorize(a, Action::toolbox, owned(Kind::volume, kA)));
  // Never: admin resources, previews by key, reports.
  CHECK_FALSE(authorize(a, Action::operate, admin_resource()));
  CHECK_FALSE(authorize(a, Action::read, admin_resource()));
  CHECK_FALSE(authorize(a, Action::preview, sandbox_port(kBox, kA, false, 8080)));
  CHECK_FALSE(authorize(a, Action::report, sandbox(kA, kRunner)));
}

TEST_CASE("access: no key speaks for the warm-pool organization (the nil id)") {
  const Caller nil = ApiKeyCaller{OrganizationId{}};
  CHECK_FALSE(authorize(nil, Action::read, sandbox(OrganizationId{})));
  CHECK_FALSE(authorize(nil, Action::toolbox, sandbox(OrganizationId{})));
}

TEST_CASE("access: preview tokens open one port of one sandbox, never the toolbox port") {
  const Caller token = PreviewCaller{kBox, 8080};
  CHECK(authorize(token, Action::preview, sandbox_port(kBox, kA, false, 8080)));
  CHECK_FALSE(authorize(token, Action::preview, sandbox_port(kBox, kA, false, 8081)));
  CHECK_FALSE(authorize(token, Action::preview, sandbox_port(SandboxId::generate(), kA, false, 8080)));
  CHECK_FALSE(authorize(PreviewCaller{kBox, kToolboxPort}, Action::preview, sandbox_port(kBox, kA, false, kToolboxPort)));
  CHECK_FALSE(authorize(token, Action::toolbox, sandbox(kA)));
  CHECK_FALSE(authorize(token, Action::read, sandbox(kA)));
}

TEST_CASE("access: anyone previews a public sandbox, except its toolbox port") {
  const Caller nobody = Anonymous{};
  CHECK(authorize(nobody, Action::preview, sandbox_port(kBox, kA, true, 3000)));
  CHECK_FALSE(authorize(nobody, Action::preview, sandbox_port(kBox, kA, false, 3000)));
  CHECK_FALSE(authorize(nobody, Action::preview, sandbox_port(kBox, kA, true, kToolboxPort)));
  CHECK_FALSE(authorize(nobody, Action::preview, sandbox_port(kBox, kA, true, 0)));
  CHECK_FALSE(authorize(nobody, Action::toolbox, sandbox(kA)));
  CHECK_FALSE(authorize(nobody, Action::read, sandbox(kA)));
  CHECK_FALSE(authorize(nobody, Action::read, owned(Kind::snapshot, std::nullopt)));
}

TEST_CASE("access: the admin key runs the platform but never a sandbox's toolbox or previews") {
  const Caller admin = AdminCaller{};
  CHECK(authorize(admin, Action::operate, admin_resource()));
  CHECK(authorize(admin, Action::read, sandbox(kA)));
  CHECK_FALSE(authorize(admin, Action::toolbox, sandbox(kA)));
  CHECK_FALSE(authorize(admin, Action::preview, sandbox_port(kBox, kA, true, 8080)));
  CHECK_FALSE(authorize(admin, Action::report, sandbox(kA, kRunner)));
  CHECK_FALSE(authorize(admin, Action::ssh, sandbox_shell(kBox, kA)));
}

TEST_CASE("access: an SSH token opens a session into its one sandbox and does nothing else") {
  const Caller token = SshCaller{kBox};
  CHECK(authorize(token, Action::ssh, sandbox_shell(kBox, kA)));
  CHECK_FALSE(authorize(token, Action::ssh, sandbox_shell(SandboxId::generate(), kA)));
  CHECK_FALSE(authorize(token, Action::ssh, sandbox(kA)));
  CHECK_FALSE(authorize(token, Action::toolbox, sandbox_shell(kBox, kA)));
  CHECK_FALSE(authorize(token, Action::read, sandbox_shell(kBox, kA)));
  CHECK_FALSE(authorize(token, Action::preview, sandbox_port(kBox, kA, true, 8080)));
  // An organization's key grants tokens (change) but is not itself an SSH session.
  CHECK_FALSE(authorize(ApiKeyCaller{kA}, Action::ssh, sandbox_shell(kBox, kA)));
  CHECK_FALSE(authorize(Anonymous{}, Action::ssh, sandbox_shell(kBox, kA)));
}

TEST_CASE("access: a runner reports only about the sandboxes assigned to it") {
  const Caller runner = RunnerCaller{kRunner};
  CHECK(authorize(runner, Action::report, sandbox(kA, kRunner)));
  CHECK_FALSE(authorize(runner, Action::report, sandbox(kA, RunnerId::generate())));
  CHECK_FALSE(authorize(runner, Action::report, sandbox(kA)));
  CHECK_FALSE(authorize(runner, Action::read, sandbox(kA, kRunner)));
  CHECK_FALSE(authorize(runner, Action::toolbox, sandbox(kA, kRunner)));
}
