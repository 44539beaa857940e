#include "runner/bundle.hpp"

#include <algorithm>

namespace runner {

namespace json = boost::json;

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> kCaps = {
      "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",      "CAP_MKNOD",
      "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",     "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE",           "CAP_SYS_CHROOT",       "CAP_KILL",        "CAP_AUDIT_WRITE"};
  return kCaps;
}

namespace {

json::object mount(const std::string& destination, const std::string& type, const std::string& source,
                   std::initializer_list<const char*> options) {
  json::array opts;
  for (const auto* o : options) opts.emplace_back(o);
  return {{"destination", destination}, {"type", type}, {"source", source}, {"options", std::move(opts)}};
}

json::array strings(const std::vector<std::string>& v) {
  json::array out;
  for (const auto& s : v) out.emplace_back(s);
  return out;
}

}  // namespace

json::object oci_config(const SandboxSpec& spec, const BundleSettings& s) {
  json::array mounts{
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
      mount("/.platform/daemon", "bind", s.daemon, {"bind", "ro", "nosuid", "nodev"}),
  };
  if (spec.host_userland) {
    // The host's userland, read-only. Never idmapped: root inside must not own /etc.
    mounts.push_back(mount("/usr", "bind", "/usr", {"rbind", "ro", "nosuid", "nodev"}));
    mounts.push_back(mount("/etc", "bind", "/etc", {"rbind", "ro", "nosuid", "nodev"}));
  }
  if (!s.resolv_conf.empty()) {
    mounts.push_back(mount("/etc/resolv.conf", "bind", s.resolv_conf, {"bind", "ro", "nosuid", "nodev", "noexec"}));
  }
  for (const auto& v : spec.volumes) mounts.push_back(mount(v.path, "bind", v.host_dir, {"rbind", "rw", "nosuid", "nodev"}));

  // Later entries win: defaults, then the image's, then the sandbox's own.
  // On the host userland the toolbox's home and work dir are /home/daytona, as on Daytona.
  std::vector<std::string> vars{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                spec.host_userland ? "HOME=/home/daytona" : "HOME=/root",
                                "TERM=xterm-256color", "LANG=C.UTF-8"};
  auto set = [&vars](const std::string& kv) {
    const auto key = kv.substr(0, kv.find('=') + 1);
    auto same = std::find_if(vars.begin(), vars.end(), [&](const std::string& v) { return v.rfind(key, 0) == 0; });
    if (same != vars.end()) *same = kv;
    else vars.push_back(kv);
  };
  for (const auto& kv : spec.image_env) {
    if (kv.find('=') != std::string::npos) set(kv);
  }
  for (const auto& [k, v] : spec.env) set(k + "=" + v);
  set("SANDBOX_ID=" + spec.id);
  json::array env;
  for (const auto& kv : vars) env.emplace_back(kv);
  json::array args{"/.platform/daemon"};
  if (!spec.entrypoint.empty()) {
    args.emplace_back("--");
    for (const auto& a : spec.entrypoint) args.emplace_back(a);
  }

  const auto caps = strings(default_capabilities());
  const std::int64_t memory = static_cast<std::int64_t>(spec.memory_gib) << 30;
  json::object linux{
      {"namespaces", json::array{{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}},
                                 {{"type", "mount"}}, {{"type", "cgroup"}}, {{"type", "user"}}}},
      {"uidMappings", json::array{{{"containerID", 0}, {"hostID", s.uid_base}, {"size", 65536}}}},
      {"gidMappings", json::array{{{"containerID", 0}, {"hostID", s.uid_base}, {"size", 65536}}}},
      {"cgroupsPath", s.cgroups_path},
      {"resources",
       {{"devices", json::array{{{"allow", false}, {"access", "rwm"}}}},
        {"memory", {{"limit", memory}, {"swap", memory}}},
        {"pids", {{"limit", s.pids_limit}}},
        {"cpu", {{"quota", static_cast<std::int64_t>(spec.cpu) * s.cpu_period_us}, {"period", s.cpu_period_us}}}}},
      {"maskedPaths", json::array{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                                  "/sys/firmware", "/sys/devices/virtual/powercap"}},
      {"readonlyPaths", json::array{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
  json::object config{
      {"ociVersion", "1.0.0"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", std::move(args)},
        {"env", std::move(env)},
        {"cwd", spec.cwd.empty() ? "/" : spec.cwd},
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
        // At most the runner's own hard limit: crun cannot raise it (setrlimit fails).
        {"rlimits", json::array{{{"type", "RLIMIT_NOFILE"}, {"hard", 16384}, {"soft", 16384}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", s.rootfs}, {"readonly", false}}},
      {"hostname", "sandbox-" + spec.id.substr(0, 8)},
      {"mounts", std::move(mounts)},
      {"linux", std::move(linux)},
  };
  if (!s.seccomp_bpf.empty()) config["annotations"] = {{"run.oci.seccomp_bpf_data", s.seccomp_bpf}};
  return config;
}

}  // namespace runner
