#pragma once
// Moving HTTP messages and bytes between two connections without holding a whole body.
#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace edge {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// Writes the parser's message (its header already read) to `to`, reading the body from `from`
// chunk by chunk. Throws on an I/O error.
template <bool isRequest>
asio::awaitable<void> relay_message(beast::tcp_stream& from, beast::flat_buffer& buffer,
                                    http::parser<isRequest, http::buffer_body>& parser, beast::tcp_stream& to) {
  http::serializer<isRequest, http::buffer_body> serializer{parser.get()};
  char chunk[16384];
  do {
    if (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      auto [ec, n] = co_await http::async_read(from, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) throw beast::system_error(ec);
      parser.get().body().size = sizeof chunk - parser.get().body().size;
      parser.get().body().data = chunk;
      parser.get().body().more = !parser.is_done();
    } else {
      parser.get().body().data = nullptr;
      parser.get().body().size = 0;
      parser.get().body().more = false;  // else the serializer waits for a body that never comes
    }
    auto [ec, n] = co_await http::async_write(to, serializer, asio::as_tuple(asio::use_awaitable));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) throw beast::system_error(ec);
  } while (!parser.is_done() && !serializer.is_done());
}

// Copies bytes both ways until either side ends (a WebSocket after its upgrade).
asio::awaitable<void> tunnel(beast::tcp_stream& a, beast::tcp_stream& b);

}  // namespace edge
