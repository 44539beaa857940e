#include "runner/image.hpp"

#include "events/ids.hpp"
#include "events/image_source.hpp"

#include "runner/command.hpp"
#include "runner/json_fields.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <thread>
#include <unistd.h>

namespace runner {

namespace fs = std::filesystem;
namespace json = boost::json;
using events::ErrorCode;
using events::make_error;

namespace {

events::Error bad_image(const std::string& what) { return make_error(ErrorCode::invalid_argument, what); }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// "sha256:<64 hex>": the only digests accepted (they become file names).
std::optional<std::string> digest_hex(std::string_view digest) {
  if (!starts_with(digest, "sha256:") || digest.size() != 7 + 64) return std::nullopt;
  const auto hex = digest.substr(7);
  if (!std::all_of(hex.begin(), hex.end(), [](char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); })) {
    return std::nullopt;
  }
  return std::string(hex);
}

events::Result<json::value> read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return bad_image("the image has no " + fs::path(path).filename().string());
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(text.str(), ec);
  if (ec) return bad_image(fs::path(path).filename().string() + " of the image is not JSON: " + ec.message());
  return v;
}

events::Result<json::object> read_blob(const std::string& layout, std::string_view digest) {
  const auto hex = digest_hex(digest);
  if (!hex) return bad_image("the image names a blob by an unsupported digest '" + std::string(digest) + "'");
  auto v = read_json(layout + "/blobs/sha256/" + *hex);
  if (!v) return v.error();
  if (!v->is_object()) return bad_image("blob " + std::string(digest) + " is not a JSON object");
  return v->as_object();
}

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// Picks the linux/amd64 manifest of an image index (or the first).
events::Result<json::object> pick_manifest(const std::string& layout, const json::object& index) {
  const auto* list = index.if_contains("manifests");
  if (list == nullptr || !list->is_array() || list->as_array().empty()) return bad_image("the image index lists no manifest");
  const json::object* chosen = nullptr;
  for (const auto& m : list->as_array()) {
    if (!m.is_object()) continue;
    if (chosen == nullptr) chosen = &m.as_object();
    if (const auto* p = m.as_object().if_contains("platform"); p != nullptr && p->is_object() &&
                                                            text(p->as_object(), "architecture") == "amd64") {
      chosen = &m.as_object();
      break;
    }
  }
  if (chosen == nullptr) return bad_image("the image index lists no manifest");
  auto manifest = read_blob(layout, text(*chosen, "digest"));
  if (!manifest) return manifest;
  if (manifest->contains("manifests")) return pick_manifest(layout, *manifest);  // a nested index
  return manifest;
}

// Owners inside a layer are the image's (0 = its root); the sandbox's root is uid_base outside.
events::Result<void> shift_owners(const std::string& dir, unsigned base) {
  auto shift = [base](const fs::path& p) -> events::Result<void> {
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) return make_error(ErrorCode::unavailable, "lstat " + p.string() + ": " + std::strerror(errno));
    const auto map = [base](unsigned id) { return base + (id < 65536 ? id : 65534); };
    if (lchown(p.c_str(), map(st.st_uid), map(st.st_gid)) != 0) {
      return make_error(ErrorCode::unavailable, "chown " + p.string() + ": " + std::strerror(errno));
    }
    // chown clears set-id bits; the image's modes are part of the image.
    if (!S_ISLNK(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) != 0) chmod(p.c_str(), st.st_mode & 07777);
    return {};
  };
  if (auto r = shift(dir); !r) return r;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (auto r = shift(it->path()); !r) return r;
  }
  if (ec) return make_error(ErrorCode::unavailable, "walking " + dir + ": " + ec.message());
  return {};
}

}  // namespace

events::Result<std::string> image_source(const std::string& name, const std::vector<std::string>& import_dirs,
                                         const std::string& object_store) {
  auto source = events::images::parse(name, import_dirs);
  if (!source) return bad_image(source.error().message);
  using events::images::Form;
  switch (source->form) {
    case Form::registry:
      if (source->public_registry) {
        return bad_image("image '" + name +
                         "' cannot be imported: this platform does not reach public registries. Give an image in a "
                         "registry you run (docker://HOST:PORT/NAME:TAG), another snapshot (snapshot:NAME), or a "
                         "file in a directory the operator allows (oci:DIR[:TAG], docker-archive:FILE.tar, "
                         "oci-archive:FILE)");
      }
      return source->location;
    case Form::snapshot: {
      // The API resolved the name to a snapshot the caller may use and stored its id.
      if (!events::SnapshotId::parse(source->location)) return bad_image("image '" + name + "' names no snapshot id");
      return "oci:" + object_store + "/images/" + source->location + "/oci:latest";
    }
    case Form::oci_layout:
    case Form::oci_archive:
    case Form::docker_archive:
    case Form::bare_path: break;
  }
  // A file of the host: checked again here, after symlinks are resolved, against the directories
  // the operator allows (the API checked only the text).
  std::error_code ec;
  const auto real = fs::canonical(source->location, ec);
  if (ec) return bad_image("cannot read " + source->location + ": " + ec.message());
  std::vector<std::string> real_dirs;
  for (const auto& d : import_dirs) {
    const auto r = fs::weakly_canonical(d, ec);
    if (!ec) real_dirs.push_back(r.string());
  }
  if (!events::images::inside(real.string(), real_dirs)) {
    return bad_image("image '" + name + "' resolves outside the directories the operator allows (SNAPSHOT_IMPORT_DIRS)");
  }
  switch (source->form) {
    case Form::oci_layout: return "oci:" + real.string() + (source->tag.empty() ? "" : ":" + source->tag);
    case Form::oci_archive: return "oci-archive:" + real.string();
    case Form::docker_archive: return "docker-archive:" + real.string();
    default: break;
  }
  if (fs::is_directory(real, ec) && fs::exists(real / "index.json", ec)) return "oci:" + real.string();
  if (fs::is_regular_file(real, ec)) return "docker-archive:" + real.string();
  return bad_image("image '" + name + "' is neither an OCI layout directory (with index.json) nor a docker save tarball");
}

events::Result<ImageConfig> read_oci_layout(const std::string& layout) {
  auto index = read_json(layout + "/index.json");
  if (!index) return index.error();
  if (!index->is_object()) return bad_image("index.json of the image is not a JSON object");
  auto manifest = pick_manifest(layout, index->as_object());
  if (!manifest) return manifest.error();
  const auto* config_ref = manifest->if_contains("config");
  if (config_ref == nullptr || !config_ref->is_object()) return bad_image("the image manifest has no config");
  auto config = read_blob(layout, text(config_ref->as_object(), "digest"));
  if (!config) return config.error();

  ImageConfig image;
  std::vector<std::string> diff_ids;
  if (const auto* rootfs = config->if_contains("rootfs"); rootfs != nullptr && rootfs->is_object()) {
    diff_ids = strings(rootfs->as_object(), "diff_ids");
  }
  const auto* layers = manifest->if_contains("layers");
  if (layers == nullptr || !layers->is_array()) return bad_image("the image manifest lists no layers");
  if (layers->as_array().size() != diff_ids.size()) {
    return bad_image("the image manifest lists " + std::to_string(layers->as_array().size()) +
                     " layers but its config " + std::to_string(diff_ids.size()));
  }
  for (std::size_t i = 0; i < diff_ids.size(); ++i) {
    const auto& layer = layers->as_array()[i];
    if (!layer.is_object()) return bad_image("a layer of the image manifest is not an object");
    const auto blob = digest_hex(text(layer.as_object(), "digest"));
    if (!blob || !digest_hex(diff_ids[i])) return bad_image("layer " + std::to_string(i) + " has an unsupported digest");
    image.layers.push_back({diff_ids[i], "blobs/sha256/" + *blob});
    if (const auto* size = layer.as_object().if_contains("size"); size != nullptr && size->is_int64()) {
      image.size_bytes += size->as_int64();
    }
  }
  if (const auto* c = config->if_contains("config"); c != nullptr && c->is_object()) {
    image.env = strings(c->as_object(), "Env");
    image.entrypoint = strings(c->as_object(), "Entrypoint");
    image.cmd = strings(c->as_object(), "Cmd");
    image.working_dir = text(c->as_object(), "WorkingDir");
  }
  return image;
}

events::Result<void> convert_whiteouts(const std::string& dir) {
  std::vector<fs::path> whiteouts;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (starts_with(it->path().filename().string(), ".wh.")) whiteouts.push_back(it->path());
  }
  if (ec) return make_error(ErrorCode::unavailable, "walking " + dir + ": " + ec.message());
  for (const auto& w : whiteouts) {
    const auto name = w.filename().string();
    const auto parent = w.parent_path();
    fs::remove(w, ec);
    if (name == ".wh..wh..opq") {
      if (setxattr(parent.c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
        return make_error(ErrorCode::unavailable, "marking " + parent.string() + " opaque: " + std::strerror(errno));
      }
      continue;
    }
    const auto hidden = parent / name.substr(4);
    if (mknod(hidden.c_str(), S_IFCHR, makedev(0, 0)) != 0 && errno != EEXIST) {
      return make_error(ErrorCode::unavailable, "whiteout " + hidden.string() + ": " + std::strerror(errno));
    }
  }
  return {};
}

ImageStore::ImageStore(std::string object_store, std::string layer_dir, unsigned uid_base)
    : objects_(std::move(object_store)), layers_(std::move(layer_dir)), uid_base_(uid_base) {
  fs::create_directories(objects_ + "/images");
  fs::create_directories(layers_);
}

events::Result<ImageConfig> ImageStore::import(const std::string& snapshot_id, const std::string& image_name) {
  auto source = image_source(image_name, import_dirs_, objects_);
  if (!source) return source.error();
  const auto dir = image_dir(snapshot_id);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot create " + dir + ": " + ec.message());
  std::vector<std::string> argv{"skopeo", "--insecure-policy", "copy", "--quiet"};
  // A registry on this machine speaks plain HTTP; anything else must have valid TLS.
  if (starts_with(*source, "docker://127.0.0.1") || starts_with(*source, "docker://localhost")) {
    argv.emplace_back("--src-tls-verify=false");
  }
  argv.push_back(*source);
  argv.push_back("oci:" + dir + "/oci:latest");
  if (auto copied = run_checked(argv); !copied) {
    return bad_image("importing " + image_name + " failed: " + copied.error().message);
  }
  auto image = read_oci_layout(dir + "/oci");
  if (!image) return image;
  json::array layers;
  for (const auto& l : image->layers) layers.push_back(json::object{{"diffId", l.diff_id}, {"blob", l.blob}});
  const json::object doc{{"layers", std::move(layers)},          {"env", to_array(image->env)},
                         {"entrypoint", to_array(image->entrypoint)}, {"cmd", to_array(image->cmd)},
                         {"workingDir", image->working_dir},     {"sizeBytes", image->size_bytes}};
  {
    std::ofstream out(dir + "/image.json.partial");
    out << json::serialize(doc);
    if (!out) return make_error(ErrorCode::unavailable, "cannot write " + dir + "/image.json");
  }
  fs::rename(dir + "/image.json.partial", dir + "/image.json", ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot write " + dir + "/image.json: " + ec.message());
  return image;
}

events::Result<ImageConfig> ImageStore::config(const std::string& snapshot_id) const {
  auto doc = read_json(image_dir(snapshot_id) + "/image.json");
  if (!doc) {
    return make_error(ErrorCode::not_found, "the image of snapshot " + snapshot_id + " is missing from the object store (" +
                                                image_dir(snapshot_id) + ")");
  }
  if (!doc->is_object()) return bad_image("image.json of snapshot " + snapshot_id + " is not an object");
  const auto& o = doc->as_object();
  ImageConfig image;
  if (const auto* layers = o.if_contains("layers"); layers != nullptr && layers->is_array()) {
    for (const auto& l : layers->as_array()) {
      if (!l.is_object()) continue;
      image.layers.push_back({text(l.as_object(), "diffId"), text(l.as_object(), "blob")});
    }
  }
  image.env = strings(o, "env");
  image.entrypoint = strings(o, "entrypoint");
  image.cmd = strings(o, "cmd");
  image.working_dir = text(o, "workingDir");
  if (const auto* size = o.if_contains("sizeBytes"); size != nullptr && size->is_int64()) image.size_bytes = size->as_int64();
  return image;
}

events::Result<std::string> ImageStore::unpack(const std::string& snapshot_id, const ImageLayer& layer) {
  const auto hex = digest_hex(layer.diff_id);
  if (!hex || layer.blob.find("..") != std::string::npos) return bad_image("layer " + layer.diff_id + " is not usable");
  const auto done = layers_ + "/" + *hex;
  std::error_code ec;
  if (fs::exists(done, ec)) return done;
  std::ostringstream partial;
  partial << layers_ << "/.partial-" << *hex << "-" << getpid() << "-" << std::this_thread::get_id();
  const auto tmp = partial.str();
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot create " + tmp + ": " + ec.message());
  auto cleanup = [&] { fs::remove_all(tmp, ec); };
  // GNU tar recognises the compression (gzip, zstd, none) by itself.
  if (auto x = run_checked({"tar", "--numeric-owner", "--same-owner", "--xattrs", "--xattrs-include=*", "-xpf",
                            image_dir(snapshot_id) + "/oci/" + layer.blob, "-C", tmp});
      !x) {
    cleanup();
    return bad_image("unpacking layer " + layer.diff_id + " failed: " + x.error().message);
  }
  if (auto w = convert_whiteouts(tmp); !w) {
    cleanup();
    return w.error();
  }
  if (auto o = shift_owners(tmp, uid_base_); !o) {
    cleanup();
    return o.error();
  }
  fs::rename(tmp, done, ec);
  if (ec) {
    cleanup();
    if (!fs::exists(done)) return make_error(ErrorCode::unavailable, "cannot store layer " + layer.diff_id + ": " + ec.message());
  }
  return done;
}

events::Result<std::vector<std::string>> ImageStore::lowers(const std::string& snapshot_id, const ImageConfig& image) {
  std::vector<std::string> dirs;
  for (auto it = image.layers.rbegin(); it != image.layers.rend(); ++it) {
    auto dir = unpack(snapshot_id, *it);
    if (!dir) return dir.error();
    dirs.push_back(*dir);
  }
  return dirs;
}

events::Result<void> ImageStore::remove(const std::string& snapshot_id) {
  std::error_code ec;
  fs::remove_all(image_dir(snapshot_id), ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot remove " + image_dir(snapshot_id) + ": " + ec.message());
  return {};
}

}  // namespace runner
