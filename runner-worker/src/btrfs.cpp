#include "runner/btrfs.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace runner::btrfs {

using events::ErrorCode;
using events::make_error;

namespace {

// An open directory, closed on every way out.
class Dir {
 public:
  explicit Dir(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~Dir() {
    if (fd_ >= 0) ::close(fd_);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

events::Error failed(const std::string& what, int error) {
  return make_error(ErrorCode::unavailable, what + ": " + std::strerror(error));
}

}  // namespace

events::Result<void> create_subvolume(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string parent = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  btrfs_ioctl_vol_args args{};
  if (name.empty() || name.size() > BTRFS_PATH_NAME_MAX) {
    return make_error(ErrorCode::invalid_argument, "not a subvolume name: " + path);
  }
  std::memcpy(args.name, name.data(), name.size());
  const Dir dir(parent);
  if (dir.fd() < 0) return failed("btrfs subvolume create " + path + ": open " + parent, errno);
  if (::ioctl(dir.fd(), BTRFS_IOC_SUBVOL_CREATE, &args) != 0) return failed("btrfs subvolume create " + path, errno);
  return {};
}

events::Result<void> limit_subvolume(const std::string& path, int gib) {
  if (gib <= 0) return make_error(ErrorCode::invalid_argument, "a disk limit must be at least 1 GiB");
  btrfs_ioctl_qgroup_limit_args args{};
  args.qgroupid = 0;  // the qgroup of the subvolume the ioctl is made on
  args.lim.flags = BTRFS_QGROUP_LIMIT_MAX_RFER;
  args.lim.max_rfer = static_cast<std::uint64_t>(gib) << 30U;
  const Dir dir(path);
  if (dir.fd() < 0) return failed("btrfs qgroup limit " + path + ": open", errno);
  if (::ioctl(dir.fd(), BTRFS_IOC_QGROUP_LIMIT, &args) != 0) return failed("btrfs qgroup limit " + path, errno);
  return {};
}

}  // namespace runner::btrfs
