// sandbox-daemon: PID 1 of every sandbox. Reaps orphans, starts the snapshot's entrypoint
// (`sandbox-daemon -- ARGV...`), serves the toolbox API on 127.0.0.1:$DAEMON_PORT (2280) inside
// the sandbox's network namespace, and on SIGTERM stops everything within a grace period.
#include "daemon/init.hpp"
#include "daemon/sessions.hpp"
#include "daemon/toolbox.hpp"

#include <csignal>
#include <functional>
#include <cstdio>
#include <string>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

int main(int argc, char** argv) {
  using namespace daemon_tb;
  std::vector<std::string> entrypoint;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      entrypoint.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  asio::io_context io(1);
  Children children(io);  // the SIGCHLD handler: installed before any child exists

  const char* home = std::getenv("HOME");
  char cwd[4096];
  Toolbox toolbox{io, children, home != nullptr && *home != '\0' ? home : "/root",
                  getcwd(cwd, sizeof cwd) != nullptr ? cwd : "/"};
  const char* port_text = std::getenv("DAEMON_PORT");
  const int port = port_text != nullptr ? std::atoi(port_text) : 2280;
  try {
    Server server(io, "127.0.0.1", static_cast<unsigned short>(port));
    // Listening: from here on nothing of ours goes to the stdout/stderr the runner gave PID 1 (a
    // file on the host, outside the sandbox's disk quota). Code inside the sandbox can write to
    // /proc/1/fd/1 as root; it now reaches /dev/null, not the host.
    if (const int null = open("/dev/null", O_WRONLY | O_CLOEXEC); null >= 0) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      close(null);
    }
    register_info_routes(server, toolbox);
    register_process_routes(server, toolbox);
    register_file_routes(server, toolbox);
    register_git_routes(server, toolbox);
    register_pty_routes(server, toolbox);
    register_stream_routes(server, toolbox);
    register_interpreter_routes(server, toolbox);
    Sessions sessions(io, children, toolbox.work_dir, "/tmp/.daemon-sessions");
    const pid_t entrypoint_pid = entrypoint.empty() ? -1 : sessions.start_entrypoint(entrypoint);
    // Signals for the sandbox's service (reload, user signals) go on to the entrypoint's group.
    asio::signal_set forwarded(io, SIGHUP, SIGUSR1, SIGUSR2);
    std::function<void()> forward = [&] {
      forwarded.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (entrypoint_pid > 0) kill(-entrypoint_pid, sig);
        forward();
      });
    };
    forward();
    register_session_routes(server, sessions);
    server.start();

    // While a toolbox process runs (execute, code-run, a session command, an attached terminal),
    // /.platform/activity is touched every 10 s; the runner reads its time and defers the
    // sandbox's auto-stop, so a long agent turn is not stopped under it.
    asio::steady_timer activity(io);
    std::function<void()> mark = [&] {
      if (children.active() > 0 || sessions.busy() || pty_in_use() || stream_in_use() || interpreter_in_use()) {
        std::FILE* f = std::fopen("/.platform/activity", "w");
        if (f != nullptr) std::fclose(f);
      }
      activity.expires_after(std::chrono::seconds(10));
      activity.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) mark();
      });
    };
    mark();

    asio::signal_set stop(io, SIGTERM, SIGINT);
    stop.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sandbox-daemon: toolbox on 127.0.0.1:%d: %s\n", port, e.what());
    // Still PID 1: wait for the end of the sandbox.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int sig = 0;
    sigwait(&set, &sig);
  }
  // kill(-1) reaches every process the caller may signal: only as the sandbox's PID 1.
  if (getpid() == 1) daemon_init::shut_down(std::chrono::milliseconds(2000));
  return 0;
}
