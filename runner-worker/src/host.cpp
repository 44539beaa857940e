#include "runner/host.hpp"

#include "runner/command.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

namespace runner {

namespace fs = std::filesystem;
using events::ErrorCode;
using events::make_error;

events::Result<void> enter_private_mount_namespace() {
  if (unshare(CLONE_NEWNS) != 0) {
    return make_error(ErrorCode::unavailable, std::string("unshare(CLONE_NEWNS) failed: ") + std::strerror(errno) +
                                                  " (the runner needs root, and must call this before any thread starts)");
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return make_error(ErrorCode::unavailable, std::string("making / private failed: ") + std::strerror(errno));
  }
  if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return make_error(ErrorCode::unavailable,
                      std::string("cannot hide /sys/fs/cgroup/unified: ") + std::strerror(errno));
  }
  return {};
}

namespace {

bool is_mount_point(const std::string& dir) {
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mounts, line)) {
    // fields: id parent major:minor root mount-point ...
    std::size_t pos = 0;
    for (int i = 0; i < 4 && pos != std::string::npos; ++i) pos = line.find(' ', pos + 1);
    if (pos == std::string::npos) continue;
    const auto end = line.find(' ', pos + 1);
    if (line.substr(pos + 1, end - pos - 1) == dir) return true;
  }
  return false;
}

}  // namespace

events::Result<void> mount_data(const std::string& image, const std::string& dir, std::int64_t size_bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot create " + dir + ": " + ec.message());
  if (!fs::exists(image)) {
    {
      std::ofstream create(image);
    }
    fs::resize_file(image, static_cast<std::uintmax_t>(size_bytes), ec);
    if (ec) return make_error(ErrorCode::unavailable, "cannot size " + image + ": " + ec.message());
    if (auto made = run_checked({"mkfs.btrfs", "-q", image}); !made) {
      fs::remove(image, ec);
      return made.error();
    }
  }
  const auto absolute = fs::absolute(dir).lexically_normal().string();
  if (!is_mount_point(absolute)) {
    if (auto mounted = run_checked({"mount", "-o", "loop", image, absolute}); !mounted) return mounted.error();
  }
  if (auto quota = run_checked({"btrfs", "quota", "enable", absolute}); !quota) return quota.error();
  return {};
}

}  // namespace runner
