#include "daemon/http.hpp"
#include "events/http/accept.hpp"
#include "events/http/path.hpp"
#include "events/url.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <unistd.h>

namespace daemon_tb {

std::string now_iso() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

namespace {

// The query of a toolbox call (events/url.hpp, as the API parses its own); a malformed one
// counts as empty, and the handler then says what is missing.
std::multimap<std::string, std::string> parse_query(std::string_view q) {
  return events::url::query(q).value_or(std::multimap<std::string, std::string>{});
}

}  // namespace

std::string percent_decode(std::string_view text, bool form) {
  return events::url::decode(text, form).value_or(std::string(text));  // a malformed escape stays as it came
}

std::optional<std::string> Call::arg(const std::string& name) const {
  if (auto p = params.find(name); p != params.end()) return p->second;
  if (auto q = query.find(name); q != query.end()) return q->second;
  return std::nullopt;
}

Reply json_reply(http::status status, const json::value& body) { return Reply{status, json::serialize(body)}; }

std::optional<json::object> body_object(const Call& call) {
  if (call.body.empty()) return json::object{};
  boost::system::error_code ec;
  auto v = json::parse(call.body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}
Reply empty_reply(http::status status) { return Reply{status, "", ""}; }

Reply error_reply(const Call& call, http::status status, const std::string& code, const std::string& message) {
  return json_reply(status, json::object{{"statusCode", static_cast<int>(status)},
                                         {"message", message},
                                         {"code", code},
                                         {"source", "DAYTONA_DAEMON"},
                                         {"timestamp", now_iso()},
                                         {"path", call.path},
                                         {"method", std::string(call.header.method_string())}});
}

asio::awaitable<void> write_reply(tcp::socket& socket, const Reply& reply, bool keep_alive) {
  http::response<http::string_body> res{reply.status, 11};
  if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
  res.body() = reply.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  co_await http::async_write(socket, res, asio::use_awaitable);
}

bool is_websocket(const Call& call) {
  http::request<http::empty_body> req{call.header};
  return beast::websocket::is_upgrade(req);
}

asio::awaitable<std::shared_ptr<WebSocket>> accept_websocket(Call& call, const std::string& subprotocol) {
  http::request<http::empty_body> req{call.header};
  auto ws = std::make_shared<WebSocket>(std::move(*call.socket));
  call.taken_over = true;
  if (!subprotocol.empty()) {
    ws->set_option(beast::websocket::stream_base::decorator([subprotocol](beast::websocket::response_type& res) {
      res.set(http::field::sec_websocket_protocol, subprotocol);
    }));
  }
  co_await ws->async_accept(req, asio::use_awaitable);
  co_return ws;
}

Server::Server(asio::io_context& io, const std::string& address, unsigned short port)
    : acceptor_(io, tcp::endpoint(asio::ip::make_address(address), port)) {}

void Server::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

asio::awaitable<void> Server::accept_loop() {
  // No warnings: PID 1's output goes to /dev/null once it listens.
  co_await events::http::accept_connections(
      acceptor_, limits_,
      [this](tcp::socket socket, events::ConnectionLimits::Slot slot, const std::string&) {
        return serve(std::move(socket), std::move(slot));
      },
      "the toolbox");
}

// A malformed %-escape in a parameter leaves it as it came (events/http/path.hpp); the handler
// then finds no such file, session or process.
const Route* Server::match(http::verb method, const std::string& path, std::map<std::string, std::string>& params) const {
  for (const auto& r : routes_) {
    if (r.method != method) continue;
    if (auto found = events::http::match_path(r.pattern, path)) {
      params = std::move(found->params);
      return &r;
    }
  }
  return nullptr;
}

namespace {

// Closes the socket when a read has not finished by the deadline (a client that opened a
// connection and sends nothing, or stalls mid-request, holds it no longer). Handlers and taken-over
// sockets (terminals, followed logs) are not under it.
class Deadline {
 public:
  Deadline(tcp::socket& socket, std::chrono::seconds limit)
      : timer_(socket.get_executor()), armed_(std::make_shared<bool>(true)) {
    timer_.expires_after(limit);
    timer_.async_wait([&socket, armed = armed_](const boost::system::error_code& ec) {
      if (ec || !*armed) return;
      boost::system::error_code ignored;
      socket.close(ignored);
    });
  }
  ~Deadline() {
    *armed_ = false;
    timer_.cancel();
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> armed_;
};

// Longer than the edge proxy keeps an idle upstream connection (120 s): it closes first.
constexpr std::chrono::seconds kIdle{300};
constexpr std::chrono::seconds kBody{600};

}  // namespace

asio::awaitable<void> Server::serve(tcp::socket socket, [[maybe_unused]] events::ConnectionLimits::Slot slot) {
  beast::flat_buffer buffer;
  try {
    for (;;) {
      http::request_parser<http::empty_body> head;
      head.body_limit(boost::none);
      std::optional<Deadline> waiting;
      waiting.emplace(socket, kIdle);
      auto [ec, n] = co_await http::async_read_header(socket, buffer, head, asio::as_tuple(asio::use_awaitable));
      waiting.reset();
      if (ec) co_return;
      Call call;
      call.header = head.get().base();
      call.socket = &socket;
      call.keep_alive = head.get().keep_alive();
      const std::string target(head.get().target());
      const auto question = target.find('?');
      call.path = percent_decode(std::string_view(target).substr(0, question));
      if (question != std::string::npos) call.query = parse_query(std::string_view(target).substr(question + 1));

      const Route* route = match(head.get().method(), call.path, call.params);
      Reply reply;
      if (route == nullptr) {
        // Read and drop the body so the connection stays usable.
        http::request_parser<http::string_body> rest{std::move(head)};
        rest.body_limit(1 << 20);
        {
          const Deadline reading(socket, kBody);
          co_await http::async_read(socket, buffer, rest, asio::use_awaitable);
        }
        reply = error_reply(call, http::status::not_found, "NOT_FOUND",
                            "no toolbox endpoint " + std::string(call.header.method_string()) + " " + call.path);
      } else if (route->body == BodyKind::file) {
        char name[] = "/tmp/.daemon-upload-XXXXXX";
        const int fd = mkstemp(name);
        if (fd < 0) {
          reply = error_reply(call, http::status::internal_server_error, "FILE_WRITE_FAILED", "cannot buffer the upload in /tmp");
          call.keep_alive = false;
        } else {
          close(fd);
          call.body_file = name;
          http::request_parser<http::file_body> body{std::move(head)};
          body.body_limit(boost::none);
          beast::error_code open_ec;
          body.get().body().open(name, beast::file_mode::write, open_ec);
          {
            const Deadline reading(socket, kBody);
            co_await http::async_read(socket, buffer, body, asio::use_awaitable);
          }
          body.get().body().file().close(open_ec);
          reply = co_await route->handler(call);
          std::error_code rm;
          std::filesystem::remove(call.body_file, rm);
        }
      } else {
        {  // text, or a body the route ignores (read, so the connection stays in step)
          http::request_parser<http::string_body> body{std::move(head)};
          body.body_limit(64 << 20);
          const Deadline reading(socket, kBody);
          co_await http::async_read(socket, buffer, body, asio::use_awaitable);
          call.body = std::move(body.get().body());
        }
        reply = co_await route->handler(call);
      }
      if (call.taken_over) co_return;
      if (!call.replied) co_await write_reply(socket, reply, call.keep_alive);
      if (!call.keep_alive) break;
    }
  } catch (const std::exception&) {
    // The peer went away or sent something unreadable: the connection ends.
  }
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace daemon_tb
