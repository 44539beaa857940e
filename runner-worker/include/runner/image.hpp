#pragma once
// Images a snapshot names: imported once, by the runner that wins the pull, into the shared
// object store, and unpacked on each host that runs them into shared overlay lower layers.
//   O/images/<snapshot id>/oci/         the image as an OCI layout (skopeo copies any source
//                                       it understands into this one form)
//   O/images/<snapshot id>/image.json   what a runner needs: layers, env, entrypoint, cwd
//   S/layers/<diff id hex>/             one unpacked layer: whiteouts turned into overlay ones,
//                                       owners shifted into the sandboxes' uid range; keyed by
//                                       the uncompressed digest, so images share their layers
// Sources (the snapshot's imageName, events/image_source.hpp): docker://HOST/NAME:TAG (a registry
// you run), snapshot:<id> (another snapshot's image), and, inside the directories the operator
// allows only, oci:DIR[:TAG], docker-archive:FILE.tar (what `docker save` writes),
// oci-archive:FILE, or a bare path to an OCI layout directory or a docker save tarball.
#include "events/error.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace runner {

struct ImageLayer {
  std::string diff_id;  // sha256:<hex> of the uncompressed tar
  std::string blob;     // path of the (maybe compressed) tar, relative to the image's directory
};

struct ImageConfig {
  std::vector<ImageLayer> layers;  // bottom first
  std::vector<std::string> env;    // KEY=VALUE
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::int64_t size_bytes = 0;     // of the layer blobs
};

// The skopeo source for an imageName (events/image_source.hpp): a registry, another snapshot's
// image in the object store, or a file inside `import_dirs` once symlinks are resolved; or an
// error that lists the forms accepted.
events::Result<std::string> image_source(const std::string& image_name, const std::vector<std::string>& import_dirs,
                                         const std::string& object_store);

// Reads an OCI layout (index.json → manifest → config) into an ImageConfig.
events::Result<ImageConfig> read_oci_layout(const std::string& layout_dir);

// Turns OCI whiteouts in an unpacked layer into overlayfs ones: ".wh.NAME" becomes a 0:0
// character device NAME, ".wh..wh..opq" the opaque xattr on its directory.
events::Result<void> convert_whiteouts(const std::string& dir);

class ImageStore {
 public:
  ImageStore(std::string object_store, std::string layer_dir, unsigned uid_base);

  std::string image_dir(const std::string& snapshot_id) const { return objects_ + "/images/" + snapshot_id; }
  // The host directories images may be read from (SNAPSHOT_IMPORT_DIRS); none by default.
  void set_import_dirs(std::vector<std::string> dirs) { import_dirs_ = std::move(dirs); }

  // Copies the image into the object store and returns its config. Idempotent: an import a
  // crash cut short starts over.
  events::Result<ImageConfig> import(const std::string& snapshot_id, const std::string& image_name);
  // The config an earlier import wrote.
  events::Result<ImageConfig> config(const std::string& snapshot_id) const;
  // The overlay lower dirs of the image, top layer first; unpacks the layers this host lacks.
  events::Result<std::vector<std::string>> lowers(const std::string& snapshot_id, const ImageConfig& image);
  // The image's files in the object store (unpacked layers stay: other images may share them).
  events::Result<void> remove(const std::string& snapshot_id);

 private:
  events::Result<std::string> unpack(const std::string& snapshot_id, const ImageLayer& layer);
  std::string objects_;
  std::string layers_;
  unsigned uid_base_;
  std::vector<std::string> import_dirs_;
};

}  // namespace runner
