#pragma once
// Sessions (compat spec §3.1): a long-lived shell per session, so `cd` and `export` carry over
// from one command to the next. A command is written to the shell's stdin wrapped so that its
// stdout and stderr go to files of its own and its stdin comes from a FIFO the daemon holds
// (input), then the shell prints a marker line with the command's id and exit status on its own
// stdout, which only the daemon reads. `exit` in a command ends the session.
#include "daemon/children.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace daemon_tb {

struct SessionCommand {
  std::string id;
  std::string command;
  std::string dir;  // stdout, stderr, input (FIFO)
  std::optional<int> exit_code;
  int input_fd = -1;
  std::shared_ptr<asio::steady_timer> done;  // cancelled when the command ends
};

struct Session {
  std::string id;
  pid_t shell = -1;
  int stdin_fd = -1;
  std::unique_ptr<asio::posix::stream_descriptor> markers;
  std::string pending;  // marker text not yet a whole line
  std::vector<std::shared_ptr<SessionCommand>> commands;
  bool ended = false;
};

class Sessions {
 public:
  Sessions(asio::io_context& io, Children& children, std::string work_dir, std::string root_dir);
  // An error message, or nothing.
  std::optional<std::string> create(const std::string& id);
  std::shared_ptr<Session> find(const std::string& id) const;
  std::vector<std::shared_ptr<Session>> all() const;
  // Starts a command in the session; empty when the session has ended.
  std::shared_ptr<SessionCommand> run(Session& s, const std::string& command);
  void remove(const std::string& id);
  // A command of some session is still running.
  bool busy() const;
  // The snapshot's entrypoint, as the command of the session "entrypoint" (its logs are files);
  // its pid (also its process group and session), or -1.
  pid_t start_entrypoint(const std::vector<std::string>& argv);
  // The files of a command: stdout and stderr as they are now.
  static std::string read_file(const std::string& path, std::size_t from = 0, std::size_t max = SIZE_MAX);
  // The whole file within the output bound (bounded_output.hpp): head and tail of a huge log.
  static std::string read_bounded(const std::string& path);

 private:
  void read_markers(std::shared_ptr<Session> s);
  void finish(Session& s, const std::string& command_id, int exit_code);
  asio::io_context& io_;
  Children& children_;
  std::string work_dir_;
  std::string root_;  // where the commands' files go
  std::map<std::string, std::shared_ptr<Session>> sessions_;
  std::uint64_t counter_ = 0;
};

}  // namespace daemon_tb
