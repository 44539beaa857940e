#include "edge/proxy.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "edge/relay.hpp"

#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

#include <optional>

namespace edge {

namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

enum class Kind { toolbox, preview, health, unknown };

struct Target {
  Kind kind = Kind::unknown;
  std::string sandbox;
  unsigned short port = 0;
  std::string upstream_target;  // what the sandbox sees
  std::string query_token;      // DAYTONA_SANDBOX_AUTH_KEY from the query
};

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::optional<unsigned short> port_of(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  return static_cast<unsigned short>(port);
}

// The value of `name` in a list of name=value pairs split by `separator` (a query string,
// a Cookie header); empty when absent.
std::string pair_value(std::string_view pairs, std::string_view name, char separator) {
  while (!pairs.empty()) {
    while (!pairs.empty() && pairs.front() == ' ') pairs.remove_prefix(1);
    const auto end = pairs.find(separator);
    const auto pair = pairs.substr(0, end);
    if (pair.substr(0, name.size()) == name && pair.size() > name.size() && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    if (end == std::string_view::npos) break;
    pairs.remove_prefix(end + 1);
  }
  return {};
}

std::string query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string() : pair_value(target.substr(q + 1), name, '&');
}

// "/a/b/rest?x" split after `count` segments: the segments and the rest (starting with '/').
std::pair<std::vector<std::string_view>, std::string> split_path(std::string_view target, std::size_t count) {
  std::vector<std::string_view> parts;
  std::size_t at = 0;
  while (parts.size() < count && at < target.size() && target[at] == '/') {
    const auto end = target.find_first_of("/?", at + 1);
    parts.push_back(target.substr(at + 1, (end == std::string_view::npos ? target.size() : end) - at - 1));
    at = end == std::string_view::npos ? target.size() : end;
  }
  std::string rest(target.substr(at));
  if (rest.empty() || rest.front() == '?') rest.insert(0, "/");
  return {parts, rest};
}

Target classify(const http::request_header<>& req, const ProxySettings& settings) {
  Target t;
  const std::string_view target = req.target();
  // Host form: {port}-{sandboxId}.<preview domain>[:port]
  std::string_view host = req[http::field::host];
  if (const auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
  const std::string suffix = "." + settings.preview_domain;
  if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix) {
    const auto label = host.substr(0, host.size() - suffix.size());
    const auto dash = label.find('-');
    const auto port = dash == std::string_view::npos ? std::nullopt : port_of(label.substr(0, dash));
    if (port && is_uuid(label.substr(dash + 1))) {
      t.kind = Kind::preview;
      t.port = *port;
      t.sandbox = std::string(label.substr(dash + 1));
      t.upstream_target = std::string(target);
      t.query_token = query_param(target, "DAYTONA_SANDBOX_AUTH_KEY");
    }
    return t;
  }
  auto [parts, rest] = split_path(target, 3);
  if (parts.size() >= 2 && parts[0] == "toolbox" && is_uuid(parts[1])) {
    auto [two, after] = split_path(target, 2);
    t.kind = Kind::toolbox;
    t.sandbox = std::string(parts[1]);
    t.port = settings.daemon_port;
    // The deprecated form repeats "toolbox": /toolbox/{id}/toolbox/{path}.
    if (after.rfind("/toolbox/", 0) == 0) after.erase(0, 8);
    t.upstream_target = after;
  } else if (parts.size() == 3 && parts[0] == "preview" && is_uuid(parts[1]) && port_of(parts[2])) {
    t.kind = Kind::preview;
    t.sandbox = std::string(parts[1]);
    t.port = *port_of(parts[2]);
    t.upstream_target = rest;
    t.query_token = query_param(target, "DAYTONA_SANDBOX_AUTH_KEY");
  } else if (target == "/health") {
    t.kind = Kind::health;
  }
  return t;
}

std::string cookie_name(const std::string& sandbox) { return "daytona-preview-" + sandbox; }

http::response<http::string_body> error_response(http::status status, const std::string& message) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = json::serialize(json::object{{"statusCode", static_cast<int>(status)},
                                            {"error", std::string(http::obsolete_reason(status))},
                                            {"message", message}});
  res.keep_alive(false);  // the request's body may be unread
  res.prepare_payload();
  return res;
}

struct Upstream {
  std::string key;  // sandbox:port
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

struct Failure {
  http::status status;
  std::string message;
  bool not_running = false;  // the runner does not run the sandbox (now)
};

}  // namespace

Proxy::Proxy(asio::io_context& io, ProxySettings settings, Platform& platform)
    : io_(io), settings_(std::move(settings)), platform_(platform),
      acceptor_(io, tcp::endpoint(asio::ip::make_address(settings_.address), settings_.port)) {}

void Proxy::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

asio::awaitable<void> Proxy::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;
    }
    socket.set_option(tcp::no_delay(true));
    auto ex = socket.get_executor();
    asio::co_spawn(ex, serve(std::move(socket)), asio::detached);
  }
}

namespace {

// Opens a connection into the sandbox's port through its runner's forwarding endpoint.
asio::awaitable<std::variant<std::unique_ptr<Upstream>, Failure>> open_upstream(const SandboxRoute& route,
                                                                                 unsigned short port,
                                                                                 std::chrono::seconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  auto up = std::make_unique<Upstream>(Upstream{route.id + ":" + std::to_string(port), beast::tcp_stream(ex), {}});
  const auto colon = route.runner_endpoint.rfind(':');
  if (route.runner_endpoint.empty() || colon == std::string::npos) {
    co_return Failure{http::status::service_unavailable, "sandbox " + route.id + " has no runner to reach it through"};
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(route.runner_endpoint.substr(0, colon), ec);
  const auto runner_port = port_of(route.runner_endpoint.substr(colon + 1));
  if (ec || !runner_port) co_return Failure{http::status::bad_gateway, "runner endpoint " + route.runner_endpoint + " is not an address"};
  up->stream.expires_after(timeout);
  auto [cec] = co_await up->stream.async_connect(tcp::endpoint(address, *runner_port), asio::as_tuple(asio::use_awaitable));
  if (cec) co_return Failure{http::status::bad_gateway, "the runner of sandbox " + route.id + " does not answer"};
  up->stream.socket().set_option(tcp::no_delay(true));
  const std::string connect = "CONNECT " + up->key + " HTTP/1.1\r\nHost: " + up->key + "\r\n\r\n";
  auto [wec, wn] = co_await asio::async_write(up->stream, asio::buffer(connect), asio::as_tuple(asio::use_awaitable));
  if (wec) co_return Failure{http::status::bad_gateway, "the runner of sandbox " + route.id + " closed the connection"};
  http::response_parser<http::empty_body> reply;
  reply.skip(true);  // a CONNECT answer has no body
  auto [rec, rn] = co_await http::async_read_header(up->stream, up->buffer, reply, asio::as_tuple(asio::use_awaitable));
  if (rec) co_return Failure{http::status::bad_gateway, "the runner of sandbox " + route.id + " closed the connection"};
  up->stream.expires_never();
  switch (reply.get().result_int()) {
    case 200: co_return std::move(up);
    case 404: co_return Failure{http::status::bad_gateway, "sandbox " + route.id + " is not running on its runner", true};
    case 502:
      co_return Failure{http::status::bad_gateway,
                        "nothing listens on port " + std::to_string(port) + " in sandbox " + route.id};
    default: co_return Failure{http::status::bad_gateway, "the runner refused: " + std::string(reply.get().reason())};
  }
}

}  // namespace

asio::awaitable<void> Proxy::serve(tcp::socket socket) {
  beast::tcp_stream client(std::move(socket));
  beast::flat_buffer buffer;
  std::unique_ptr<Upstream> upstream;
  // An answer of the proxy's own, written after the loop (the connection then closes). Built
  // outside any co_await: g++ 12 destroys temporaries in a co_await expression twice.
  std::optional<http::response<http::string_body>> refusal;
  auto fail = [&](http::status status, const std::string& message) { refusal = error_response(status, message); };
  try {
    for (;;) {
      http::request_parser<http::empty_body> head;
      head.body_limit(boost::none);
      client.expires_after(settings_.idle_timeout);
      auto [ec, n] = co_await http::async_read_header(client, buffer, head, asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      client.expires_never();
      auto& req = head.get();
      const auto target = classify(req, settings_);
      if (target.kind == Kind::health) {
        fail(http::status::ok, "ok");
        break;
      }
      if (target.kind == Kind::unknown) {
        fail(http::status::not_found, "no route for " + std::string(req.target()) +
                                                   ": use /toolbox/{sandboxId}/..., /preview/{sandboxId}/{port}/... or "
                                                   "the host {port}-{sandboxId}." + settings_.preview_domain);
        break;
      }
      // Who may pass. A toolbox request's key is checked while the sandbox is looked up (both
      // ask the platform; a new sandbox's first request would otherwise wait for two answers).
      const std::string_view auth = req[http::field::authorization];
      const bool bearer = auth.size() > 7 && auth.substr(0, 7) == "Bearer ";
      const std::string api_key = bearer ? std::string(auth.substr(7)) : std::string();
      Lookup lookup;
      int key_status = 0;
      if (target.kind == Kind::toolbox && bearer) {
        auto both = co_await (platform_.sandbox(target.sandbox) && platform_.key_status(api_key, target.sandbox));
        lookup = std::move(std::get<0>(both));
        key_status = std::get<1>(both);
      } else {
        lookup = co_await platform_.sandbox(target.sandbox);
      }
      if (lookup.status != 200) {
        fail(lookup.status == 404 ? http::status::not_found : http::status::bad_gateway, lookup.message);
        break;
      }
      const auto& route = lookup.route;
      std::string new_cookie;
      if (target.kind == Kind::toolbox) {
        if (!bearer) {
          fail(http::status::unauthorized, "the toolbox needs an API key: Authorization: Bearer <key>");
          break;
        }
        const int status = key_status;
        if (status == 401) {
          fail(http::status::unauthorized, "the API key is not valid");
          break;
        }
        if (status != 200) {
          fail(status == 404 || status == 403 ? http::status::not_found : http::status::bad_gateway,
                        status == 404 || status == 403 ? "Sandbox with ID " + target.sandbox + " not found"
                                                       : "the platform did not answer");
          break;
        }
        req.erase(http::field::authorization);
      } else if (!route.is_public) {
        std::string token(req["x-daytona-preview-token"]);
        if (token.empty()) token = target.query_token;
        if (token.empty()) token = pair_value(req[http::field::cookie], cookie_name(route.id), ';');
        if (token != route.preview_token) {
          fail(http::status::unauthorized,
                        "sandbox " + route.id + " is private: send its preview token (x-daytona-preview-token header "
                        "or DAYTONA_SANDBOX_AUTH_KEY query parameter)");
          break;
        }
        if (!target.query_token.empty()) {
          new_cookie = cookie_name(route.id) + "=" + token + "; Path=/; HttpOnly; SameSite=Lax";
        }
      }
      if (route.state != "started") {
        fail(http::status::conflict, "sandbox " + route.id + " is " + route.state + ": start it to reach it");
        break;
      }
      // Into the sandbox.
      const auto key = route.id + ":" + std::to_string(target.port);
      if (!upstream || upstream->key != key) {
        auto opened = co_await open_upstream(route, target.port, settings_.connect_timeout);
        if (auto* f = std::get_if<Failure>(&opened)) {
          if (f->not_running) {
            // The cached state was older than a stop: ask again, and say what the sandbox is.
            platform_.forget(route.id);
            const auto fresh = co_await platform_.sandbox(route.id);
            if (fresh.status == 200 && fresh.route.state != "started") {
              fail(http::status::conflict, "sandbox " + route.id + " is " + fresh.route.state + ": start it to reach it");
              break;
            }
          }
          fail(f->status, f->message);
          break;
        }
        upstream = std::move(std::get<std::unique_ptr<Upstream>>(opened));
      }
      platform_.record_activity(client.get_executor(), route.id);
      req.target(target.upstream_target);
      const bool client_keep_alive = req.keep_alive();
      const bool upgrade = beast::websocket::is_upgrade(req);
      const bool head_request = req.method() == http::verb::head;

      http::request_parser<http::buffer_body> request{std::move(head)};
      co_await relay_message(client, buffer, request, upstream->stream);
      http::response_parser<http::buffer_body> response;
      response.body_limit(boost::none);
      if (head_request) response.skip(true);
      auto [rec, rn] = co_await http::async_read_header(upstream->stream, upstream->buffer, response,
                                                        asio::as_tuple(asio::use_awaitable));
      if (rec) {
        fail(http::status::bad_gateway, "sandbox " + route.id + " closed the connection on port " +
                                                     std::to_string(target.port) + " without answering");
        break;
      }
      if (!new_cookie.empty()) response.get().insert(http::field::set_cookie, new_cookie);
      const bool switching = response.get().result() == http::status::switching_protocols;
      const bool upstream_keep_alive = response.get().keep_alive();
      // A body that ends when the upstream closes can only be passed on the same way.
      const auto code = response.get().result_int();
      const bool ends_at_close = !head_request && !response.chunked() && !response.content_length() &&
                                 code >= 200 && code != 204 && code != 304;
      const bool keep_client = client_keep_alive && !ends_at_close;
      if (!switching) response.get().keep_alive(keep_client);
      co_await relay_message(upstream->stream, upstream->buffer, response, client);
      if (upgrade && switching) {
        // Bytes that came with the headers first, then a plain tunnel.
        if (buffer.size() > 0) co_await asio::async_write(upstream->stream, buffer.data(), asio::use_awaitable);
        if (upstream->buffer.size() > 0) co_await asio::async_write(client, upstream->buffer.data(), asio::use_awaitable);
        co_await tunnel(client, upstream->stream);
        break;
      }
      if (!upstream_keep_alive || ends_at_close) upstream.reset();
      if (!keep_client) break;
    }
    if (refusal) co_await http::async_write(client, *refusal, asio::as_tuple(asio::use_awaitable));
  } catch (const std::exception&) {
    // A side went away mid-message: the connection ends.
  }
  beast::error_code ignored;
  client.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace edge
