// PTY sessions over WebSocket (compat spec §3.1): create-connect, create, connect, resize, kill,
// list, info. Output goes to the attached client as binary frames (held, up to 64 KiB, while
// none is attached); the client's frames are the terminal's input. With the exit-control
// subprotocol the end is a {"type":"control","status":"exited","exitCode":n} frame, then close 1000.
#include "daemon/toolbox.hpp"
#include "daemon/pty_headers.hpp"

#include <boost/beast/core/detail/base64.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace daemon_tb {

namespace {

constexpr const char* kExitControl = "X-Daytona-Pty-Exit-Control";

struct Pty : std::enable_shared_from_this<Pty> {
  std::string id;
  std::string cwd;
  std::map<std::string, std::string> envs;
  int cols = 80;
  int rows = 24;
  std::string created_at;
  pid_t pid = -1;
  std::unique_ptr<asio::posix::stream_descriptor> master;
  std::optional<int> exit_code;
  bool output_done = false;
  bool finished = false;
  // The attached client and what waits to be written to it.
  std::shared_ptr<WebSocket> client;
  bool exit_control = false;
  std::deque<std::pair<bool, std::string>> queue;  // (text frame?, data)
  bool writing = false;
  std::string held;  // output while no client is attached

  json::object info() const {
    json::object e;
    for (const auto& [k, v] : envs) e[k] = v;
    return {{"id", id}, {"cwd", cwd}, {"envs", e}, {"cols", cols}, {"rows", rows}, {"createdAt", created_at},
            {"active", !finished}, {"lazyStart", false}};
  }

  void send(bool text, std::string data) {
    if (!client) {
      if (!text) {
        held += data;
        if (held.size() > 65536) held.erase(0, held.size() - 65536);
      }
      return;
    }
    queue.emplace_back(text, std::move(data));
    pump();
  }
  void pump() {
    if (writing || queue.empty() || !client) return;
    writing = true;
    auto ws = client;
    ws->text(queue.front().first);
    ws->async_write(asio::buffer(queue.front().second), [self = shared_from_this(), ws](const boost::system::error_code& ec, std::size_t) {
      self->writing = false;
      if (!self->queue.empty()) self->queue.pop_front();
      if (ec) {
        if (self->client == ws) self->client.reset();
        self->queue.clear();
        return;
      }
      if (self->queue.empty() && self->finished) {
        self->close_client();
        return;
      }
      self->pump();
    });
  }
  void close_client() {
    auto ws = client;
    if (!ws) return;
    client.reset();
    const std::string reason = json::serialize(json::object{{"exitCode", exit_code.value_or(-1)}});
    beast::websocket::close_reason why(beast::websocket::close_code::normal, reason);
    ws->async_close(why, [ws](const boost::system::error_code&) {});
  }
  // Both the output's end and the exit status are in: tell the client, then close.
  void finish_if_done() {
    if (finished || !output_done || !exit_code) return;
    finished = true;
    if (exit_control) {
      send(true, json::serialize(json::object{{"type", "control"}, {"status", "exited"}, {"exitCode", *exit_code}}));
    }
    if (!writing && queue.empty()) close_client();
  }
  void read_output() {
    auto buffer = std::make_shared<std::array<char, 8192>>();
    master->async_read_some(asio::buffer(*buffer), [self = shared_from_this(), buffer](const boost::system::error_code& ec, std::size_t n) {
      if (n > 0) self->send(false, std::string(buffer->data(), n));
      if (ec) {  // EIO: the terminal's last process is gone
        self->output_done = true;
        self->finish_if_done();
        return;
      }
      self->read_output();
    });
  }
};

class Ptys {
 public:
  Ptys(Toolbox& tb, asio::io_context& io) : tb_(tb), io_(io) {}

  std::variant<std::shared_ptr<Pty>, std::string> create(const std::string& id, int cols, int rows, const std::string& cwd,
                                                         const std::map<std::string, std::string>& envs) {
    if (id.empty() || id.size() > 200) return std::string("id must be 1 to 200 characters");
    if (auto old = ptys_.find(id); old != ptys_.end()) {
      if (!old->second->finished) return std::string("a PTY session " + id + " already exists");
      ptys_.erase(old);
    }
    auto p = std::make_shared<Pty>();
    p->id = id;
    p->cols = cols;
    p->rows = rows;
    p->cwd = cwd.empty() ? tb_.work_dir : tb_.resolve(cwd);
    p->envs = envs;
    p->created_at = now_iso();
    std::vector<std::string> extra{"TERM=xterm-256color"};
    for (const auto& [k, v] : envs) extra.push_back(k + "=" + v);
    winsize size{static_cast<unsigned short>(rows), static_cast<unsigned short>(cols), 0, 0};
    int master = -1;
    // Prepared before fork: the child only calls async-signal-safe functions.
    auto env_storage = environment_with(extra);
    std::vector<char*> envp;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string arg0 = shell();
    std::string interactive = "-i";
    char* argv[] = {arg0.data(), interactive.data(), nullptr};
    const pid_t pid = forkpty(&master, nullptr, nullptr, &size);
    if (pid == 0) {
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE}) signal(s, SIG_DFL);
      if (chdir(p->cwd.c_str()) != 0) _exit(127);
      execvpe(argv[0], argv, envp.data());
      _exit(127);
    }
    if (pid < 0) return std::string("cannot open a terminal: ") + std::strerror(errno);
    fcntl(master, F_SETFD, FD_CLOEXEC);
    p->pid = pid;
    p->master = std::make_unique<asio::posix::stream_descriptor>(io_, master);
    std::weak_ptr<Pty> weak = p;
    tb_.children.on_exit(pid, [weak](int status) {
      if (auto pty = weak.lock()) {
        pty->exit_code = exit_code_of(status);
        pty->finish_if_done();
      }
    });
    p->read_output();
    ptys_[id] = p;
    return p;
  }

  std::shared_ptr<Pty> find(const std::string& id) const {
    auto it = ptys_.find(id);
    return it == ptys_.end() ? nullptr : it->second;
  }
  const std::map<std::string, std::shared_ptr<Pty>>& all() const { return ptys_; }
  void erase(const std::string& id) { ptys_.erase(id); }

 private:
  Toolbox& tb_;
  asio::io_context& io_;
  std::map<std::string, std::shared_ptr<Pty>> ptys_;
};

std::vector<std::string> offered_protocols(const Call& call) {
  return split_protocols(call.header[http::field::sec_websocket_protocol]);
}

int int_arg(const Call& call, const char* name, int fallback) {
  try {
    if (auto v = call.arg(name)) return std::stoi(*v);
  } catch (const std::exception&) {
  }
  return fallback;
}

// Attaches the client to the terminal until it leaves (the terminal keeps running).
asio::awaitable<void> attach(std::shared_ptr<Pty> pty, std::shared_ptr<WebSocket> ws, bool exit_control) {
  if (pty->client) pty->close_client();  // one client at a time: the newest
  pty->client = ws;
  pty->exit_control = pty->exit_control || exit_control;
  pty->send(true, json::serialize(json::object{{"type", "control"}, {"status", "connected"}}));
  if (!pty->held.empty()) {
    auto held = std::move(pty->held);
    pty->held.clear();
    pty->send(false, std::move(held));
  }
  if (pty->finished) pty->finish_if_done();
  beast::flat_buffer in;
  for (;;) {
    auto [ec, n] = co_await ws->async_read(in, asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    if (!pty->finished) {
      const auto data = beast::buffers_to_string(in.data());
      (void)!write(pty->master->native_handle(), data.data(), data.size());
    }
    in.consume(in.size());
  }
  if (pty->client == ws) pty->client.reset();
}

asio::awaitable<Reply> create_connect(Call& call, Ptys& ptys) {
  if (!is_websocket(call)) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "a WebSocket upgrade is expected");
  const auto offered = offered_protocols(call);
  const auto envs = envs_from_protocols(offered);
  if (!envs) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "the PTY envs subprotocol is not base64url JSON");
  const bool exit_control = std::find(offered.begin(), offered.end(), kExitControl) != offered.end();
  auto created = ptys.create(call.arg("id").value_or(""), int_arg(call, "cols", 80), int_arg(call, "rows", 24),
                             call.arg("cwd").value_or(""), *envs);
  if (auto* e = std::get_if<std::string>(&created)) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", *e);
  auto pty = std::get<std::shared_ptr<Pty>>(created);
  const std::string protocol = exit_control ? kExitControl : offered.empty() ? "" : offered.front();
  auto ws = co_await accept_websocket(call, protocol);
  asio::co_spawn(ws->get_executor(), attach(pty, ws, exit_control), asio::detached);
  co_return Reply{};
}

asio::awaitable<Reply> connect(Call& call, Ptys& ptys) {
  auto pty = ptys.find(call.params.at("id"));
  if (!pty) co_return error_reply(call, http::status::not_found, "NOT_FOUND", "PTY session " + call.params.at("id") + " not found");
  if (!is_websocket(call)) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "a WebSocket upgrade is expected");
  const auto offered = offered_protocols(call);
  const bool exit_control = std::find(offered.begin(), offered.end(), kExitControl) != offered.end();
  const std::string protocol = exit_control ? kExitControl : offered.empty() ? "" : offered.front();
  auto ws = co_await accept_websocket(call, protocol);
  asio::co_spawn(ws->get_executor(), attach(pty, ws, exit_control), asio::detached);
  co_return Reply{};
}

asio::awaitable<Reply> create(Call& call, Ptys& ptys) {
  const auto body = body_object(call);
  if (!body) co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "the body must be a JSON object");
  const auto& o = *body;
  auto text = [&](const char* k) { return o.if_contains(k) && o.at(k).is_string() ? std::string(o.at(k).as_string()) : std::string(); };
  auto number = [&](const char* k, int d) { return o.if_contains(k) && o.at(k).is_int64() ? static_cast<int>(o.at(k).as_int64()) : d; };
  std::map<std::string, std::string> envs;
  if (const auto* e = o.if_contains("envs"); e != nullptr && e->is_object()) {
    for (const auto& [k, val] : e->as_object()) {
      if (val.is_string()) envs[std::string(k)] = std::string(val.as_string());
    }
  }
  auto created = ptys.create(text("id"), number("cols", 80), number("rows", 24), text("cwd"), envs);
  if (auto* e = std::get_if<std::string>(&created)) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", *e);
  co_return json_reply(http::status::created, {{"sessionId", text("id")}});
}

asio::awaitable<Reply> resize(Call& call, Ptys& ptys) {
  auto pty = ptys.find(call.params.at("id"));
  if (!pty) co_return error_reply(call, http::status::not_found, "NOT_FOUND", "PTY session " + call.params.at("id") + " not found");
  const auto body = body_object(call);
  const auto* cols = body ? body->if_contains("cols") : nullptr;
  const auto* rows = body ? body->if_contains("rows") : nullptr;
  if (cols == nullptr || rows == nullptr || !cols->is_int64() || !rows->is_int64()) {
    co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "cols and rows must be integers");
  }
  // Checked before anything changes: a refused resize leaves the terminal as it was.
  if (cols->as_int64() < 1 || rows->as_int64() < 1 || cols->as_int64() > 1000 || rows->as_int64() > 1000) {
    co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "cols and rows must be 1 to 1000");
  }
  pty->cols = static_cast<int>(cols->as_int64());
  pty->rows = static_cast<int>(rows->as_int64());
  winsize size{static_cast<unsigned short>(pty->rows), static_cast<unsigned short>(pty->cols), 0, 0};
  if (!pty->finished) ioctl(pty->master->native_handle(), TIOCSWINSZ, &size);
  co_return json_reply(http::status::ok, pty->info());
}

}  // namespace

namespace {
std::unique_ptr<Ptys> ptys;  // the daemon's terminals: one set per process
}  // namespace

bool pty_in_use() {
  if (!ptys) return false;
  for (const auto& [id, pty] : ptys->all()) {
    if (pty->client && !pty->finished) return true;
  }
  return false;
}

void register_pty_routes(Server& server, Toolbox& tb) {
  ptys = std::make_unique<Ptys>(tb, tb.io);
  auto& p = *ptys;
  using V = http::verb;
  auto add = [&](V method, const char* path, BodyKind body, asio::awaitable<Reply> (*f)(Call&, Ptys&)) {
    server.add({method, path, body, [&p, f](Call& c) { return f(c, p); }});
  };
  add(V::get, "/process/pty/create-connect", BodyKind::none, create_connect);
  add(V::post, "/process/pty", BodyKind::text, create);
  add(V::get, "/process/pty/{id}/connect", BodyKind::none, connect);
  add(V::post, "/process/pty/{id}/resize", BodyKind::text, resize);
  server.add({V::get, "/process/pty", BodyKind::none, [&p](Call&) -> asio::awaitable<Reply> {
                json::array sessions;
                for (const auto& [id, pty] : p.all()) sessions.push_back(pty->info());
                co_return json_reply(http::status::ok, {{"sessions", sessions}});
              }});
  server.add({V::get, "/process/pty/{id}", BodyKind::none, [&p](Call& call) -> asio::awaitable<Reply> {
                auto pty = p.find(call.params.at("id"));
                if (!pty) co_return error_reply(call, http::status::not_found, "NOT_FOUND", "PTY session not found");
                co_return json_reply(http::status::ok, pty->info());
              }});
  server.add({V::delete_, "/process/pty/{id}", BodyKind::none, [&p](Call& call) -> asio::awaitable<Reply> {
                auto pty = p.find(call.params.at("id"));
                if (!pty) co_return error_reply(call, http::status::not_found, "NOT_FOUND", "PTY session not found");
                if (!pty->finished) kill(-pty->pid, SIGKILL);
                co_return json_reply(http::status::ok, {{"id", pty->id}});
              }});
}

}  // namespace daemon_tb
