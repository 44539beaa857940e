#include "command_service/links/daemon_link.hpp"
#include "events/http/client.hpp"
#include "events/json.hpp"
#include "events/wire/daemon_env.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace command_service {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using events::ErrorCode;
using events::make_error;

events::Result<void> post_env_through_runner(const std::string& endpoint, const std::string& forward_key,
                                             const std::string& sandbox, const events::StringMap& env,
                                             std::chrono::milliseconds timeout) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) return make_error(ErrorCode::invalid_argument, "runner endpoint " + endpoint + " has no port");
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(timeout);
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  const auto addresses = resolver.resolve(endpoint.substr(0, colon), endpoint.substr(colon + 1), ec);
  if (!ec) stream.connect(addresses, ec);
  if (ec) return make_error(ErrorCode::unavailable, "runner endpoint " + endpoint + ": " + ec.message());
  const std::string connect = "CONNECT " + sandbox + ":2280 HTTP/1.1\r\nHost: runner\r\nProxy-Authorization: Bearer " +
                              forward_key + "\r\n\r\n";
  asio::write(stream, asio::buffer(connect), ec);
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> tunnel;
  tunnel.skip(true);  // a CONNECT answer has no body
  if (!ec) http::read_header(stream, buffer, tunnel, ec);
  if (ec) return make_error(ErrorCode::unavailable, "CONNECT through " + endpoint + ": " + ec.message());
  if (tunnel.get().result_int() != 200) {
    return make_error(ErrorCode::unavailable, "the runner answered " + std::to_string(tunnel.get().result_int()) +
                                                  " to CONNECT " + sandbox + ":2280");
  }
  auto reply = events::http::exchange(stream, {"POST", "/env", {{"Host", "daemon"}},
                                              events::to_json_text(events::wire::DaemonEnv{env, {}}), false});
  if (!reply) return make_error(ErrorCode::unavailable, "the sandbox daemon of " + sandbox + ": " + reply.error().message);
  if (reply->status != 200) {
    return make_error(ErrorCode::unavailable, "the sandbox daemon answered " + std::to_string(reply->status) + ": " +
                                                  reply->body);
  }
  return {};
}

}  // namespace command_service
