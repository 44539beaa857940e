// Sessions (compat spec §3.1): create, exec (sync and async), command status, logs (JSON, or a
// WebSocket that follows them with the stdout/stderr prefixes), input, list, delete.
#include "daemon/sessions.hpp"
#include "daemon/toolbox.hpp"

#include <unistd.h>

namespace daemon_tb {

namespace {

json::object command_json(const SessionCommand& c) {
  json::object o{{"id", c.id}, {"command", c.command}};
  if (c.exit_code) o["exitCode"] = *c.exit_code;
  return o;
}

json::object session_json(const Session& s) {
  json::array commands;
  for (const auto& c : s.commands) commands.push_back(command_json(*c));
  return {{"sessionId", s.id}, {"commands", commands}};
}

Reply bad_body(const Call& call, const std::string& m) {
  return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", m);
}

Reply no_session(const Call& call) {
  return error_reply(call, http::status::not_found, "NOT_FOUND", "session " + call.params.at("sessionId") + " not found");
}

struct Found {
  std::shared_ptr<Session> session;
  std::shared_ptr<SessionCommand> command;
};

std::variant<Found, Reply> find_command(const Call& call, Sessions& sessions) {
  auto s = sessions.find(call.params.at("sessionId"));
  if (!s) return no_session(call);
  for (const auto& c : s->commands) {
    if (c->id == call.params.at("commandId")) return Found{s, c};
  }
  return error_reply(call, http::status::not_found, "PROCESS_NOT_FOUND", "command " + call.params.at("commandId") + " not found");
}

json::object logs_json(const SessionCommand& c) {
  const auto out = Sessions::read_bounded(c.dir + "/stdout");
  const auto err = Sessions::read_bounded(c.dir + "/stderr");
  return {{"output", out + err}, {"stdout", out}, {"stderr", err}};
}

asio::awaitable<Reply> create(Call& call, Sessions& sessions) {
  auto body = body_object(call);
  if (!body || !body->if_contains("sessionId") || !body->at("sessionId").is_string()) {
    co_return bad_body(call, "sessionId must be a string");
  }
  const std::string id(body->at("sessionId").as_string());
  if (sessions.find(id)) co_return error_reply(call, http::status::conflict, "CONFLICT", "session " + id + " already exists");
  if (auto e = sessions.create(id)) co_return bad_body(call, *e);
  co_return empty_reply(http::status::created);
}

asio::awaitable<Reply> exec(Call& call, Sessions& sessions) {
  auto s = sessions.find(call.params.at("sessionId"));
  if (!s) co_return no_session(call);
  auto body = body_object(call);
  if (!body || !body->if_contains("command") || !body->at("command").is_string()) co_return bad_body(call, "command must be a string");
  bool async = false;
  for (const char* key : {"runAsync", "async"}) {
    if (const auto* v = body->if_contains(key); v != nullptr && v->is_bool()) async = async || v->as_bool();
  }
  if (s->ended) co_return error_reply(call, http::status::gone, "SESSION_ENDED", "session " + s->id + " has ended");
  auto c = sessions.run(*s, std::string(body->at("command").as_string()));
  if (!c) co_return error_reply(call, http::status::gone, "SESSION_ENDED", "session " + s->id + " has ended");
  if (async) co_return json_reply(http::status::accepted, {{"cmdId", c->id}});
  auto done = c->done;
  co_await done->async_wait(asio::as_tuple(asio::use_awaitable));
  auto out = logs_json(*c);
  out["cmdId"] = c->id;
  out["exitCode"] = c->exit_code.value_or(-1);
  co_return json_reply(http::status::ok, out);
}

asio::awaitable<void> follow(std::shared_ptr<WebSocket> ws, std::shared_ptr<SessionCommand> c) {
  std::size_t out_at = 0;
  std::size_t err_at = 0;
  asio::steady_timer pause(ws->get_executor());
  ws->binary(true);
  try {
    for (;;) {
      const bool finished = c->exit_code.has_value();  // looked at first: nothing written after it is missed
      for (auto [name, at, prefix] : {std::tuple{"/stdout", &out_at, "\x01\x01\x01"}, std::tuple{"/stderr", &err_at, "\x02\x02\x02"}}) {
        auto chunk = Sessions::read_file(c->dir + name, *at, 1 << 20);  // a backlog goes out a MiB at a time
        if (chunk.empty()) continue;
        *at += chunk.size();
        const std::string frame = std::string(prefix) + chunk;
        co_await ws->async_write(asio::buffer(frame), asio::use_awaitable);
      }
      if (finished) break;
      pause.expires_after(std::chrono::milliseconds(20));
      co_await pause.async_wait(asio::use_awaitable);
    }
    co_await ws->async_close(beast::websocket::close_code::normal, asio::use_awaitable);
  } catch (const std::exception&) {
    // The client went away.
  }
}

asio::awaitable<Reply> logs(Call& call, Sessions& sessions) {
  auto found = find_command(call, sessions);
  if (auto* r = std::get_if<Reply>(&found)) co_return *r;
  auto& f = std::get<Found>(found);
  if (!is_websocket(call)) co_return json_reply(http::status::ok, logs_json(*f.command));
  const std::string no_protocol;
  auto ws = co_await accept_websocket(call, no_protocol);
  asio::co_spawn(ws->get_executor(), follow(ws, f.command), asio::detached);
  co_return Reply{};
}

asio::awaitable<Reply> input(Call& call, Sessions& sessions) {
  auto found = find_command(call, sessions);
  if (auto* r = std::get_if<Reply>(&found)) co_return *r;
  auto& c = *std::get<Found>(found).command;
  auto body = body_object(call);
  if (!body || !body->if_contains("data") || !body->at("data").is_string()) co_return bad_body(call, "data must be a string");
  if (c.exit_code || c.input_fd < 0) {
    co_return error_reply(call, http::status::gone, "COMMAND_ALREADY_COMPLETED", "command " + c.id + " has completed");
  }
  const auto& data = body->at("data").as_string();
  if (write(c.input_fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    co_return error_reply(call, http::status::conflict, "CONFLICT", "the command is not reading its input fast enough");
  }
  co_return empty_reply(http::status::ok);
}

}  // namespace

void register_session_routes(Server& server, Sessions& sessions) {
  using V = http::verb;
  auto add = [&](V method, const char* path, BodyKind body, asio::awaitable<Reply> (*f)(Call&, Sessions&)) {
    server.add({method, path, body, [&sessions, f](Call& c) { return f(c, sessions); }});
  };
  add(V::post, "/process/session", BodyKind::text, create);
  add(V::post, "/process/session/{sessionId}/exec", BodyKind::text, exec);
  add(V::get, "/process/session/{sessionId}/command/{commandId}/logs", BodyKind::none, logs);
  add(V::post, "/process/session/{sessionId}/command/{commandId}/input", BodyKind::text, input);
  // The entrypoint's logs (getEntrypointLogs); the session itself is GET /process/session/entrypoint.
  server.add({V::get, "/process/session/entrypoint/logs", BodyKind::none, [&sessions](Call& call) {
                call.params["sessionId"] = "entrypoint";
                call.params["commandId"] = "entrypoint";
                return logs(call, sessions);
              }});
  server.add({V::get, "/process/session", BodyKind::none, [&sessions](Call&) -> asio::awaitable<Reply> {
                json::array out;
                for (const auto& s : sessions.all()) out.push_back(session_json(*s));
                co_return json_reply(http::status::ok, out);
              }});
  server.add({V::get, "/process/session/{sessionId}", BodyKind::none, [&sessions](Call& call) -> asio::awaitable<Reply> {
                auto s = sessions.find(call.params.at("sessionId"));
                if (!s) co_return no_session(call);
                co_return json_reply(http::status::ok, session_json(*s));
              }});
  server.add({V::delete_, "/process/session/{sessionId}", BodyKind::none, [&sessions](Call& call) -> asio::awaitable<Reply> {
                if (!sessions.find(call.params.at("sessionId"))) co_return no_session(call);
                sessions.remove(call.params.at("sessionId"));
                co_return empty_reply(http::status::no_content);
              }});
  server.add({V::get, "/process/session/{sessionId}/command/{commandId}", BodyKind::none,
              [&sessions](Call& call) -> asio::awaitable<Reply> {
                auto found = find_command(call, sessions);
                if (auto* r = std::get_if<Reply>(&found)) co_return *r;
                co_return json_reply(http::status::ok, command_json(*std::get<Found>(found).command));
              }});
}

}  // namespace daemon_tb
