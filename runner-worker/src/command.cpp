#include "runner/command.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace runner {

events::Result<CommandResult> run_command(const std::vector<std::string>& argv, const std::string& cwd,
                                          const std::string& log_file) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return events::make_error(events::ErrorCode::unavailable, "pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (log_file.empty()) {
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return events::make_error(events::ErrorCode::unavailable, "cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  CommandResult result;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n > 0) {
      if (result.output.size() < (1 << 20)) result.output.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

events::Result<std::string> run_checked(const std::vector<std::string>& argv, const std::string& cwd) {
  auto r = run_command(argv, cwd);
  if (!r) return r.error();
  if (r->exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    auto text = r->output;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return events::make_error(events::ErrorCode::unavailable,
                              cmd + " failed (exit " + std::to_string(r->exit_code) + "): " + text.substr(0, 500));
  }
  return std::move(r->output);
}

}  // namespace runner
