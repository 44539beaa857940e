#pragma once
// Events of the snapshot aggregate (stream "snapshot-<uuid>"): an image made ready for sandboxes.
#include "events/catalogue/sandbox.hpp"

namespace events {

enum class SnapshotState { unknown, pending, pulling, active, inactive, error, removing, removed };
BOOST_DESCRIBE_ENUM(SnapshotState, unknown, pending, pulling, active, inactive, error, removing,
                    removed)
std::string_view to_string(SnapshotState s);

struct SnapshotCreated {
  static constexpr std::string_view kType = "SnapshotCreated";
  static constexpr int kVersion = 1;
  SnapshotId snapshot_id;
  std::optional<OrganizationId> organization_id;  // empty for general (platform-wide) snapshots
  std::string name;
  std::string image_name;
  std::vector<std::string> entrypoint;
  Resources resources;
};
BOOST_DESCRIBE_STRUCT(SnapshotCreated, (),
                      (snapshot_id, organization_id, name, image_name, entrypoint, resources))

struct SnapshotPulling {
  static constexpr std::string_view kType = "SnapshotPulling";
  static constexpr int kVersion = 1;
  RunnerId runner_id;
};
BOOST_DESCRIBE_STRUCT(SnapshotPulling, (), (runner_id))

struct SnapshotActivated {
  static constexpr std::string_view kType = "SnapshotActivated";
  static constexpr int kVersion = 1;
  std::int64_t size_bytes = 0;
  std::vector<std::string> layer_digests;  // content addresses of the shared layers
};
BOOST_DESCRIBE_STRUCT(SnapshotActivated, (), (size_bytes, layer_digests))

struct SnapshotFailed {
  static constexpr std::string_view kType = "SnapshotFailed";
  static constexpr int kVersion = 1;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(SnapshotFailed, (), (reason))

struct SnapshotDeactivated {
  static constexpr std::string_view kType = "SnapshotDeactivated";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(SnapshotDeactivated, (), ())

struct SnapshotReactivated {
  static constexpr std::string_view kType = "SnapshotReactivated";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(SnapshotReactivated, (), ())

struct SnapshotRemoveRequested {
  static constexpr std::string_view kType = "SnapshotRemoveRequested";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(SnapshotRemoveRequested, (), ())

struct SnapshotRemoved {
  static constexpr std::string_view kType = "SnapshotRemoved";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(SnapshotRemoved, (), ())

using SnapshotEvent =
    std::variant<SnapshotCreated, SnapshotPulling, SnapshotActivated, SnapshotFailed,
                 SnapshotDeactivated, SnapshotReactivated, SnapshotRemoveRequested,
                 SnapshotRemoved>;

}  // namespace events
