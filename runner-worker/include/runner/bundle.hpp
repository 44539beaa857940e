#pragma once
// The OCI runtime config (config.json) of one sandbox: what crun runs. Isolation is on by
// default: user namespace (root inside is an unprivileged host range), pid/net/ipc/uts/mount/
// cgroup namespaces, Docker's default capabilities, no new privileges, Docker's masked and
// read-only paths, the seccomp filter of seccomp.hpp, and the limits of the sandbox's resources.
#include <boost/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace runner {

struct VolumeBind {
  std::string host_dir;
  std::string path;  // inside the sandbox
};

struct SandboxSpec {
  std::string id;
  int cpu = 1;         // cores
  int memory_gib = 1;
  int disk_gib = 3;
  std::map<std::string, std::string> env;
  std::vector<VolumeBind> volumes;
  // From an image: its env (under the sandbox's), working dir and entrypoint (the daemon starts
  // it), and none of the host's userland.
  bool host_userland = true;
  std::vector<std::string> image_env;  // KEY=VALUE
  std::string cwd = "/";
  std::vector<std::string> entrypoint;
};

struct BundleSettings {
  std::string rootfs;          // the mounted overlay (merged dir)
  std::string daemon;          // host path of the sandbox daemon, bind-mounted read-only as PID 1
  std::string cgroups_path;    // e.g. /sandbox-platform/<runner>/<sandbox>
  std::string seccomp_bpf;     // base64 BPF (seccomp.hpp); empty: no filter (tests of the filter itself)
  unsigned uid_base = 100000;  // root inside = this uid outside; 65536 ids mapped
  int pids_limit = 1024;
  int cpu_period_us = 10000;   // short periods: fewer long stalls at the quota
  std::string resolv_conf;     // host file bind-mounted read-only at /etc/resolv.conf (egress on); empty: none
};

// Docker's default capability set (no wider).
const std::vector<std::string>& default_capabilities();

boost::json::object oci_config(const SandboxSpec& spec, const BundleSettings& settings);

}  // namespace runner
