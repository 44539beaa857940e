#include "edge/relay.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace edge {

namespace {

asio::awaitable<void> copy(beast::tcp_stream& from, beast::tcp_stream& to) {
  char chunk[16384];
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (n > 0) {
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(chunk, n), asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
    if (ec) {
      beast::error_code ignored;
      to.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

}  // namespace

asio::awaitable<void> tunnel(beast::tcp_stream& a, beast::tcp_stream& b) {
  using namespace asio::experimental::awaitable_operators;
  a.expires_never();
  b.expires_never();
  co_await (copy(a, b) && copy(b, a));
}

}  // namespace edge
