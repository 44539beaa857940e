#pragma once
// What the runner sets up once per process, as root, before it starts any thread:
// - a private mount namespace, in which the cgroup v2 "unified" mount of a hybrid-cgroup host
//   is unmounted (crun refuses hybrid mode; on a pure v2 host there is nothing to hide). The
//   sandboxes' overlay mounts live in this namespace too, out of the host's sight;
// - the data directory: a loop-mounted btrfs image with quotas, one subvolume per sandbox, so
//   a sandbox's writes stop at its disk size (this kernel has no XFS or ext4 project quotas).
#include "events/error.hpp"

#include <cstdint>
#include <string>

namespace runner {

events::Result<void> enter_private_mount_namespace();

// Creates the image (sparse, `size_bytes`) and its filesystem on first use, mounts it at `dir`
// and enables quotas. Safe to call again after a restart.
events::Result<void> mount_data(const std::string& image, const std::string& dir, std::int64_t size_bytes);

}  // namespace runner
