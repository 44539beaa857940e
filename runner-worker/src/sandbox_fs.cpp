#include "runner/sandbox_fs.hpp"

#include <algorithm>

#include "runner/btrfs.hpp"
#include "runner/command.hpp"
#include "events/ids.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/mount.h>
#include <unistd.h>

namespace runner {

namespace fs = std::filesystem;
using events::ErrorCode;
using events::make_error;

namespace {

events::Result<void> own(const std::string& path, unsigned uid) {
  if (lchown(path.c_str(), uid, uid) != 0) {
    return make_error(ErrorCode::unavailable, "chown " + path + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace

SandboxFs::SandboxFs(std::string state_dir, std::string object_store, unsigned uid_base)
    : state_(std::move(state_dir)), objects_(std::move(object_store)), uid_base_(uid_base) {
  for (const auto* sub : {"/lower", "/data/.bundles", "/volumes"}) fs::create_directories(state_ + sub);
  fs::create_directories(objects_);
}

bool SandboxFs::has_layer(const std::string& id) const { return fs::exists(state_ + "/data/" + id); }
bool SandboxFs::has_archive(const std::string& id) const { return fs::exists(archive_path(id)); }

bool SandboxFs::mounted(const std::string& id) const {
  std::ifstream mounts("/proc/self/mounts");
  const auto target = " " + rootfs(id) + " ";
  std::string line;
  while (std::getline(mounts, line)) {
    if (line.find(target) != std::string::npos) return true;
  }
  return false;
}

events::Result<void> SandboxFs::make_subvolume(const std::string& id, int disk_gib) {
  const auto dir = state_ + "/data/" + id;
  if (!fs::exists(dir)) {
    if (auto made = btrfs::create_subvolume(dir); !made) return made.error();
  }
  if (auto limited = btrfs::limit_subvolume(dir, disk_gib); !limited) return limited.error();
  std::error_code ec;
  fs::create_directories(dir + "/work", ec);
  fs::create_directories(dir + "/upper", ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot create the layer of " + id + ": " + ec.message());
  return own(dir + "/upper", uid_base_);
}

events::Result<void> SandboxFs::create(const std::string& id, int disk_gib, bool from_image) {
  if (auto made = make_subvolume(id, disk_gib); !made) return made;
  const auto up = upper(id);
  std::error_code ec;
  const auto normal = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                      fs::perms::others_exec;
  struct Dir {
    const char* path;
    fs::perms mode;
  };
  auto make_dirs = [&](std::initializer_list<Dir> dirs) -> events::Result<void> {
    for (const auto& d : dirs) {
      const auto path = up + "/" + d.path;
      fs::create_directories(path, ec);
      fs::permissions(path, d.mode, ec);
      if (ec) return make_error(ErrorCode::unavailable, "cannot create " + path + ": " + ec.message());
      if (auto owned = own(path, uid_base_); !owned) return owned;
    }
    return {};
  };
  if (from_image) {
    // The image has its own tree: only the mount points the bundle needs.
    if (auto made = make_dirs({Dir{"proc", normal}, Dir{"sys", normal}, Dir{"dev", normal}, Dir{".platform", normal}});
        !made) {
      return made;
    }
    std::ofstream(up + "/.platform/daemon").flush();
    return own(up + "/.platform/daemon", uid_base_);
  }
  // The skeleton, owned by the sandbox's root: the host's merged /usr comes by bind mount.
  for (const auto* link : {"bin", "lib", "lib32", "lib64", "sbin"}) {
    const auto path = up + "/" + link;
    if (!fs::is_symlink(path)) fs::create_symlink(std::string("usr/") + link, path, ec);
    if (auto owned = own(path, uid_base_); !owned) return owned;
  }
  const auto sticky = fs::perms::all | fs::perms::sticky_bit;
  if (auto made = make_dirs({Dir{"usr", normal}, Dir{"etc", normal}, Dir{"proc", normal}, Dir{"sys", normal},
                             Dir{"dev", normal}, Dir{"run", normal}, Dir{"mnt", normal}, Dir{"var", normal},
                             Dir{"tmp", sticky}, Dir{"var/tmp", sticky}, Dir{"root", fs::perms::owner_all},
                             Dir{"home", normal}, Dir{"home/daytona", normal}, Dir{"workspace", normal},
                             Dir{".platform", normal}});
      !made) {
    return made;
  }
  std::ofstream(up + "/.platform/daemon").flush();  // the bind mount's target
  return own(up + "/.platform/daemon", uid_base_);
}

events::Result<void> SandboxFs::mount(const std::string& id, const std::vector<std::string>& lowers) {
  if (mounted(id)) return {};
  std::error_code ec;
  fs::create_directories(rootfs(id), ec);
  const auto data = state_ + "/data/" + id;
  std::string lowerdir = state_ + "/lower";
  if (!lowers.empty()) {
    lowerdir.clear();
    for (const auto& l : lowers) lowerdir += (lowerdir.empty() ? "" : ":") + l;
  }
  const auto options = "lowerdir=" + lowerdir + ",upperdir=" + data + "/upper,workdir=" + data + "/work,index=off,xino=off";
  if (::mount("overlay", rootfs(id).c_str(), "overlay", 0, options.c_str()) != 0) {
    return make_error(ErrorCode::unavailable, "overlay mount of " + id + " failed: " + std::strerror(errno));
  }
  return {};
}

events::Result<void> SandboxFs::unmount(const std::string& id) {
  if (!mounted(id)) return {};
  if (umount2(rootfs(id).c_str(), MNT_DETACH) != 0) {
    return make_error(ErrorCode::unavailable, "unmounting " + rootfs(id) + " failed: " + std::strerror(errno));
  }
  return {};
}

events::Result<std::string> SandboxFs::archive(const std::string& id) {
  if (!has_layer(id)) {
    if (has_archive(id)) return archive_path(id);  // done before a crash
    return make_error(ErrorCode::not_found, "sandbox " + id + " has no layer to archive");
  }
  if (auto u = unmount(id); !u) return u.error();
  const auto partial = archive_path(id) + ".partial";
  if (auto packed = run_checked({"tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", upper(id), "-cf",
                                 partial, "."});
      !packed) {
    return packed.error();
  }
  std::error_code ec;
  fs::rename(partial, archive_path(id), ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot store the archive of " + id + ": " + ec.message());
  if (auto gone = run_checked({"btrfs", "-q", "subvolume", "delete", state_ + "/data/" + id}); !gone) return gone.error();
  return archive_path(id);
}

events::Result<void> SandboxFs::restore(const std::string& id, int disk_gib) {
  if (!has_archive(id)) {
    if (has_layer(id)) return {};  // restored before a crash
    return make_error(ErrorCode::not_found, "sandbox " + id + " has no archive to restore");
  }
  if (has_layer(id)) {  // a half-done restore: start it over
    if (auto gone = run_checked({"btrfs", "-q", "subvolume", "delete", state_ + "/data/" + id}); !gone) return gone.error();
  }
  if (auto made = make_subvolume(id, disk_gib); !made) return made;
  if (auto unpacked = run_checked({"tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", upper(id),
                                   "-xpf", archive_path(id)});
      !unpacked) {
    return unpacked.error();
  }
  std::error_code ec;
  fs::remove(archive_path(id), ec);
  return {};
}

events::Result<void> SandboxFs::remove_local(const std::string& id) {
  if (auto u = unmount(id); !u) return u;
  if (has_layer(id)) {
    if (auto gone = run_checked({"btrfs", "-q", "subvolume", "delete", state_ + "/data/" + id}); !gone) return gone.error();
  }
  std::error_code ec;
  fs::remove_all(bundle_dir(id), ec);
  return {};
}

events::Result<void> SandboxFs::destroy(const std::string& id) {
  if (auto local = remove_local(id); !local) return local;
  std::error_code ec;
  fs::remove(archive_path(id), ec);
  fs::remove(archive_path(id) + ".partial", ec);
  return {};
}

events::Result<void> SandboxFs::resize(const std::string& id, int disk_gib) {
  return btrfs::limit_subvolume(state_ + "/data/" + id, disk_gib);
}

events::Result<std::string> SandboxFs::ensure_volume(const std::string& volume_id) {
  const auto dir = volume_dir(volume_id);
  std::error_code ec;
  if (!fs::exists(dir)) {
    fs::create_directories(dir, ec);
    if (ec) return make_error(ErrorCode::unavailable, "cannot create volume dir " + dir + ": " + ec.message());
    if (auto owned = own(dir, uid_base_); !owned) return owned.error();
  }
  return dir;
}

std::vector<std::string> SandboxFs::known() const {
  std::vector<std::string> out;
  for (const auto* dir : {"/data", "/data/.bundles"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(state_ + dir, ec)) {
      const auto name = e.path().filename().string();
      if (!events::SandboxId::parse(name)) continue;  // .bundles itself, or anything not a sandbox's
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

std::int64_t SandboxFs::disk_used(const std::string& id) const {
  auto r = run_command({"btrfs", "qgroup", "show", "--raw", "-f", state_ + "/data/" + id});
  if (!r || r->exit_code != 0) return 0;
  // The last line: "0/<qgroupid> <referenced> <exclusive> ..."
  const auto last = r->output.rfind("0/");
  if (last == std::string::npos) return 0;
  try {
    const auto space = r->output.find(' ', last);
    return std::stoll(r->output.substr(space));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace runner
