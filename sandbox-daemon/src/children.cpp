#include "daemon/children.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace daemon_tb {

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    const auto key = kv.substr(0, kv.find('=') + 1);
    bool overridden = false;
    for (const auto& mine : extra) overridden |= mine.rfind(key, 0) == 0;
    if (!overridden) env.push_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

Children::Children(asio::io_context& io) : signals_(io, SIGCHLD) { wait_signal(); }

void Children::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    reap();
    wait_signal();
  });
}

void Children::reap() {
  int status = 0;
  pid_t pid = 0;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    const auto mine = running_.find(pid);
    const bool ours = mine != running_.end();
    if (ours) {
      if (mine->second) --active_;
      running_.erase(mine);
    }
    if (auto w = waiting_.find(pid); w != waiting_.end()) {
      auto callback = std::move(w->second);
      waiting_.erase(w);
      callback(status);
    } else if (ours) {
      exited_[pid] = status;
    }
  }
}

void Children::on_exit(pid_t pid, std::function<void(int)> callback) {
  if (auto e = exited_.find(pid); e != exited_.end()) {
    const int status = e->second;
    exited_.erase(e);
    callback(status);
    return;
  }
  waiting_[pid] = std::move(callback);
}

Spawned Children::spawn(const SpawnSpec& spec) {
  Spawned out;
  if (spec.argv.empty()) {
    out.error = "nothing to run";
    return out;
  }
  int in[2] = {-1, -1};
  int output[2] = {-1, -1};
  int errors[2] = {-1, -1};
  const bool to_files = !spec.stdout_file.empty();
  const bool split = !to_files && spec.separate_stderr;
  if ((spec.stdin_pipe && pipe2(in, O_CLOEXEC) != 0) || (!to_files && pipe2(output, O_CLOEXEC) != 0) ||
      (split && pipe2(errors, O_CLOEXEC) != 0)) {
    out.error = std::string("pipe: ") + std::strerror(errno);
    return out;
  }
  // Everything the child needs, made before the spawn.
  std::vector<std::string> env = environment_with(spec.env);
  std::vector<char*> envp;
  for (auto& kv : env) envp.push_back(kv.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = spec.argv;
  std::vector<char*> argv;
  for (auto& a : argv_copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  // posix_spawn (a vfork in glibc) rather than fork + exec: no copy of the daemon's page tables,
  // which on this kind of VM is about a millisecond of every command (sandbox-daemon/README.md).
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, static_cast<short>(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                     (spec.own_session ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP)));
  if (spec.stdin_pipe) posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  else posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // Output files are opened here, so that one that cannot be opened loses the output (to
  // /dev/null) rather than the start, as before.
  auto open_log = [](const std::string& path) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return fd >= 0 ? fd : open("/dev/null", O_WRONLY | O_CLOEXEC);
  };
  const int out_file = to_files ? open_log(spec.stdout_file) : -1;
  const int err_file = to_files ? open_log(spec.stderr_file) : -1;
  if (to_files) {
    posix_spawn_file_actions_adddup2(&actions, out_file, 1);
    posix_spawn_file_actions_adddup2(&actions, err_file, 2);
  } else {
    posix_spawn_file_actions_adddup2(&actions, output[1], 1);
    posix_spawn_file_actions_adddup2(&actions, split ? errors[1] : output[1], 2);
  }
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  pid_t pid = -1;
  const int failed = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spec.stdin_pipe) close(in[0]);
  if (!to_files) close(output[1]);
  if (split) close(errors[1]);
  if (to_files) {
    close(out_file);
    close(err_file);
  }
  if (failed != 0) {
    // The child could not start: the working directory (checked again here, to say which) or the
    // program. glibc has reaped it.
    struct stat dir {};
    const bool no_dir = !spec.cwd.empty() && (stat(spec.cwd.c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode) ||
                                              access(spec.cwd.c_str(), X_OK) != 0);
    out.error = (no_dir ? "cannot enter " + spec.cwd : "cannot run " + spec.argv[0]) + ": " + std::strerror(failed);
    if (spec.stdin_pipe) close(in[1]);
    if (!to_files) close(output[0]);
    if (split) close(errors[0]);
    return out;
  }
  running_[pid] = spec.is_activity;
  if (spec.is_activity) ++active_;
  out.pid = pid;
  out.stdin_fd = spec.stdin_pipe ? in[1] : -1;
  out.output_fd = to_files ? -1 : output[0];
  out.stderr_fd = split ? errors[0] : -1;
  return out;
}

}  // namespace daemon_tb
