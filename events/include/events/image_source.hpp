#pragma once
// What a snapshot's imageName may name. A name from a user is data, never a host path the
// platform reads for them: registries, another snapshot of the caller's organization, and files
// only inside a directory the operator allow-listed (SNAPSHOT_IMPORT_DIRS). Pure: the API checks
// a create with it, and the runner checks again before it reads anything (and resolves symlinks).
#include "events/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace events::images {

enum class Form {
  registry,        // docker://HOST[:PORT]/NAME[:TAG]; or NAME[:TAG] of a public registry
  oci_layout,      // oci:DIR[:TAG]
  oci_archive,     // oci-archive:FILE
  docker_archive,  // docker-archive:FILE (what `docker save` writes)
  bare_path,       // an absolute path: an OCI layout directory or a docker save tarball
  snapshot,        // snapshot:NAME — the image of another snapshot (the API rewrites it to the id)
};

struct Source {
  Form form = Form::registry;
  std::string location;  // registry reference, absolute path, or snapshot name / id
  std::string tag;       // oci_layout only, may be empty
  bool public_registry = false;  // a NAME[:TAG] without docker:// (Docker Hub and the like)
};

Result<Source> parse(std::string_view image_name, const std::vector<std::string>& allowed_dirs);

// Whether an absolute, lexically clean path lies in one of the directories.
bool inside(std::string_view path, const std::vector<std::string>& dirs);

// The text an event stores for the source (the same forms parse() reads).
std::string to_image_name(const Source& source);

}  // namespace events::images
