#include "events/http/accept.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace events::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// A connection past a limit: a short answer, its request unread, and it closes.
asio::awaitable<void> refuse(tcp::socket socket, http::status status, std::string message) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::retry_after, "5");
  res.body() = boost::json::serialize(boost::json::object{{"statusCode", static_cast<int>(status)},
                                                          {"error", std::string(http::obsolete_reason(status))},
                                                          {"message", message}});
  res.keep_alive(false);
  res.prepare_payload();
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(2));
  co_await http::async_write(stream, res, kTuple);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

asio::awaitable<void> accept_connections(tcp::acceptor& acceptor, ConnectionLimits& limits, Serve serve,
                                         std::string what, Warn warn) {
  asio::steady_timer pause(acceptor.get_executor());
  auto last_log = std::chrono::steady_clock::time_point{};
  int failures = 0;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(acceptor.get_executor()), kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      ++failures;
      if (std::chrono::steady_clock::now() - last_log > std::chrono::seconds(10)) {
        if (warn) {
          warn(what + ": accept: " + ec.message() + " (" + std::to_string(failures) +
               " failures since the last message; " + std::to_string(limits.open()) + " connections open)");
        }
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
    ConnectionLimits::Refusal refused{};
    auto slot = limits.admit(remote, refused);
    auto ex = socket.get_executor();
    if (!slot) {
      const bool per_source = refused == ConnectionLimits::Refusal::per_source;
      asio::co_spawn(ex,
                     refuse(std::move(socket), per_source ? http::status::too_many_requests : http::status::service_unavailable,
                            per_source ? "too many connections from " + remote + " (limit " +
                                             std::to_string(limits.settings().per_source) + " at once)"
                                       : what + " holds its limit of " + std::to_string(limits.settings().total) +
                                             " connections"),
                     asio::detached);
      continue;
    }
    socket.set_option(tcp::no_delay(true), addr_ec);  // small responses must not wait for an ACK
    asio::co_spawn(ex, serve(std::move(socket), std::move(slot), remote), asio::detached);
  }
}

}  // namespace events::http
