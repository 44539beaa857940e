#include "projector/webhooks/post.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

namespace projector::webhooks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

// Writes the request and reads the answer on a connected stream (plain or TLS).
template <class Stream>
Answer exchange(Stream& stream, const http::request<http::string_body>& req, std::size_t excerpt_bytes) {
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::max<std::size_t>(excerpt_bytes, 64 * 1024));
  beast::error_code ec;
  http::read(stream, buffer, parser, ec);
  Answer a;
  if (ec && ec != http::error::body_limit) {
    a.excerpt = "no answer: " + ec.message();
    return a;
  }
  a.status = static_cast<int>(parser.get().result_int());
  a.excerpt = parser.get().body().substr(0, excerpt_bytes);
  return a;
}

}  // namespace

Answer post(const Post& p, const events::webhooks::TargetPolicy& policy, std::chrono::milliseconds timeout,
            std::size_t excerpt_bytes) {
  const auto started = std::chrono::steady_clock::now();
  auto finish = [&](Answer a) {
    a.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    return a;
  };
  auto target = events::webhooks::parse_target(p.url, policy);
  if (!target) return finish(Answer{0, 0, "not sent: " + target.error().message});
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto found = resolver.resolve(target->host, std::to_string(target->port), ec);
    if (ec) return finish(Answer{0, 0, "not sent: " + target->host + " does not resolve (" + ec.message() + ")"});
    std::vector<tcp::endpoint> allowed;
    for (const auto& entry : found) {
      if (auto ok = events::webhooks::check_address(entry.endpoint().address(), policy); !ok) {
        return finish(Answer{0, 0, "not sent: " + target->host + " resolved to an address not allowed (" +
                                       ok.error().message + ")"});
      }
      allowed.push_back(entry.endpoint());
    }
    http::request<http::string_body> req{http::verb::post, target->target, 11};
    req.set(http::field::host, target->host);
    req.set(http::field::user_agent, "sandbox-platform-webhooks/1");
    req.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : p.headers) req.set(name, value);
    req.body() = p.body;
    req.keep_alive(false);
    req.prepare_payload();

    beast::tcp_stream tcp_stream(io);
    tcp_stream.expires_after(timeout);
    tcp_stream.connect(allowed, ec);
    if (ec) return finish(Answer{0, 0, "no answer: cannot connect (" + ec.message() + ")"});
    if (target->scheme == "http") {
      auto a = exchange(tcp_stream, req, excerpt_bytes);
      tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return finish(std::move(a));
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp_stream), ctx);
    if (!SSL_set_tlsext_host_name(tls.native_handle(), target->host.c_str())) {
      return finish(Answer{0, 0, "no answer: cannot set the TLS server name"});
    }
    tls.set_verify_callback(asio::ssl::host_name_verification(target->host));
    tls.handshake(asio::ssl::stream_base::client, ec);
    if (ec) return finish(Answer{0, 0, "no answer: TLS handshake failed (" + ec.message() + ")"});
    auto a = exchange(tls, req, excerpt_bytes);
    tls.shutdown(ec);
    return finish(std::move(a));
  } catch (const std::exception& e) {
    return finish(Answer{0, 0, std::string("no answer: ") + e.what()});
  }
}

}  // namespace projector::webhooks
