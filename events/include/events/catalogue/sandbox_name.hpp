#pragma once
// Events of a sandbox name within an organization (stream "sandboxname-<key>", the key derived
// from the organization and the name). Names are unique among an organization's live
// sandboxes: a create appends the name's claim and the sandbox's first events in one
// transaction (EventStore::append_together), so of two creates racing for a name exactly one
// wins. A claim whose sandbox has been deleted may be claimed again.
#include "events/ids.hpp"

#include <boost/describe.hpp>

#include <string>
#include <variant>

namespace events {

using SandboxNameKey = Id<struct SandboxNameKeyTag>;

// A stable id for (organization, name): the first 128 bits of their SHA-256, as a UUID.
SandboxNameKey sandbox_name_key(const OrganizationId& org, std::string_view name);

struct SandboxNameClaimed {
  static constexpr std::string_view kType = "SandboxNameClaimed";
  static constexpr int kVersion = 1;
  OrganizationId organization_id;
  std::string name;
  SandboxId sandbox_id;
};
BOOST_DESCRIBE_STRUCT(SandboxNameClaimed, (), (organization_id, name, sandbox_id))

using SandboxNameEvent = std::variant<SandboxNameClaimed>;

}  // namespace events
