#include "command_service/http/http_server.hpp"
#include "events/http/accept.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
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

// The accept loop runs on a strand and the close is posted to it: an acceptor is not safe to
// close from one thread while another resumes the loop on it (ThreadSanitizer found that race).
// When the io_context stops before the close runs, the acceptor closes with the server.
void HttpServer::start() { asio::co_spawn(accept_strand_, accept_loop(), asio::detached); }

void HttpServer::stop() {
  stopping_ = true;
  asio::post(accept_strand_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

asio::awaitable<void> HttpServer::accept_loop() {
  co_await events::http::accept_connections(
      acceptor_, limits_,
      [this](tcp::socket socket, events::ConnectionLimits::Slot slot, std::string remote) {
        return session(std::move(socket), std::move(slot), std::move(remote));
      },
      "the API", [](const std::string& message) { spdlog::warn("{}", message); });
}

asio::awaitable<void> HttpServer::session(tcp::socket socket, [[maybe_unused]] events::ConnectionLimits::Slot slot,
                                          std::string remote) {
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
