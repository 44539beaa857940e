#include "runner/platform.hpp"
#include "events/url.hpp"

#include "events/runtime.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace runner {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using events::ErrorCode;
using events::make_error;

ApiClient::ApiClient(const std::string& api_url, std::string admin_key) : key_(std::move(admin_key)) {
  // Checked when the settings were read (Declared::url): http://host:port/base.
  const auto url = events::url::endpoint(api_url).value();
  host_ = url.host;
  port_ = url.port;
  base_ = url.path;
}

events::Result<json::object> ApiClient::call(const std::string& method, const std::string& path,
                                             const std::string& body) const {
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(15));
    asio::ip::tcp::resolver resolver(io);
    stream.connect(resolver.resolve(host_, port_));
    http::request<http::string_body> req{http::string_to_verb(method), base_ + path, 11};
    req.set(http::field::host, host_);
    req.set(http::field::authorization, "Bearer " + key_);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    boost::system::error_code ec;
    auto v = json::parse(res.body(), ec);
    const bool ok = res.result_int() >= 200 && res.result_int() < 300;
    if (ec || !v.is_object()) {
      return make_error(ok ? ErrorCode::decode_failed : ErrorCode::unavailable,
                        method + " " + path + ": HTTP " + std::to_string(res.result_int()) + " " + res.body().substr(0, 200));
    }
    if (!ok) {
      const auto* m = v.as_object().if_contains("message");
      const std::string message = m != nullptr && m->is_string() ? std::string(m->as_string()) : res.body();
      // 429 and 5xx are worth another try (unavailable); the other 4xx are answers.
      const auto code = res.result_int() == 404 ? ErrorCode::not_found
                        : res.result_int() == 409 ? ErrorCode::invalid_transition
                        : res.result_int() >= 500 || res.result_int() == 429 ? ErrorCode::unavailable
                                                                               : ErrorCode::invalid_argument;
      return make_error(code, method + " " + path + ": " + message);
    }
    return std::move(v.as_object());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::unavailable, method + " " + path + ": " + e.what());
  }
}

Reporter::Reporter(events::bus::NatsClient& nats, std::string runner_id)
    : nats_(nats), subject_("runner.reports." + runner_id) {}

events::bus::ReportReply Reporter::send(const events::bus::RunnerReport& report, const std::stop_token& stop) {
  const auto text = events::to_json_text(report);
  auto wait = std::chrono::milliseconds(100);
  while (!stop.stop_requested()) {
    if (auto body = nats_.request(subject_, text, std::chrono::milliseconds(5000))) {
      auto decoded = events::from_json_text<events::bus::ReportReply>(*body, "report reply");
      if (decoded) return *decoded;
      return events::bus::ReportReply{false, 0, "decode_failed", "unreadable reply: " + *body};
    }
    events::nap(stop, wait);
    wait = std::min(wait * 2, std::chrono::milliseconds(2000));
  }
  return events::bus::ReportReply{false, 0, "unavailable", "stopped before the platform answered"};
}

}  // namespace runner
