// One process as a byte stream, for the SSH gateway (ssh-gateway/): what an SSH session channel
// needs from the sandbox. GET /process/stream with
//   command  what to run with `$SHELL -c` (absent: a login shell)
//   pty      a terminal type: the process gets a terminal (cols, rows) instead of pipes
//   env      a JSON object of variables to add
// and `Upgrade: sandbox-stream`; after the 101, frames (events/wire/stream.hpp): input, eof,
// resize and signal in; output (stdout or the terminal), error (stderr) and, last, exit out.
// The client leaving kills the process group with SIGHUP, as a closed terminal does.
#include "daemon/toolbox.hpp"
#include "events/wire/stream.hpp"

#include <boost/json/parse.hpp>

#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace daemon_tb {

namespace {

namespace wire = events::wire::stream;

int open_streams = 0;

constexpr std::pair<const char*, int> kSignals[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
                                                    {"KILL", SIGKILL}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
                                                    {"USR2", SIGUSR2}, {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}};

std::optional<int> signal_number(const std::string& name) {
  for (const auto& [n, s] : kSignals) {
    if (name == n) return s;
  }
  return std::nullopt;
}
std::string signal_name(int sig) {
  for (const auto& [n, s] : kSignals) {
    if (sig == s) return n;
  }
  return "SIG" + std::to_string(sig);
}

struct Stream : std::enable_shared_from_this<Stream> {
  std::unique_ptr<tcp::socket> socket;
  pid_t pid = -1;
  bool pty = false;
  std::unique_ptr<asio::posix::stream_descriptor> input;   // stdin, or the terminal
  std::vector<std::unique_ptr<asio::posix::stream_descriptor>> outputs;
  int open_outputs = 0;
  std::optional<int> status;
  bool finished = false;
  std::deque<std::string> queue;  // frames to write
  bool writing = false;

  Stream() { ++open_streams; }
  ~Stream() { --open_streams; }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  void send(wire::Frame type, std::string_view payload) {
    queue.push_back(wire::frame(type, payload));
    pump();
  }
  void pump() {
    if (writing || queue.empty() || !socket) return;
    writing = true;
    asio::async_write(*socket, asio::buffer(queue.front()), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      self->writing = false;
      self->queue.pop_front();
      if (ec) {
        self->queue.clear();
        return;
      }
      if (self->queue.empty() && self->finished) {
        boost::system::error_code ignored;
        self->socket->shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->pump();
    });
  }
  void read(asio::posix::stream_descriptor& from, wire::Frame channel) {
    auto buffer = std::make_shared<std::array<char, 16384>>();
    from.async_read_some(asio::buffer(*buffer), [self = shared_from_this(), &from, buffer, channel](const boost::system::error_code& ec, std::size_t n) {
      if (n > 0) self->send(channel, std::string_view(buffer->data(), n));
      if (ec) {  // EOF, or EIO from a terminal whose last process is gone
        --self->open_outputs;
        self->finish_if_done();
        return;
      }
      self->read(from, channel);
    });
  }
  void finish_if_done() {
    if (finished || open_outputs > 0 || !status) return;
    finished = true;
    json::object exit{{"type", "exit"}, {"exitCode", exit_code_of(*status)}};
    if (WIFSIGNALED(*status)) exit["signal"] = signal_name(WTERMSIG(*status));
    send(wire::Frame::exit, json::serialize(exit));
  }
  void control(wire::Frame type, const std::string& payload) {
    if (type == wire::Frame::eof) {
      if (pty) {
        const char eot = 4;  // what a terminal turns a closed input into: ^D
        (void)!write(input->native_handle(), &eot, 1);
      } else {
        input.reset();
      }
    } else if (type == wire::Frame::resize && pty) {
      boost::system::error_code ec;
      const auto v = json::parse(payload, ec);
      if (ec || !v.is_object()) return;
      const auto* cols = v.as_object().if_contains("cols");
      const auto* rows = v.as_object().if_contains("rows");
      if (cols == nullptr || rows == nullptr || !cols->is_int64() || !rows->is_int64()) return;
      winsize size{static_cast<unsigned short>(std::clamp<std::int64_t>(rows->as_int64(), 1, 1000)),
                   static_cast<unsigned short>(std::clamp<std::int64_t>(cols->as_int64(), 1, 1000)), 0, 0};
      ioctl(input->native_handle(), TIOCSWINSZ, &size);
    } else if (type == wire::Frame::signal) {
      if (auto sig = signal_number(payload); sig && !status) kill(-pid, *sig);
    }
  }
};

// The process with a terminal: forkpty, in its own session, the terminal its controlling one.
std::string spawn_pty(Stream& s, Toolbox& tb, const std::vector<std::string>& argv, std::vector<std::string> env,
                      int cols, int rows) {
  winsize size{static_cast<unsigned short>(rows), static_cast<unsigned short>(cols), 0, 0};
  auto env_storage = environment_with(env);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  auto args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);
  const std::string cwd = tb.home_dir.empty() ? tb.work_dir : tb.home_dir;
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE}) signal(sig, SIG_DFL);
    if (chdir(cwd.c_str()) != 0) (void)!chdir("/");
    execvpe(argp[0], argp.data(), envp.data());
    _exit(127);
  }
  if (pid < 0) return std::string("cannot open a terminal: ") + std::strerror(errno);
  fcntl(master, F_SETFD, FD_CLOEXEC);
  s.pid = pid;
  s.pty = true;
  const int second = dup(master);  // one descriptor reads, the other writes
  fcntl(second, F_SETFD, FD_CLOEXEC);
  s.input = std::make_unique<asio::posix::stream_descriptor>(tb.io, master);
  s.outputs.push_back(std::make_unique<asio::posix::stream_descriptor>(tb.io, second));
  return {};
}

// The client's frames until it leaves: input, or controls.
asio::awaitable<void> relay_input(std::shared_ptr<Stream> stream) {
  wire::Reader reader;
  std::array<char, 16384> buffer{};
  for (;;) {
    auto [ec, n] = co_await stream->socket->async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    reader.feed(std::string_view(buffer.data(), n));
    while (auto f = reader.next()) {
      if (f->first != wire::Frame::input) {
        stream->control(f->first, f->second);
      } else if (stream->input) {
        auto [wec, written] = co_await asio::async_write(*stream->input, asio::buffer(f->second), asio::as_tuple(asio::use_awaitable));
        if (wec && !stream->pty) stream->input.reset();  // the process closed its stdin
      }
    }
    if (reader.failed()) break;
  }
  if (!stream->status) kill(-stream->pid, SIGHUP);  // the client left: as a terminal hung up
}

asio::awaitable<Reply> open_stream(Call& call, Toolbox& tb) {
  if (!beast::iequals(call.header[http::field::upgrade], wire::kUpgrade)) {
    co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "an upgrade to sandbox-stream is expected");
  }
  std::vector<std::string> env;
  if (auto given = call.arg("env")) {
    boost::system::error_code ec;
    const auto v = json::parse(*given, ec);
    if (ec || !v.is_object()) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "env must be a JSON object");
    json::object wrapped{{"envs", v}};
    if (auto problem = read_envs(wrapped, env)) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", *problem);
  }
  const auto command = call.arg("command");
  const auto term = call.arg("pty");
  std::vector<std::string> argv{shell()};
  if (command) {
    argv.insert(argv.end(), {"-c", *command});
  } else {
    argv.emplace_back("-l");  // a login shell, as sshd starts one
  }
  auto stream = std::make_shared<Stream>();
  if (term) {
    env.push_back("TERM=" + (term->empty() ? std::string("xterm-256color") : *term));
    auto number = [&](const char* name, int fallback) {
      try {
        return std::clamp(std::stoi(call.arg(name).value_or(std::to_string(fallback))), 1, 1000);
      } catch (const std::exception&) {
        return fallback;
      }
    };
    if (auto problem = spawn_pty(*stream, tb, argv, env, number("cols", 80), number("rows", 24)); !problem.empty()) {
      co_return error_reply(call, http::status::internal_server_error, "PTY_FAILED", problem);
    }
  } else {
    SpawnSpec spec;
    spec.argv = argv;
    spec.env = env;
    spec.cwd = tb.home_dir.empty() ? tb.work_dir : tb.home_dir;
    spec.separate_stderr = true;
    auto spawned = tb.children.spawn(spec);
    if (spawned.pid < 0) co_return error_reply(call, http::status::bad_request, "START_FAILED", spawned.error);
    stream->pid = spawned.pid;
    stream->input = std::make_unique<asio::posix::stream_descriptor>(tb.io, spawned.stdin_fd);
    stream->outputs.push_back(std::make_unique<asio::posix::stream_descriptor>(tb.io, spawned.output_fd));
    stream->outputs.push_back(std::make_unique<asio::posix::stream_descriptor>(tb.io, spawned.stderr_fd));
  }
  stream->open_outputs = static_cast<int>(stream->outputs.size());  // before the exit can be seen
  std::weak_ptr<Stream> weak = stream;
  tb.children.on_exit(stream->pid, [weak](int status) {
    if (auto s = weak.lock()) {
      s->status = status;
      s->finish_if_done();
    }
  });
  stream->socket = std::make_unique<tcp::socket>(std::move(*call.socket));
  call.taken_over = true;
  const std::string switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: sandbox-stream\r\n\r\n";
  auto [wec, written] = co_await asio::async_write(*stream->socket, asio::buffer(switching), asio::as_tuple(asio::use_awaitable));
  if (wec) {
    kill(-stream->pid, SIGHUP);
    co_return Reply{};
  }
  stream->pump();  // what was queued before the upgrade was answered
  for (std::size_t i = 0; i < stream->outputs.size(); ++i) {
    stream->read(*stream->outputs[i], i == 0 ? wire::Frame::output : wire::Frame::error);
  }
  asio::co_spawn(stream->socket->get_executor(), relay_input(stream), asio::detached);
  co_return Reply{};
}

}  // namespace

bool stream_in_use() { return open_streams > 0; }

void register_stream_routes(Server& server, Toolbox& tb) {
  server.add({http::verb::get, "/process/stream", BodyKind::none, [&tb](Call& c) { return open_stream(c, tb); }});
}

}  // namespace daemon_tb
