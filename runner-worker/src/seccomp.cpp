#include "runner/seccomp.hpp"

#include <seccomp.h>

#include <boost/beast/core/detail/base64.hpp>

#include <cerrno>
#include <cstdio>
#include <set>
#include <unistd.h>

namespace runner {

const std::vector<std::string>& refused_syscalls() {
  static const std::vector<std::string> kRefused = {
      "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
      "finit_module", "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
      "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "migrate_pages", "move_pages",
      "mount", "mount_setattr", "move_mount", "fsconfig", "fsmount", "fsopen", "fspick", "open_tree",
      "name_to_handle_at", "nfsservctl", "open_by_handle_at", "perf_event_open", "pivot_root",
      "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl", "quotactl_fd", "reboot",
      "request_key", "set_mempolicy", "set_mempolicy_home_node", "setns", "settimeofday", "stime", "swapon",
      "swapoff", "sysfs", "_sysctl", "syslog", "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat",
      "vm86", "vm86old", "vhangup", "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init",
      "memfd_secret"};
  return kRefused;
}

namespace {

constexpr std::uint64_t kCloneNamespaceFlags = 0x7E020000;  // NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
constexpr std::uint64_t kPersonalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

struct Filter {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  ~Filter() {
    if (ctx != nullptr) seccomp_release(ctx);
  }
};

events::Error failed(const std::string& what, int rc) {
  return events::make_error(events::ErrorCode::unavailable, "seccomp: " + what + " failed (" + std::to_string(-rc) + ")");
}

}  // namespace

events::Result<std::string> seccomp_bpf_base64() {
  Filter f;
  if (f.ctx == nullptr) return events::make_error(events::ErrorCode::unavailable, "seccomp: cannot create a filter");
  const std::set<std::string> refused(refused_syscalls().begin(), refused_syscalls().end());
  const std::set<std::string> special = {"clone", "clone3", "personality"};
  for (int nr = 0; nr < 1024; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (name == nullptr) continue;
    const std::string n(name);
    std::free(name);
    if (refused.contains(n) || special.contains(n)) continue;
    if (int rc = seccomp_rule_add(f.ctx, SCMP_ACT_ALLOW, nr, 0); rc < 0) return failed("allowing " + n, rc);
  }
  if (int rc = seccomp_rule_add(f.ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                SCMP_A0(SCMP_CMP_MASKED_EQ, kCloneNamespaceFlags, 0));
      rc < 0) {
    return failed("the clone rule", rc);
  }
  if (int rc = seccomp_rule_add(f.ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0); rc < 0) return failed("clone3", rc);
  for (auto p : kPersonalities) {
    if (int rc = seccomp_rule_add(f.ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1, SCMP_A0(SCMP_CMP_EQ, p)); rc < 0) {
      return failed("the personality rule", rc);
    }
  }
  // Export through a pipe-free temp file: seccomp_export_bpf writes to a descriptor.
  char path[] = "/tmp/seccomp-bpf-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return events::make_error(events::ErrorCode::unavailable, "seccomp: cannot create a temp file");
  unlink(path);
  const int rc = seccomp_export_bpf(f.ctx, fd);
  std::string bpf;
  if (rc == 0) {
    lseek(fd, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) bpf.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  if (rc < 0) return failed("export", rc);
  std::string out(boost::beast::detail::base64::encoded_size(bpf.size()), '\0');
  out.resize(boost::beast::detail::base64::encode(out.data(), bpf.data(), bpf.size()));
  return out;
}

}  // namespace runner
