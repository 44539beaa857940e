#include "runner/daemon_client.hpp"

#include "runner/forwarder.hpp"
#include "events/http/client.hpp"

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
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
  stream.socket().assign(asio::ip::tcp::v4(), *fd, ec);
  if (ec) return make_error(ErrorCode::unavailable, "daemon socket: " + ec.message());
  stream.expires_after(std::chrono::seconds(10));
  auto reply = events::http::exchange(stream, {"POST", path, {{"Host", "127.0.0.1"}}, body, false});
  if (!reply) return make_error(ErrorCode::unavailable, "the sandbox daemon: " + reply.error().message);
  if (reply->status / 100 != 2) {
    return make_error(ErrorCode::unavailable, "the sandbox daemon answered " + std::to_string(reply->status) + " to " +
                                                  path + ": " + reply->body);
  }
  return {};
}

}  // namespace runner
