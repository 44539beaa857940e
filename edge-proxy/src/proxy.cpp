#include "edge/proxy.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "edge/classify.hpp"
#include "edge/relay.hpp"

#include "events/access.hpp"
#include "events/http/accept.hpp"

#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <optional>
#include <sys/socket.h>

namespace edge {

namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

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

struct Failure {
  http::status status;
  std::string message;
  bool not_running = false;  // the runner does not run the sandbox (now)
};

}  // namespace

struct Upstream {
  std::string key;  // sandbox:port
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

Proxy::Proxy(asio::io_context& io, ProxySettings settings, Platform& platform)
    : io_(io), settings_(std::move(settings)), platform_(platform),
      acceptor_(io, tcp::endpoint(asio::ip::make_address(settings_.address), settings_.port)),
      limits_(settings_.connections) {}

Proxy::~Proxy() = default;

void Proxy::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

asio::awaitable<void> Proxy::accept_loop() {
  co_await events::http::accept_connections(
      acceptor_, limits_,
      [this](tcp::socket socket, events::ConnectionLimits::Slot slot, std::string remote) {
        return serve(std::move(socket), std::move(slot), std::move(remote));
      },
      "the proxy", [](const std::string& message) { spdlog::warn("{}", message); });
}

namespace {

// Opens a connection into the sandbox's port through its runner's forwarding endpoint.
asio::awaitable<std::variant<std::unique_ptr<Upstream>, Failure>> open_upstream(const SandboxRoute& route,
                                                                                 unsigned short port,
                                                                                 std::chrono::seconds timeout,
                                                                                 const std::string& forward_key) {
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
  const std::string connect = "CONNECT " + up->key + " HTTP/1.1\r\nHost: " + up->key +
                              "\r\nProxy-Authorization: Bearer " + forward_key + "\r\n\r\n";
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

void Proxy::prepare(const SandboxRoute& route) {
  asio::co_spawn(asio::make_strand(io_), open_spare(route), asio::detached);
}

asio::awaitable<void> Proxy::open_spare(SandboxRoute route) {
  auto opened = co_await open_upstream(route, settings_.daemon_port, settings_.connect_timeout, settings_.forward_key);
  auto* up = std::get_if<std::unique_ptr<Upstream>>(&opened);
  if (up == nullptr) co_return;  // the first request opens its own, and says what failed
  std::lock_guard lock(spares_mutex_);
  const auto now = Clock::now();
  std::erase_if(spares_, [&](const auto& spare) { return now - spare.second.first >= kSpareLife; });
  if (spares_.size() >= kMostSpares) co_return;
  const auto key = (*up)->key;  // read before the move below: the right side of = goes first
  spares_[key] = {now, std::move(*up)};
}

std::unique_ptr<Upstream> Proxy::take_spare(const std::string& key) {
  std::unique_ptr<Upstream> spare;
  {
    std::lock_guard lock(spares_mutex_);
    auto it = spares_.find(key);
    if (it == spares_.end()) return nullptr;
    if (Clock::now() - it->second.first < kSpareLife) spare = std::move(it->second.second);
    spares_.erase(it);
  }
  if (!spare) return nullptr;
  // Still open? Nothing may have come on it yet: a byte, an end or an error means it is done.
  char byte = 0;
  const auto got = ::recv(spare->stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (got != -1 || (errno != EAGAIN && errno != EWOULDBLOCK)) return nullptr;
  return spare;
}

asio::awaitable<void> Proxy::serve(tcp::socket socket, [[maybe_unused]] events::ConnectionLimits::Slot slot,
                                   std::string remote) {
  beast::tcp_stream client(std::move(socket));
  beast::flat_buffer buffer;
  std::unique_ptr<Upstream> upstream;
  // An answer of the proxy's own, written after the loop (the connection then closes). Built
  // outside any co_await: g++ 12 destroys temporaries in a co_await expression twice.
  std::optional<http::response<http::string_body>> refusal;
  auto fail = [&](http::status status, const std::string& message) { refusal = error_response(status, message); };
  auto retry_later = [&](http::status status, const std::string& message, const std::string& seconds) {
    fail(status, message);
    refusal->set(http::field::retry_after, seconds.empty() ? "2" : seconds);
  };
  try {
    for (;;) {
      http::request_parser<http::empty_body> head;
      head.body_limit(boost::none);
      head.header_limit(static_cast<std::uint32_t>(settings_.header_limit));
      client.expires_after(settings_.idle_timeout);
      auto [ec, n] = co_await http::async_read_header(client, buffer, head, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::header_limit) {
        fail(http::status::request_header_fields_too_large,
             "request headers are larger than " + std::to_string(settings_.header_limit) + " bytes");
        break;
      }
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
          ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
        break;
      }
      if (ec) {
        // Conflicting Content-Length and Transfer-Encoding, a bad chunk size, garbage: say so.
        fail(http::status::bad_request, "malformed HTTP request: " + ec.message());
        break;
      }
      client.expires_never();
      auto& req = head.get();
      const auto target = classify(req.target(), req[http::field::host], settings_.preview_domain, settings_.daemon_port);
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
      if (target.kind == Kind::preview && target.port == settings_.daemon_port) {
        // The daemon's port is the toolbox: only the toolbox route, with an API key, reaches it.
        fail(http::status::forbidden, "port " + std::to_string(target.port) +
                                          " is the sandbox's toolbox: use /toolbox/{sandboxId}/... with an API key");
        break;
      }
      // Who may pass (events/access.hpp). A toolbox request's key is checked while the sandbox is
      // looked up (both ask the platform; a new sandbox's first request would otherwise wait for two).
      const std::string_view auth = req[http::field::authorization];
      const bool bearer = auth.size() > 7 && auth.substr(0, 7) == "Bearer ";
      const std::string api_key = bearer ? std::string(auth.substr(7)) : std::string();
      if (target.kind == Kind::toolbox && !bearer) {
        fail(http::status::unauthorized, "the toolbox needs an API key: Authorization: Bearer <key>");
        break;
      }
      Lookup lookup;
      KeyCheck key_check;
      if (target.kind == Kind::toolbox) {
        auto both = co_await (platform_.sandbox(target.sandbox) && platform_.check_key(api_key, target.sandbox, remote));
        lookup = std::move(std::get<0>(both));
        key_check = std::move(std::get<1>(both));
        if (key_check.status == 401) {
          fail(http::status::unauthorized, "the API key is not valid");
          break;
        }
        if (key_check.status == 429) {
          retry_later(http::status::too_many_requests, key_check.message, key_check.retry_after);
          break;
        }
        if (key_check.status == 404 || (key_check.status == 200 && lookup.status == 404)) {
          fail(http::status::not_found, "Sandbox with ID " + target.sandbox + " not found");
          break;
        }
        if (key_check.status != 200) {
          retry_later(http::status::service_unavailable, "the platform did not answer; retry shortly",
                      key_check.retry_after);
          break;
        }
      } else {
        lookup = co_await platform_.sandbox(target.sandbox);
      }
      if (lookup.status != 200 && lookup.status != 404) {
        retry_later(http::status::service_unavailable, lookup.message + "; retry shortly", "");
        break;
      }
      const auto& route = lookup.route;
      std::string new_cookie;
      if (target.kind == Kind::toolbox) {
        req.erase(http::field::authorization);
      } else {
        // A preview: anyone for a public sandbox; otherwise a token signed for this sandbox port.
        // A sandbox that does not exist answers as a private one does.
        std::string token(req["x-daytona-preview-token"]);
        if (token.empty()) token = target.query_token;
        if (token.empty()) token = pair_value(req[http::field::cookie], preview_cookie_name(target.sandbox, target.port), ';');
        events::access::Caller caller = events::access::Anonymous{};
        const auto sandbox_id = events::SandboxId::parse(target.sandbox);
        if (!token.empty() && settings_.preview_keys && sandbox_id &&
            events::tokens::verify_preview(*settings_.preview_keys, token, *sandbox_id, target.port,
                                           events::tokens::unix_now())) {
          caller = events::access::PreviewCaller{*sandbox_id, target.port};
        }
        const auto owner = events::OrganizationId::parse(route.organization_id);
        const bool allowed = lookup.status == 200 && sandbox_id && owner &&
                             events::access::authorize(caller, events::access::Action::preview,
                                                       events::access::sandbox_port(*sandbox_id, *owner, route.is_public,
                                                                                    target.port));
        if (!allowed) {
          if (lookup.status == 404 && std::holds_alternative<events::access::PreviewCaller>(caller)) {
            fail(http::status::not_found, "Sandbox with ID " + target.sandbox + " not found");
          } else {
            fail(http::status::unauthorized,
                 "port " + std::to_string(target.port) + " of sandbox " + target.sandbox +
                     " needs a valid preview token (x-daytona-preview-token header or DAYTONA_SANDBOX_AUTH_KEY query "
                     "parameter), unless the sandbox is public");
          }
          break;
        }
        if (!target.query_token.empty() && std::holds_alternative<events::access::PreviewCaller>(caller)) {
          new_cookie = preview_cookie_name(target.sandbox, target.port) + "=" + token + "; Path=/; HttpOnly; SameSite=Lax";
        }
      }
      if (route.state != "started") {
        fail(http::status::conflict, "sandbox " + route.id + " is " + route.state + ": start it to reach it");
        break;
      }
      // Into the sandbox.
      const auto key = route.id + ":" + std::to_string(target.port);
      if (!upstream || upstream->key != key) upstream = take_spare(key);
      if (!upstream) {
        auto opened = co_await open_upstream(route, target.port, settings_.connect_timeout, settings_.forward_key);
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
