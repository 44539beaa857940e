#include "ssh_gateway/sandbox_link.hpp"

#include "events/wire/stream.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>

namespace ssh_gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using events::ErrorCode;
using events::make_error;

namespace {

// Reads an answer's head (and a short body when it has one), keeping what came after it.
template <class Body>
events::Result<http::response<Body>> read_answer(asio::ip::tcp::socket& socket, std::string& leftover, bool with_body) {
  beast::flat_buffer buffer;
  http::response_parser<Body> parser;
  parser.body_limit(64 * 1024);
  if (!with_body) parser.skip(true);
  beast::error_code ec;
  if (with_body) {
    http::read_header(socket, buffer, parser, ec);
    if (!ec && parser.get().result_int() != 101 && !parser.is_done()) http::read(socket, buffer, parser, ec);
  } else {
    http::read_header(socket, buffer, parser, ec);
  }
  if (ec) return make_error(ErrorCode::unavailable, ec.message());
  leftover = beast::buffers_to_string(buffer.data());
  return parser.release();
}

}  // namespace

events::Result<std::unique_ptr<SandboxLink>> SandboxLink::open(const std::string& runner_endpoint,
                                                               const std::string& forward_key, const std::string& sandbox,
                                                               int port) {
  const auto colon = runner_endpoint.rfind(':');
  if (runner_endpoint.empty() || colon == std::string::npos) {
    return make_error(ErrorCode::unavailable, "the sandbox's runner has no forwarding endpoint");
  }
  std::unique_ptr<SandboxLink> link(new SandboxLink());
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(link->io_);
  const auto addresses = resolver.resolve(runner_endpoint.substr(0, colon), runner_endpoint.substr(colon + 1), ec);
  if (!ec) asio::connect(link->socket_, addresses, ec);
  if (ec) return make_error(ErrorCode::unavailable, "the sandbox's runner (" + runner_endpoint + "): " + ec.message());
  link->socket_.set_option(asio::ip::tcp::no_delay(true), ec);  // frames are small and interactive
  const std::string target = sandbox + ":" + std::to_string(port);
  const std::string connect =
      "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\nProxy-Authorization: Bearer " + forward_key + "\r\n\r\n";
  asio::write(link->socket_, asio::buffer(connect), ec);
  if (ec) return make_error(ErrorCode::unavailable, "the sandbox's runner: " + ec.message());
  auto answer = read_answer<http::empty_body>(link->socket_, link->leftover_, false);
  if (!answer) return answer.error();
  const int status = answer->result_int();
  if (status == 502) return make_error(ErrorCode::not_found, "nothing listens on port " + std::to_string(port) + " in the sandbox");
  if (status == 404) return make_error(ErrorCode::unavailable, "the sandbox is not running on its runner");
  if (status != 200) return make_error(ErrorCode::unavailable, "the runner answered " + std::to_string(status));
  return link;
}

events::Result<void> SandboxLink::start_process(const ProcessSpec& spec) {
  boost::urls::url target("/process/stream");
  if (spec.command) target.params().append({"command", *spec.command});
  if (spec.terminal) {
    target.params().append({"pty", spec.terminal->term});
    target.params().append({"cols", std::to_string(spec.terminal->cols)});
    target.params().append({"rows", std::to_string(spec.terminal->rows)});
  }
  if (!spec.env.empty()) {
    boost::json::object env;
    for (const auto& [k, v] : spec.env) env[k] = v;
    target.params().append({"env", boost::json::serialize(env)});
  }
  http::request<http::empty_body> req{http::verb::get, std::string(target.buffer()), 11};
  req.set(http::field::host, "daemon");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, events::wire::stream::kUpgrade);
  beast::error_code ec;
  http::write(socket_, req, ec);
  if (ec) return make_error(ErrorCode::unavailable, "the sandbox daemon: " + ec.message());
  if (!leftover_.empty()) return make_error(ErrorCode::unavailable, "the sandbox daemon spoke first");
  auto answer = read_answer<http::string_body>(socket_, leftover_, true);
  if (!answer) return make_error(ErrorCode::unavailable, "the sandbox daemon: " + answer.error().message);
  if (answer->result_int() == 101) return {};
  std::string message = answer->body();
  boost::system::error_code jec;
  const auto body = boost::json::parse(message, jec);
  if (!jec && body.is_object() && body.as_object().contains("message") && body.at("message").is_string()) {
    message = std::string(body.at("message").as_string());
  }
  return make_error(ErrorCode::invalid_argument, message);
}

bool SandboxLink::send(const std::string& bytes) {
  beast::error_code ec;
  asio::write(socket_, asio::buffer(bytes), ec);
  return !ec;
}

}  // namespace ssh_gateway
