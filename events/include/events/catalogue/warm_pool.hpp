#pragma once
// Events of a warm pool (stream "warmpool-<id>"): how many started, unassigned sandboxes to keep
// for one snapshot, region and resource class. The id is derived from those, so the operator's
// "size of the pool for X" is one stream. Size 0 turns the pool off. Its members are sandboxes
// (SandboxJoinedWarmPool); a matching create claims one (SandboxClaimed) and the pool refills.
#include "events/catalogue/sandbox.hpp"

namespace events {

// A stable id for (snapshot, region, resources): the first 128 bits of their SHA-256, as a UUID.
WarmPoolId warm_pool_id(std::string_view snapshot, std::string_view region, const Resources& resources);

// The organization unclaimed warm sandboxes belong to: no user's, so no user can see or use them.
OrganizationId warm_pool_organization();

struct WarmPoolSized {
  static constexpr std::string_view kType = "WarmPoolSized";
  static constexpr int kVersion = 1;
  WarmPoolId pool_id;
  std::string snapshot;
  std::string region;
  Resources resources;
  int size = 0;
};
BOOST_DESCRIBE_STRUCT(WarmPoolSized, (), (pool_id, snapshot, region, resources, size))

using WarmPoolEvent = std::variant<WarmPoolSized>;

}  // namespace events
