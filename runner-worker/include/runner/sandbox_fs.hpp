#pragma once
// A sandbox's files on the runner host (all paths under the runner's state dir S):
//   S/data/<id>/{upper,work}   its btrfs subvolume (qgroup limit = disk size): the writable layer
//   S/lower                    an empty read-only lower layer (the userland comes by bind mounts);
//                              a sandbox from an image has the image's layers instead (image.hpp)
//   S/data/.bundles/<id>/rootfs  the overlay mount crun runs on; beside it config.json, init.log
//                              and what was applied (env, resources). On the btrfs data image, not
//                              the host's filesystem: a burst of starts right after a burst of
//                              deletes spent 14% of the host's CPU in ext4's search for a free
//                              inode (a journal-less ext4 skips recently deleted ones); here the
//                              bursts take about 8% less (runner-worker README)
//   O/<id>.tar                 the upper layer of an archived sandbox, in the object store O: shared
//                              by the runners (an archived sandbox has no runner; whichever is
//                              picked to start it again restores it from there)
//   S/volumes/<volume id>      a volume's host directory, shared by the sandboxes that mount it
// Every operation is idempotent: doing it twice, or after a crash half-way, ends the same.
#include "events/error.hpp"

#include <string>
#include <vector>

namespace runner {

class SandboxFs {
 public:
  SandboxFs(std::string state_dir, std::string object_store, unsigned uid_base);

  std::string bundle_dir(const std::string& id) const { return state_ + "/data/.bundles/" + id; }
  std::string rootfs(const std::string& id) const { return bundle_dir(id) + "/rootfs"; }
  std::string upper(const std::string& id) const { return state_ + "/data/" + id + "/upper"; }
  std::string archive_path(const std::string& id) const { return objects_ + "/" + id + ".tar"; }
  std::string volume_dir(const std::string& volume_id) const { return state_ + "/volumes/" + volume_id; }
  std::string data_dir() const { return state_ + "/data"; }

  bool has_layer(const std::string& id) const;     // the subvolume exists
  bool has_archive(const std::string& id) const;
  bool mounted(const std::string& id) const;

  // The subvolume with its quota, and an upper layer holding the sandbox's skeleton (from an
  // image: only the mount points; the image's layers are the tree).
  events::Result<void> create(const std::string& id, int disk_gib, bool from_image = false);
  // The overlay: the upper layer over `lowers` (top first), or over the empty lower.
  events::Result<void> mount(const std::string& id, const std::vector<std::string>& lowers = {});
  events::Result<void> unmount(const std::string& id);
  // Packs the upper layer into the object store and frees the subvolume.
  events::Result<std::string> archive(const std::string& id);
  // Brings an archived upper layer back into a new subvolume.
  events::Result<void> restore(const std::string& id, int disk_gib);
  // Everything of the sandbox, its archive too (it is deleted).
  events::Result<void> destroy(const std::string& id);
  // What this host holds of it (mount, layer, bundle), not its archive (it moved elsewhere).
  events::Result<void> remove_local(const std::string& id);
  events::Result<std::string> ensure_volume(const std::string& volume_id);
  // A new disk size for the layer (its qgroup limit).
  events::Result<void> resize(const std::string& id, int disk_gib);

  // Sandboxes with a layer or a bundle on this host.
  std::vector<std::string> known() const;
  // Bytes the sandbox's layer uses (its qgroup's referenced size), 0 when unknown.
  std::int64_t disk_used(const std::string& id) const;

 private:
  events::Result<void> make_subvolume(const std::string& id, int disk_gib);
  std::string state_;
  std::string objects_;
  unsigned uid_base_;
};

}  // namespace runner
