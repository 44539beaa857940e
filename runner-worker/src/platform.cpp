#include "runner/platform.hpp"
#include "events/url.hpp"

#include "events/runtime.hpp"

#include <boost/json.hpp>

namespace runner {

namespace json = boost::json;
using events::ErrorCode;
using events::make_error;

ApiClient::ApiClient(const std::string& api_url, std::string admin_key)
    // Checked when the settings were read (Declared::url): http://host:port/base.
    : endpoint_(events::url::endpoint(api_url).value()), key_(std::move(admin_key)) {}

ApiClient::~ApiClient() = default;

events::Result<json::object> ApiClient::call(const std::string& method, const std::string& path,
                                             const std::string& body) const {
  std::unique_ptr<events::http::Client> client;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!client) client = std::make_unique<events::http::Client>(endpoint_, std::chrono::seconds(15));
  events::http::Request request{method, path, {{"Authorization", "Bearer " + key_}}, body, true};
  auto reply = client->call(std::move(request));
  {
    std::lock_guard lock(mutex_);
    if (idle_.size() < 8) idle_.push_back(std::move(client));
  }
  if (!reply) return make_error(ErrorCode::unavailable, method + " " + path + ": " + reply.error().message);
  boost::system::error_code ec;
  auto v = json::parse(reply->body, ec);
  const bool ok = reply->status >= 200 && reply->status < 300;
  if (ec || !v.is_object()) {
    return make_error(ok ? ErrorCode::decode_failed : ErrorCode::unavailable,
                      method + " " + path + ": HTTP " + std::to_string(reply->status) + " " + reply->body.substr(0, 200));
  }
  if (!ok) {
    const auto* m = v.as_object().if_contains("message");
    const std::string message = m != nullptr && m->is_string() ? std::string(m->as_string()) : reply->body;
    // 429 and 5xx are worth another try (unavailable); the other 4xx are answers.
    const auto code = reply->status == 404 ? ErrorCode::not_found
                      : reply->status == 409 ? ErrorCode::invalid_transition
                      : reply->status >= 500 || reply->status == 429 ? ErrorCode::unavailable
                                                                     : ErrorCode::invalid_argument;
    return make_error(code, method + " " + path + ": " + message);
  }
  return std::move(v.as_object());
}

Reporter::Reporter(events::bus::Requests& bus, std::string runner_id)
    : bus_(bus), subject_("runner.reports." + runner_id) {}

events::bus::ReportReply Reporter::send(const events::bus::RunnerReport& report, const std::stop_token& stop) {
  const auto text = events::to_json_text(report);
  auto wait = std::chrono::milliseconds(100);
  while (!stop.stop_requested()) {
    if (auto body = bus_.request(subject_, text, std::chrono::milliseconds(5000))) {
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
