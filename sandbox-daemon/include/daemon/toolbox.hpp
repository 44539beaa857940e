#pragma once
// The toolbox's routes (compat spec §3), registered on the daemon's server. What they share:
// the children, the sandbox's home and working dirs (relative paths resolve against the work
// dir), and running a process to its end with a timeout.
#include "daemon/children.hpp"
#include "daemon/http.hpp"

#include <chrono>
#include <optional>

namespace daemon_tb {

struct Toolbox {
  asio::io_context& io;
  Children& children;
  std::string home_dir;
  std::string work_dir;

  // An absolute path: `path` as given, or against the work dir.
  std::string resolve(const std::string& path) const;
};

struct RunResult {
  std::string start_error;  // set when it could not start
  bool timed_out = false;
  int exit_code = -1;
  std::string output;       // stdout and stderr as they came, bounded (bounded_output.hpp)
  bool truncated = false;   // output was left out; the text says how much
};

// Runs to the end (or to the timeout: then its process group is killed), feeding `input` on
// stdin. Output left in the pipe after the process ended is collected; a background child that
// keeps the pipe open does not hold the reply.
asio::awaitable<RunResult> run_to_end(Children& children, SpawnSpec spec, std::string input,
                                      std::optional<std::chrono::milliseconds> timeout);

// `program` is an executable in a directory of $PATH.
bool on_path(const std::string& program);
// The shell toolbox commands run in: bash when the sandbox has it, else sh.
std::string shell();
// A random id in the UUID text form (session commands, interpreter contexts).
std::string new_id();

// The `envs` field: an object of strings with keys like shell variables; a message when not.
std::optional<std::string> read_envs(const json::object& body, std::vector<std::string>& out);

void register_info_routes(Server& server, Toolbox& toolbox);
void register_process_routes(Server& server, Toolbox& toolbox);
void register_file_routes(Server& server, Toolbox& toolbox);
void register_git_routes(Server& server, Toolbox& toolbox);
void register_pty_routes(Server& server, Toolbox& toolbox);
// A terminal has a client attached (someone is at it).
bool pty_in_use();
// A process as a byte stream over a WebSocket, for the SSH gateway (stream_routes.cpp).
void register_stream_routes(Server& server, Toolbox& toolbox);
// A stream's process is running (someone is in the sandbox over SSH).
bool stream_in_use();
void register_interpreter_routes(Server& server, Toolbox& toolbox);
// The code interpreter is running code.
bool interpreter_in_use();
class Sessions;
void register_session_routes(Server& server, Sessions& sessions);

}  // namespace daemon_tb
