#include "runner/daemon_client.hpp"

#include "runner/forwarder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace runner {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using events::ErrorCode;
using events::make_error;

events::Result<void> post_to_daemon(int pid, const std::string& path, const std::string& body) {
  auto fd = connect_in_namespace(pid, kDaemonPort);
  if (!fd) return fd.error();
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.assign(asio::ip::tcp::v4(), *fd, ec);
  if (ec) return make_error(ErrorCode::unavailable, "daemon socket: " + ec.message());
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.keep_alive(false);
  req.body() = body;
  req.prepare_payload();
  http::write(socket, req, ec);
  if (ec) return make_error(ErrorCode::unavailable, "writing to the sandbox daemon: " + ec.message());
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res, ec);
  if (ec) return make_error(ErrorCode::unavailable, "reading the sandbox daemon's answer: " + ec.message());
  if (res.result_int() / 100 != 2) {
    return make_error(ErrorCode::unavailable, "the sandbox daemon answered " + std::to_string(res.result_int()) +
                                                  " to " + path + ": " + res.body());
  }
  return {};
}

}  // namespace runner
