#pragma once
// A Boost.Beast HTTP/1.1 server on Asio C++20 coroutines: keep-alive, a timeout on every read
// and write, a body limit, and a graceful stop that lets in-flight requests finish.
#include "command_service/http/http.hpp"
#include "events/conn_limits.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <functional>

namespace command_service {

struct ServerSettings {
  std::string address = "127.0.0.1";
  unsigned short port = 3000;  // 0: any free port (tests)
  std::size_t body_limit = 1 << 20;
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds request_timeout{60};
  std::size_t header_limit = 16 * 1024;  // 431 past it
  // Connections held at once, per source address and in all (429 / 503 past them).
  events::ConnectionLimitSettings connections;
};

// The handler gets the request and the client's address (for per-source rate limits).
using Handler = std::function<boost::asio::awaitable<Reply>(Request&, const std::string& remote)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ServerSettings settings, Handler handler);
  unsigned short port() const { return port_; }
  void start();
  // Stops accepting; in-flight requests finish and their connections close.
  void stop();
  int in_flight() const { return in_flight_.load(); }

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket, events::ConnectionLimits::Slot slot,
                                      std::string remote);

  boost::asio::io_context& io_;
  ServerSettings settings_;
  Handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::strand<boost::asio::io_context::executor_type> accept_strand_{boost::asio::make_strand(io_)};
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> in_flight_{0};
  events::ConnectionLimits limits_;
};

}  // namespace command_service
