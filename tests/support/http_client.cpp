#include "support/http_client.hpp"
#include "events/http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>

namespace testing_support {

namespace beast = boost::beast;
namespace http = beast::http;

HttpReply http_call(int port, const std::string& method, const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                static_cast<unsigned short>(port)));
  events::http::Request request{method, target, headers, body, true};
  if (!request.headers.contains("Host")) request.headers["Host"] = "127.0.0.1";
  auto reply = events::http::exchange(stream, request).value();
  beast::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return HttpReply{reply.status, std::move(reply.body), std::move(reply.headers)};
}

}  // namespace testing_support
