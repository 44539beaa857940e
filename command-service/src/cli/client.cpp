#include "command_service/cli/client.hpp"

#include "events/http/client.hpp"
#include "events/url.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <optional>
#include <thread>

namespace command_service::cli {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;

Exit exit_for_status(int status) {
  if (status >= 200 && status < 300) return Exit::ok;
  if (status == 404) return Exit::not_found;
  if (status == 401 || status == 403) return Exit::unauthorized;
  if (status == 429 || status >= 500) return Exit::unavailable;
  return Exit::failed;
}

namespace {

// The endpoint of a URL and the target to ask it for (its path and query).
std::optional<std::pair<events::url::Endpoint, std::string>> split(const std::string& full_url) {
  const auto q = full_url.find('?');
  auto endpoint = events::url::endpoint(full_url.substr(0, q));
  if (!endpoint) return std::nullopt;
  std::string target = endpoint->path.empty() ? "/" : endpoint->path;
  if (q != std::string::npos) target += full_url.substr(q);
  endpoint->path.clear();
  return std::make_pair(*endpoint, target);
}

Reply exchange(const Config& config, const std::string& method, const std::string& full_url, const std::string& body,
               const std::string& content_type = "") {
  if (config.api_key.empty()) return {Exit::unauthorized, "not logged in: run `daytona login` or set DAYTONA_API_KEY", {}};
  auto parts = split(full_url);
  if (!parts) return {Exit::usage, "not a URL: " + full_url, {}};
  const auto& [endpoint, target] = *parts;
  events::http::Client client(endpoint, std::chrono::seconds(120));
  events::http::Request req{method, target, {{"Authorization", "Bearer " + config.api_key}}, body, false};
  if (!content_type.empty()) req.headers["Content-Type"] = content_type;
  auto reply = client.call(req);
  if (!reply) return {Exit::unavailable, "cannot reach " + full_url + ": " + reply.error().message, {}};
  Reply out;
  out.exit = exit_for_status(reply->status);
  boost::system::error_code ec;
  out.body = reply->body.empty() ? json::value() : json::parse(reply->body, ec);
  if (ec) out.body = json::string(reply->body);
  if (!out.ok()) {
    out.message = reply->body;
    if (out.body.is_object()) {
      if (const auto* m = out.body.as_object().if_contains("message"); m != nullptr && m->is_string()) {
        out.message = std::string(m->as_string());
      }
    }
    out.message = "the platform answered " + std::to_string(reply->status) + ": " + out.message;
  }
  return out;
}

}  // namespace

bool answers_without_key(const std::string& url) {
  auto parts = split(url);
  if (!parts) return false;
  events::http::Client plain(parts->first, std::chrono::seconds(10));
  auto reply = plain.call({"GET", parts->second, {}, "", false});
  return reply && reply->status >= 200 && reply->status < 300;
}

Reply Client::api(const std::string& method, const std::string& path, const std::string& body) {
  if (config_.api_url.empty()) return {Exit::unauthorized, "no API URL: run `daytona login` or set DAYTONA_API_URL", {}};
  return exchange(config_, method, config_.api_url + path, body);
}

Reply Client::url(const std::string& method, const std::string& url, const std::string& body,
                  const std::string& content_type) {
  return exchange(config_, method, url, body, content_type);
}

namespace {
std::string field(const json::value& v, const char* name) {
  if (!v.is_object()) return {};
  const auto* f = v.as_object().if_contains(name);
  return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
}
}  // namespace

Reply wait_for_state(Client& client, const std::string& id, const std::string& state, std::chrono::seconds timeout,
                     const std::function<void()>& on_wait) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto r = client.api("GET", "/sandbox/" + id);
    if (!r.ok()) return r;
    const auto now = field(r.body, "state");
    if (now == state) return r;
    if (now == "error" || now == "build_failed") {
      return {Exit::failed, "sandbox " + id + " is " + now + ": " + field(r.body, "errorReason"), r.body};
    }
    if (std::chrono::steady_clock::now() > until) {
      return {Exit::unavailable, "sandbox " + id + " is still " + now + " after " + std::to_string(timeout.count()) + " s", r.body};
    }
    if (on_wait) on_wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Reply toolbox_of(Client& client, const std::string& id_or_name) {
  auto r = client.api("GET", "/sandbox/" + id_or_name);
  if (!r.ok()) return r;
  r.body = json::string(field(r.body, "toolboxProxyUrl") + "/" + field(r.body, "id"));
  return r;
}

Reply Client::follow(const std::string& path, const std::function<bool(const std::string&)>& on_data) {
  if (config_.api_url.empty() || config_.api_key.empty()) {
    return {Exit::unauthorized, "not logged in: run `daytona login` or set DAYTONA_API_KEY", {}};
  }
  auto parts = split(config_.api_url + path);
  if (!parts) return {Exit::usage, "not a URL: " + config_.api_url, {}};
  const auto& [endpoint_value, target] = *parts;
  const auto* endpoint = &endpoint_value;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  beast::error_code ec;
  boost::asio::ip::tcp::resolver resolver(io);
  const auto addresses = resolver.resolve(endpoint->host, endpoint->port, ec);
  if (!ec) boost::asio::connect(socket, addresses, ec);
  if (ec) return {Exit::unavailable, "cannot reach " + config_.api_url + ": " + ec.message(), {}};
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, endpoint->host);
  req.set(bhttp::field::authorization, "Bearer " + config_.api_key);
  req.set(bhttp::field::accept, "text/event-stream");
  bhttp::write(socket, req, ec);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  if (!ec) bhttp::read_header(socket, buffer, parser, ec);
  if (ec) return {Exit::unavailable, "the event stream: " + ec.message(), {}};
  if (const int status = parser.get().result_int(); status != 200) {
    return {exit_for_status(status), "the platform answered " + std::to_string(status), {}};
  }
  std::string pending;
  std::string data;
  char chunk[8192];
  for (;;) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    bhttp::read_some(socket, buffer, parser, ec);  // what has come, not a full buffer: events are small
    if (ec && ec != bhttp::error::need_buffer) break;
    pending.append(chunk, sizeof chunk - parser.get().body().size);
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) == 0) {
        data += line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
      } else if (line.empty() && !data.empty()) {
        if (!on_data(data)) return {};
        data.clear();
      }
    }
    if (parser.is_done()) break;
  }
  return {};
}

}  // namespace command_service::cli
