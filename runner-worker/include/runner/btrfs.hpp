#pragma once
// The two btrfs calls a sandbox's create makes, as the ioctls the `btrfs` tool issues, without
// starting that tool (a process each cost 2-4 ms on the create path).
#include "events/error.hpp"

#include <string>

namespace runner::btrfs {

// `btrfs subvolume create <path>`: the parent directory must exist on a btrfs filesystem.
events::Result<void> create_subvolume(const std::string& path);

// `btrfs qgroup limit <gib>G <path>`: the subvolume's referenced bytes at most `gib` GiB
// (quotas must be enabled on the filesystem).
events::Result<void> limit_subvolume(const std::string& path, int gib);

}  // namespace runner::btrfs
