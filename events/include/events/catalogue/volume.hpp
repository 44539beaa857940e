#pragma once
// Events of the volume aggregate (stream "volume-<uuid>"): a host directory shared by sandboxes.
#include "events/catalogue/sandbox.hpp"

namespace events {

enum class VolumeState { unknown, pending_create, ready, pending_delete, deleted, error };
BOOST_DESCRIBE_ENUM(VolumeState, unknown, pending_create, ready, pending_delete, deleted, error)
std::string_view to_string(VolumeState s);

struct VolumeCreated {
  static constexpr std::string_view kType = "VolumeCreated";
  static constexpr int kVersion = 1;
  VolumeId volume_id;
  OrganizationId organization_id;
  std::string name;
};
BOOST_DESCRIBE_STRUCT(VolumeCreated, (), (volume_id, organization_id, name))

struct VolumeReady {
  static constexpr std::string_view kType = "VolumeReady";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(VolumeReady, (), ())

struct VolumeFailed {
  static constexpr std::string_view kType = "VolumeFailed";
  static constexpr int kVersion = 1;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(VolumeFailed, (), (reason))

struct VolumeDeleteRequested {
  static constexpr std::string_view kType = "VolumeDeleteRequested";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(VolumeDeleteRequested, (), ())

struct VolumeDeleted {
  static constexpr std::string_view kType = "VolumeDeleted";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(VolumeDeleted, (), ())

using VolumeEvent =
    std::variant<VolumeCreated, VolumeReady, VolumeFailed, VolumeDeleteRequested, VolumeDeleted>;

}  // namespace events
