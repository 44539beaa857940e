#include "daemon/children.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
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
  // Everything the child needs, made before fork (no allocation after it).
  std::vector<std::string> env = environment_with(spec.env);
  std::vector<char*> envp;
  for (auto& kv : env) envp.push_back(kv.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = spec.argv;
  std::vector<char*> argv;
  for (auto& a : argv_copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int report[2];  // exec failure reaches the parent through this pipe (closed on exec)
  if (pipe2(report, O_CLOEXEC) != 0) {
    out.error = std::string("pipe: ") + std::strerror(errno);
    return out;
  }

  const pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE}) signal(s, SIG_DFL);
    if (spec.own_session) setsid();
    else setpgid(0, 0);
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(spec.stdin_pipe ? in[0] : null_fd, 0);
    if (to_files) {
      const int out_fd = open(spec.stdout_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      const int err_fd = open(spec.stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(out_fd, 1);
      dup2(err_fd, 2);
    } else {
      dup2(output[1], 1);
      dup2(split ? errors[1] : output[1], 2);
    }
    if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) {
      const int failure[2] = {0, errno};  // stage 0: the working dir
      (void)!write(report[1], failure, sizeof failure);
      _exit(127);
    }
    execvpe(argv[0], argv.data(), envp.data());
    const int failure[2] = {1, errno};  // stage 1: exec
    (void)!write(report[1], failure, sizeof failure);
    _exit(127);
  }
  close(report[1]);
  if (spec.stdin_pipe) close(in[0]);
  if (!to_files) close(output[1]);
  if (split) close(errors[1]);
  if (pid < 0) {
    out.error = std::string("fork: ") + std::strerror(errno);
    close(report[0]);
    if (spec.stdin_pipe) close(in[1]);
    if (!to_files) close(output[0]);
    if (split) close(errors[0]);
    return out;
  }
  int failure[2] = {0, 0};
  const auto n = read(report[0], failure, sizeof failure);
  close(report[0]);
  if (n == sizeof failure) {
    out.error = (failure[0] == 0 ? "cannot enter " + spec.cwd : "cannot run " + spec.argv[0]) + ": " +
                std::strerror(failure[1]);
    waitpid(pid, nullptr, 0);
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
