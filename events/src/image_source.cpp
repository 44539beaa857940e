#include "events/image_source.hpp"

#include "events/text.hpp"

#include <cctype>

namespace events::images {

namespace {

Error bad(std::string message) { return make_error(ErrorCode::invalid_argument, std::move(message)); }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Absolute, no "." or ".." component, no empty component, no control characters.
bool clean_absolute(std::string_view path) {
  if (path.size() < 2 || path.front() != '/' || path.size() > 4096) return false;
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool valid_tag(std::string_view tag) { return text::plain_name(tag, 128, "_.-"); }

bool valid_reference(std::string_view ref) { return text::plain_name(ref, 512, "._-/:@"); }

std::string dirs_text(const std::vector<std::string>& dirs) {
  if (dirs.empty()) return "none is allowed on this platform";
  std::string out = "allowed: ";
  for (std::size_t i = 0; i < dirs.size(); ++i) out += (i ? ", " : "") + dirs[i];
  return out;
}

Result<Source> local(Form form, std::string_view path, std::string tag, std::string_view given,
                     const std::vector<std::string>& dirs) {
  if (!clean_absolute(path)) {
    return bad("imageName '" + std::string(given) + "': a host path must be absolute, without '.', '..' or '//'");
  }
  if (!inside(path, dirs)) {
    return bad("imageName '" + std::string(given) +
               "' names a host path; host paths are accepted only inside the directories the operator lists in "
               "SNAPSHOT_IMPORT_DIRS (" + dirs_text(dirs) +
               "). Use a registry (docker://HOST[:PORT]/NAME:TAG) or snapshot:NAME");
  }
  return Source{form, std::string(path), std::move(tag), false};
}

}  // namespace

bool inside(std::string_view path, const std::vector<std::string>& dirs) {
  for (std::string_view dir : dirs) {
    while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
    if (dir.empty()) continue;
    if (path == dir) return true;
    if (dir == "/" ? path.size() > 1 : (starts_with(path, dir) && path.size() > dir.size() && path[dir.size()] == '/')) {
      return true;
    }
  }
  return false;
}

Result<Source> parse(std::string_view name, const std::vector<std::string>& dirs) {
  if (name.empty()) return bad("imageName must not be empty");
  if (starts_with(name, "docker://")) {
    const auto ref = name.substr(9);
    if (!valid_reference(ref)) return bad("imageName '" + std::string(name) + "' is not a registry reference");
    return Source{Form::registry, std::string(name), {}, false};
  }
  if (starts_with(name, "snapshot:")) {
    const auto ref = name.substr(9);
    if (ref.empty() || !valid_reference(ref)) return bad("imageName '" + std::string(name) + "' does not name a snapshot");
    return Source{Form::snapshot, std::string(ref), {}, false};
  }
  if (starts_with(name, "oci:")) {
    auto rest = name.substr(4);
    std::string tag;
    if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
      tag = std::string(rest.substr(colon + 1));
      rest = rest.substr(0, colon);
      if (!valid_tag(tag)) return bad("imageName '" + std::string(name) + "': the tag after ':' is not valid");
    }
    return local(Form::oci_layout, rest, std::move(tag), name, dirs);
  }
  if (starts_with(name, "oci-archive:")) return local(Form::oci_archive, name.substr(12), {}, name, dirs);
  if (starts_with(name, "docker-archive:")) return local(Form::docker_archive, name.substr(15), {}, name, dirs);
  if (name.front() == '/') return local(Form::bare_path, name, {}, name, dirs);  // a layout dir or a save tarball
  // Other transports of skopeo read the host (dir:, containers-storage:, docker-daemon:, ...).
  const auto colon = name.find(':');
  const auto prefix = colon == std::string_view::npos ? std::string_view() : name.substr(0, colon);
  bool refused_transport = name.find("://") != std::string_view::npos;
  for (std::string_view t : {"dir", "containers-storage", "docker-daemon", "ostree", "sif", "tarball"}) {
    refused_transport = refused_transport || prefix == t;
  }
  if (refused_transport) {
    return bad("imageName '" + std::string(name) +
               "' uses a transport this platform does not read; use docker://, oci:, oci-archive:, docker-archive: "
               "or snapshot:");
  }
  if (!valid_reference(name)) return bad("imageName '" + std::string(name) + "' is not an image reference");
  return Source{Form::registry, std::string(name), {}, true};
}

std::string to_image_name(const Source& s) {
  switch (s.form) {
    case Form::registry: return s.location;
    case Form::oci_layout: return "oci:" + s.location + (s.tag.empty() ? "" : ":" + s.tag);
    case Form::oci_archive: return "oci-archive:" + s.location;
    case Form::docker_archive: return "docker-archive:" + s.location;
    case Form::bare_path: return s.location;
    case Form::snapshot: return "snapshot:" + s.location;
  }
  return s.location;
}

}  // namespace events::images
