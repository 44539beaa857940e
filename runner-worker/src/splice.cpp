#include "runner/splice.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace runner {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to) {
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  std::array<char, 16384> buffer{};
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buffer), kTuple);
    if (ec) break;
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buffer.data(), n), kTuple);
    if (wec) break;
  }
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

asio::awaitable<void> splice(tcp::socket& a, tcp::socket& b) {
  using namespace asio::experimental::awaitable_operators;
  co_await (pump(a, b) && pump(b, a));
}

}  // namespace runner
