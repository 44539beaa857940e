#include "ssh_gateway/platform.hpp"

#include "events/api_keys.hpp"
#include "events/http/client.hpp"
#include "events/json.hpp"

namespace ssh_gateway {

using namespace events;

namespace {

Result<http::Reply> call_api(const std::string& api_url, const std::string& admin_key, http::Request request) {
  auto endpoint = url::endpoint(api_url);
  if (!endpoint) return endpoint.error();
  http::Client client(*endpoint, std::chrono::seconds(5));
  request.headers["Authorization"] = "Bearer " + admin_key;
  request.keep_alive = false;
  return client.call(std::move(request));
}

}  // namespace

Platform::Platform(std::string api_url, std::string admin_key, std::chrono::seconds cache)
    : api_url_(std::move(api_url)), admin_key_(std::move(admin_key)), cache_(cache) {}

Result<wire::SshAccessGrant> Platform::access(const std::string& token, const std::string& source) {
  const auto key = sha256_hex(token);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (auto it = answers_.find(key); it != answers_.end() && now - it->second.at < cache_) {
      if (it->second.grant) return *it->second.grant;
      return make_error(ErrorCode::not_found, "no active SSH access for that token");
    }
  }
  auto reply = call_api(api_url_, admin_key_, {"POST", "/proxy/ssh-access", {}, to_json_text(wire::SshAccessRequest{token, source})});
  if (!reply) return reply.error();
  std::optional<wire::SshAccessGrant> grant;
  if (reply->status == 200) {
    auto parsed = from_json_text<wire::SshAccessGrant>(reply->body, "the API's SSH access answer");
    if (!parsed) return parsed.error();
    grant = *parsed;
  } else if (reply->status != 404) {
    return make_error(ErrorCode::unavailable, "the API answered " + std::to_string(reply->status) + ": " + reply->body);
  }
  std::lock_guard lock(mutex_);
  if (answers_.size() > 10000) answers_.clear();  // bounded: the cache is only a shortcut
  answers_[key] = Kept{now, grant};
  if (!grant) return make_error(ErrorCode::not_found, "no active SSH access for that token");
  return *grant;
}

void Platform::activity(const std::string& sandbox_id) {
  (void)call_api(api_url_, admin_key_, {"POST", "/proxy/sandboxes/" + sandbox_id + "/activity", {}, "{}"});
}

}  // namespace ssh_gateway
