// libFuzzer target for what the edge proxy reads before it looks anything up: the request head
// (Beast's parser with the proxy's header limit), then its routing, query and cookie parsing.
#include "edge/classify.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  http::request_parser<http::empty_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(boost::none);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(text.data(), text.size()), ec);
  if (parser.is_header_done()) {
    const auto& req = parser.get();
    const auto target = edge::classify(req.target(), req[http::field::host], "preview.localhost", 2280);
    (void)edge::pair_value(req[http::field::cookie], edge::preview_cookie_name(target.sandbox, target.port), ';');
  }
  // The raw bytes as a target and as a Host too.
  (void)edge::classify(text, text, "preview.localhost", 2280);
  (void)edge::query_param(text, "DAYTONA_SANDBOX_AUTH_KEY");
  (void)edge::port_of(text);
  return 0;
}
