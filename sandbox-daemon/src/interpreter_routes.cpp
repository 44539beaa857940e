// The code interpreter (compat spec §3.1: codeInterpreter.runCode): Python contexts whose
// variables live from one run to the next. A context is a python3 worker (the script below)
// reading one JSON request per line and answering with JSON lines — stdout, stderr, error, then
// control completed/interrupted — that the WebSocket /process/interpreter/execute passes on.
// A run past its timeout is interrupted (SIGINT, then the worker is replaced).
#include "daemon/toolbox.hpp"

#include <chrono>
#include <csignal>
#include <deque>
#include <unistd.h>

namespace daemon_tb {

namespace {

constexpr const char* kWorker = R"PY(
import json, os, sys, traceback
_out = os.fdopen(os.dup(1), 'w', buffering=1)
def _emit(o):
    _out.write(json.dumps(o) + '\n')
    _out.flush()
class _Stream:
    def __init__(self, kind): self.kind = kind
    def write(self, text):
        if text: _emit({'type': self.kind, 'text': text})
        return len(text)
    def flush(self): pass
    def isatty(self): return False
sys.stdout, sys.stderr = _Stream('stdout'), _Stream('stderr')
_ns = {'__name__': '__main__'}
for _line in sys.stdin:
    _req = json.loads(_line)
    os.environ.update(_req.get('envs') or {})
    try:
        exec(compile(_req['code'], '<cell>', 'exec'), _ns)
    except KeyboardInterrupt:
        _emit({'type': 'error', 'name': 'KeyboardInterrupt', 'value': 'interrupted: the run took longer than its timeout', 'traceback': ''})
        _emit({'type': 'control', 'text': 'interrupted'})
        continue
    except BaseException as _e:
        _emit({'type': 'error', 'name': type(_e).__name__, 'value': str(_e), 'traceback': traceback.format_exc()})
    _emit({'type': 'control', 'text': 'completed'})
)PY";

struct Context {
  std::string id;
  std::string cwd;
  std::string created_at;
  pid_t pid = -1;
  int stdin_fd = -1;
  std::unique_ptr<asio::posix::stream_descriptor> out;
  std::string pending;
  bool busy = false;
  bool dead = false;
  // The run in progress: its frames, and a timer cancelled whenever one arrives.
  std::deque<std::string> frames;
  std::shared_ptr<asio::steady_timer> wake;

  json::object info() const {
    return {{"id", id}, {"cwd", cwd}, {"language", "python"}, {"active", !dead}, {"createdAt", created_at}};
  }
};

class Contexts {
 public:
  explicit Contexts(Toolbox& tb) : tb_(tb) {}

  std::variant<std::shared_ptr<Context>, std::string> create(const std::string& id, const std::string& cwd) {
    auto c = std::make_shared<Context>();
    c->id = id;
    c->cwd = cwd.empty() ? tb_.work_dir : tb_.resolve(cwd);
    c->created_at = now_iso();
    SpawnSpec spec{{"python3", "-u", "-c", kWorker}, {}, c->cwd, true};
    spec.is_activity = false;  // an idle interpreter is no activity; a run is (busy())
    const auto spawned = tb_.children.spawn(spec);
    if (spawned.pid < 0) return "the code interpreter needs python3 in the sandbox: " + spawned.error;
    c->pid = spawned.pid;
    c->stdin_fd = spawned.stdin_fd;
    c->out = std::make_unique<asio::posix::stream_descriptor>(tb_.io, spawned.output_fd);
    std::weak_ptr<Context> weak = c;
    tb_.children.on_exit(spawned.pid, [weak](int) {
      if (auto ctx = weak.lock()) {
        ctx->dead = true;
        if (ctx->wake) ctx->wake->cancel();
      }
    });
    read(c);
    contexts_[id] = c;
    return c;
  }

  std::shared_ptr<Context> find(const std::string& id) const {
    auto it = contexts_.find(id);
    return it == contexts_.end() || it->second->dead ? nullptr : it->second;
  }
  const std::map<std::string, std::shared_ptr<Context>>& all() const { return contexts_; }
  void remove(const std::string& id) {
    auto it = contexts_.find(id);
    if (it == contexts_.end()) return;
    kill(it->second->pid, SIGKILL);
    close(it->second->stdin_fd);
    contexts_.erase(it);
  }
  bool busy() const {
    for (const auto& [id, c] : contexts_) {
      if (c->busy) return true;
    }
    return false;
  }

 private:
  void read(std::shared_ptr<Context> c) {
    auto buffer = std::make_shared<std::array<char, 8192>>();
    c->out->async_read_some(asio::buffer(*buffer), [this, c, buffer](const boost::system::error_code& ec, std::size_t n) {
      c->pending.append(buffer->data(), n);
      for (std::size_t nl; (nl = c->pending.find('\n')) != std::string::npos;) {
        c->frames.push_back(c->pending.substr(0, nl));
        c->pending.erase(0, nl + 1);
      }
      if (c->wake && !c->frames.empty()) c->wake->cancel();
      if (!ec) read(c);
    });
  }
  Toolbox& tb_;
  std::map<std::string, std::shared_ptr<Context>> contexts_;
};

std::unique_ptr<Contexts> contexts;  // the daemon's interpreter contexts: one set per process

// One run over the WebSocket: the request, then the worker's frames until control.
asio::awaitable<void> run(std::shared_ptr<WebSocket> ws) {
  auto send = [&](const json::object& o) -> asio::awaitable<void> {
    const auto text = json::serialize(o);
    co_await ws->async_write(asio::buffer(text), asio::use_awaitable);
  };
  try {
    beast::flat_buffer in;
    co_await ws->async_read(in, asio::use_awaitable);
    boost::system::error_code ec;
    auto request = json::parse(beast::buffers_to_string(in.data()), ec);
    const json::object error_base{{"type", "error"}, {"traceback", ""}};
    if (ec || !request.is_object() || !request.as_object().if_contains("code") || !request.as_object().at("code").is_string()) {
      json::object e = error_base;
      e["name"] = "BadRequest";
      e["value"] = "the first message must be JSON with a code string";
      co_await send(e);
      co_await ws->async_close(beast::websocket::close_code::policy_error, asio::use_awaitable);
      co_return;
    }
    auto& req = request.as_object();
    std::string context_id = "default";
    if (const auto* c = req.if_contains("contextId"); c != nullptr && c->is_string()) context_id = std::string(c->as_string());
    auto ctx = contexts->find(context_id);
    if (!ctx && context_id == "default") {
      auto made = contexts->create("default", "");
      if (auto* e = std::get_if<std::string>(&made)) {
        json::object err = error_base;
        err["name"] = "InterpreterUnavailable";
        err["value"] = *e;
        co_await send(err);
        co_await ws->async_close(beast::websocket::close_code::internal_error, asio::use_awaitable);
        co_return;
      }
      ctx = std::get<std::shared_ptr<Context>>(made);
    }
    if (!ctx || ctx->busy) {
      json::object err = error_base;
      err["name"] = ctx ? "ContextBusy" : "ContextNotFound";
      err["value"] = ctx ? "context " + context_id + " is running other code" : "context " + context_id + " not found";
      co_await send(err);
      co_await ws->async_close(beast::websocket::close_code::normal, asio::use_awaitable);
      co_return;
    }
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (const auto* t = req.if_contains("timeout"); t != nullptr && t->is_number() && t->to_number<double>() > 0) {
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<std::int64_t>(t->to_number<double>() * 1000));
    }
    json::object line{{"code", req.at("code")}};
    if (const auto* envs = req.if_contains("envs"); envs != nullptr && envs->is_object()) line["envs"] = *envs;
    const auto text = json::serialize(line) + "\n";
    ctx->busy = true;
    ctx->frames.clear();
    ctx->wake = std::make_shared<asio::steady_timer>(ws->get_executor());
    (void)!write(ctx->stdin_fd, text.data(), text.size());
    bool interrupted = false;
    bool done = false;
    while (!done) {
      while (!ctx->frames.empty() && !done) {
        const auto frame = ctx->frames.front();
        ctx->frames.pop_front();
        auto parsed = json::parse(frame, ec);
        if (!ec && parsed.is_object() && parsed.as_object().if_contains("type") && parsed.as_object().at("type") == "control") done = true;
        co_await ws->async_write(asio::buffer(frame), asio::use_awaitable);
      }
      if (done) break;
      if (ctx->dead) {
        json::object err = error_base;
        err["name"] = "InterpreterDied";
        err["value"] = "the interpreter process ended";
        co_await send(err);
        json::object control{{"type", "control"}, {"text", "interrupted"}};
        co_await send(control);
        contexts->remove(ctx->id);
        break;
      }
      if (deadline && std::chrono::steady_clock::now() >= *deadline) {
        if (!interrupted) {
          kill(ctx->pid, SIGINT);  // KeyboardInterrupt: the worker says "interrupted"
          interrupted = true;
          deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        } else {
          kill(ctx->pid, SIGKILL);  // it did not stop: the context is gone
          deadline.reset();
        }
      }
      ctx->wake->expires_at(deadline ? *deadline : std::chrono::steady_clock::now() + std::chrono::seconds(1));
      co_await ctx->wake->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    ctx->busy = false;
    ctx->wake.reset();
    co_await ws->async_close(beast::websocket::close_code::normal, asio::use_awaitable);
  } catch (const std::exception&) {
    // The client went away.
  }
}

}  // namespace

bool interpreter_in_use() { return contexts && contexts->busy(); }

void register_interpreter_routes(Server& server, Toolbox& tb) {
  contexts = std::make_unique<Contexts>(tb);
  using V = http::verb;
  server.add({V::get, "/process/interpreter/execute", BodyKind::none, [](Call& call) -> asio::awaitable<Reply> {
                if (!is_websocket(call)) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "a WebSocket upgrade is expected");
                const std::string no_protocol;
                auto ws = co_await accept_websocket(call, no_protocol);
                asio::co_spawn(ws->get_executor(), run(ws), asio::detached);
                co_return Reply{};
              }});
  server.add({V::post, "/process/interpreter/context", BodyKind::text, [](Call& call) -> asio::awaitable<Reply> {
                const auto v = body_object(call);
                if (!v) co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "the body must be a JSON object");
                std::string cwd;
                if (const auto* c = v->if_contains("cwd"); c != nullptr && c->is_string()) cwd = std::string(c->as_string());
                if (const auto* l = v->if_contains("language"); l != nullptr && l->is_string() && l->as_string() != "python") {
                  co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "the code interpreter runs python only");
                }
                auto made = contexts->create(new_id(), cwd);
                if (auto* e = std::get_if<std::string>(&made)) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", *e);
                co_return json_reply(http::status::ok, std::get<std::shared_ptr<Context>>(made)->info());
              }});
  server.add({V::get, "/process/interpreter/context", BodyKind::none, [](Call&) -> asio::awaitable<Reply> {
                json::array list;
                for (const auto& [id, c] : contexts->all()) {
                  if (id != "default" && !c->dead) list.push_back(c->info());
                }
                co_return json_reply(http::status::ok, {{"contexts", list}});
              }});
  server.add({V::delete_, "/process/interpreter/context/{id}", BodyKind::none, [](Call& call) -> asio::awaitable<Reply> {
                if (!contexts->find(call.params.at("id"))) {
                  co_return error_reply(call, http::status::not_found, "NOT_FOUND", "context " + call.params.at("id") + " not found");
                }
                contexts->remove(call.params.at("id"));
                co_return empty_reply(http::status::no_content);
              }});
}

}  // namespace daemon_tb
