#include "events/http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace events::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

Result<Reply> exchange(beast::tcp_stream& stream, const Request& request, std::size_t body_limit) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(request.method), request.target, 11};
  bool typed = false;
  for (const auto& [name, value] : request.headers) {
    req.set(name, value);
    typed = typed || beast::iequals(name, "Content-Type");
  }
  if (!request.body.empty()) {
    if (!typed) req.set(bhttp::field::content_type, "application/json");
    req.body() = request.body;
  }
  req.keep_alive(request.keep_alive);
  req.prepare_payload();
  beast::error_code ec;
  bhttp::write(stream, req, ec);
  if (ec) return make_error(ErrorCode::unavailable, "writing " + request.method + " " + request.target + ": " + ec.message());
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(body_limit);
  bhttp::read(stream, buffer, parser, ec);
  if (ec) {
    return make_error(ErrorCode::unavailable, "reading the answer to " + request.method + " " + request.target + ": " +
                                                  ec.message());
  }
  auto res = parser.release();
  Reply out;
  out.status = static_cast<int>(res.result_int());
  out.keep_alive = res.keep_alive();
  for (const auto& field : res) out.headers[std::string(field.name_string())] = std::string(field.value());
  out.body = std::move(res.body());
  return out;
}

struct Client::Connection {
  asio::io_context io;
  beast::tcp_stream stream{io};
};

Client::Client(url::Endpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

Client::~Client() = default;

Result<Reply> Client::call(Request request) {
  request.target = endpoint_.path + request.target;
  if (!request.headers.contains("Host")) request.headers["Host"] = endpoint_.host;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = connection_ == nullptr;
    if (fresh) {
      auto c = std::make_unique<Connection>();
      beast::error_code ec;
      asio::ip::tcp::resolver resolver(c->io);
      const auto addresses = resolver.resolve(endpoint_.host, endpoint_.port, ec);
      c->stream.expires_after(timeout_);
      if (!ec) c->stream.connect(addresses, ec);
      if (ec) {
        return make_error(ErrorCode::unavailable, "connecting to " + endpoint_.host + ":" + endpoint_.port + ": " +
                                                      ec.message());
      }
      c->stream.socket().set_option(asio::ip::tcp::no_delay(true), ec);
      connection_ = std::move(c);
    }
    connection_->stream.expires_after(timeout_);
    auto reply = exchange(connection_->stream, request);
    if (!reply || !reply->keep_alive || !request.keep_alive) connection_.reset();
    // A kept connection the server had closed fails at once: once more on a new one.
    if (!reply && !fresh) continue;
    return reply;
  }
  return make_error(ErrorCode::unavailable, "no answer from " + endpoint_.host + ":" + endpoint_.port);
}

}  // namespace events::http
