#include "command_service/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <spdlog/spdlog.h>

namespace command_service {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
}

Response json_response(http::status status, const boost::json::value& body, unsigned version) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.body() = boost::json::serialize(body);
  return res;
}

Response error_response(http::status status, const std::string& message, const std::string& code) {
  boost::json::object body{{"statusCode", static_cast<int>(status)},
                           {"message", message},
                           {"error", std::string(http::obsolete_reason(status))}};
  if (!code.empty()) body["code"] = code;
  return json_response(status, body);
}

Response unavailable_response(const std::string& message) {
  auto res = error_response(http::status::service_unavailable, message + "; retry shortly", "unavailable");
  res.set(http::field::retry_after, "2");
  return res;
}

HttpServer::HttpServer(asio::io_context& io, ServerSettings settings, Handler handler)
    : io_(io), settings_(std::move(settings)), handler_(std::move(handler)), acceptor_(io),
      limits_(settings_.connections) {
  const tcp::endpoint endpoint(asio::ip::make_address(settings_.address), settings_.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
}

void HttpServer::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void HttpServer::stop() {
  stopping_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
}

namespace {

// Refuses a connection past a limit with a short answer, without reading its request.
asio::awaitable<void> refuse(tcp::socket socket, http::status status, std::string message) {
  auto res = error_response(status, message);
  res.keep_alive(false);
  if (status == http::status::too_many_requests || status == http::status::service_unavailable) {
    res.set(http::field::retry_after, "5");
  }
  res.prepare_payload();
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(2));
  co_await http::async_write(stream, res, kTuple);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

asio::awaitable<void> HttpServer::accept_loop() {
  asio::steady_timer pause(io_);
  auto last_log = std::chrono::steady_clock::time_point{};
  int failures = 0;
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kTuple);
    if (ec) {
      if (stopping_) co_return;
      // Out of descriptors (or another passing failure): wait a little instead of spinning,
      // and say so at most every 10 s.
      ++failures;
      if (std::chrono::steady_clock::now() - last_log > std::chrono::seconds(10)) {
        spdlog::warn("accept: {} ({} failures since the last message; {} connections open)", ec.message(), failures,
                     limits_.open());
        last_log = std::chrono::steady_clock::now();
        failures = 0;
      }
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      continue;
    }
    boost::system::error_code addr_ec;
    const auto endpoint = socket.remote_endpoint(addr_ec);
    const std::string remote = addr_ec ? std::string("unknown") : endpoint.address().to_string();
    events::ConnectionLimits::Refusal refused{};
    auto slot = limits_.admit(remote, refused);
    if (!slot) {
      auto ex = socket.get_executor();
      if (refused == events::ConnectionLimits::Refusal::per_source) {
        asio::co_spawn(ex, refuse(std::move(socket), http::status::too_many_requests,
                                  "too many connections from " + remote + " (limit " +
                                      std::to_string(limits_.settings().per_source) + " at once)"),
                       asio::detached);
      } else {
        asio::co_spawn(ex, refuse(std::move(socket), http::status::service_unavailable,
                                  "the server holds its limit of " + std::to_string(limits_.settings().total) +
                                      " connections"),
                       asio::detached);
      }
      continue;
    }
    auto ex = socket.get_executor();
    asio::co_spawn(ex, session(std::move(socket), std::move(slot), remote), asio::detached);
  }
}

asio::awaitable<void> HttpServer::session(tcp::socket socket, [[maybe_unused]] events::ConnectionLimits::Slot slot,
                                          std::string remote) {
  boost::system::error_code addr_ec;
  socket.set_option(tcp::no_delay(true), addr_ec);  // small responses must not wait for an ACK
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(settings_.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(settings_.header_limit));
    stream.expires_after(settings_.idle_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec == http::error::end_of_stream || ec == beast::error::timeout) break;
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      const bool body = ec == http::error::body_limit;
      auto res = body ? error_response(http::status::payload_too_large,
                                       "request body is larger than " + std::to_string(settings_.body_limit) + " bytes")
                      : error_response(http::status::request_header_fields_too_large,
                                       "request headers are larger than " + std::to_string(settings_.header_limit) +
                                           " bytes");
      res.keep_alive(false);
      res.prepare_payload();
      stream.expires_after(settings_.request_timeout);
      co_await http::async_write(stream, res, kTuple);
      break;
    }
    if (ec) {
      auto res = error_response(http::status::bad_request, "malformed HTTP request: " + ec.message());
      res.keep_alive(false);
      res.prepare_payload();
      stream.expires_after(settings_.request_timeout);
      co_await http::async_write(stream, res, kTuple);
      break;
    }
    Request req = parser.release();
    ++in_flight_;
    Reply reply;
    try {
      reply = co_await handler_(req, remote);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", std::string(req.method_string()), std::string(req.target()), e.what());
      reply = Reply{error_response(http::status::internal_server_error, "internal error"), {}};
    }
    --in_flight_;
    if (reply.takeover) {
      // A stream (SSE, WebSocket) owns the connection from here; it sets its own timeouts.
      stream.expires_never();
      const std::string target(req.target());
      try {
        co_await reply.takeover(stream, req);
      } catch (const std::exception& e) {
        spdlog::warn("stream {}: {}", target, e.what());
      }
      co_return;
    }
    auto& res = reply.response;
    res.version(req.version());
    res.keep_alive(req.keep_alive() && !stopping_);
    res.prepare_payload();
    stream.expires_after(settings_.request_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace command_service
