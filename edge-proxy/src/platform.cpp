#include "edge/platform.hpp"

#include "events/api_keys.hpp"
#include "events/url.hpp"
#include "events/wire/proxy.hpp"

#include <boost/beast.hpp>
#include <boost/json.hpp>

namespace edge {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

std::string text(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

SandboxRoute route_of(const events::wire::SandboxPlacement& p) {
  return SandboxRoute{p.id.str(), p.organization_id.str(), std::string(events::to_string(p.state)), p.is_public,
                      p.runner_endpoint};
}

Platform::Platform(asio::any_io_executor executor, std::string api_url, std::string admin_key)
    : executor_(std::move(executor)), admin_key_(std::move(admin_key)) {
  // Checked when the settings were read (Declared::url): http://host:port/prefix.
  const auto url = events::url::endpoint(api_url).value();
  host_ = url.host;
  port_ = url.port;
  prefix_ = url.path;
}

asio::awaitable<Platform::Connection> Platform::connection() {
  {
    std::lock_guard lock(mutex_);
    while (!idle_.empty()) {
      auto [since, stream] = std::move(idle_.back());
      idle_.pop_back();
      if (Clock::now() - since < kIdleLife) co_return Connection{std::move(stream), true};
    }
  }
  // Its own strand: a kept connection serves one call at a time, from any client connection.
  auto stream = std::make_unique<Stream>(asio::make_strand(executor_));
  stream->expires_after(std::chrono::seconds(10));
  asio::ip::tcp::resolver resolver(executor_);
  auto [rec, endpoints] = co_await resolver.async_resolve(host_, port_, asio::as_tuple(asio::use_awaitable));
  if (rec) co_return Connection{};
  auto [cec, ep] = co_await stream->async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
  if (cec) co_return Connection{};
  co_return Connection{std::move(stream), false};
}

void Platform::keep_for_later(std::unique_ptr<Stream> stream) {
  std::lock_guard lock(mutex_);
  if (idle_.size() >= kMostIdle) idle_.erase(idle_.begin());  // the oldest goes
  idle_.emplace_back(Clock::now(), std::move(stream));
}

asio::awaitable<std::optional<Platform::HttpResult>> Platform::exchange(Stream& stream, const std::string& method,
                                                                        const std::string& path,
                                                                        const std::string& body) {
  http::request<http::string_body> req{http::string_to_verb(method), prefix_ + path, 11};
  req.set(http::field::host, host_);
  req.set(http::field::authorization, "Bearer " + admin_key_);
  req.set(http::field::user_agent, "edge-proxy");
  req.keep_alive(true);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  stream.expires_after(std::chrono::seconds(10));
  auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
  if (wec) co_return std::nullopt;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  auto [ec, n] = co_await http::async_read(stream, buffer, res, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return std::nullopt;
  stream.expires_never();
  co_return HttpResult{static_cast<int>(res.result_int()), std::move(res.body()), std::string(res[http::field::retry_after]),
                       res.keep_alive() && buffer.size() == 0};
}

// On a kept connection first. A kept connection the API had closed (after an API restart every one
// is) is dropped and the next tried, then a new one: each try takes a connection out of the idle
// list, so this ends. (The calls are a look-up, a key check and an activity record: sending one
// again is harmless.)
asio::awaitable<Platform::HttpResult> Platform::call(const std::string& method, const std::string& path,
                                                     const std::string& body) {
  while (true) {
    auto connected = co_await connection();
    if (!connected.stream) break;
    auto result = co_await exchange(*connected.stream, method, path, body);
    if (!result) {
      if (connected.reused) continue;
      break;
    }
    if (result->keep) keep_for_later(std::move(connected.stream));
    co_return std::move(*result);
  }
  co_return HttpResult{503, "", "", false};
}

asio::awaitable<Lookup> Platform::sandbox(const std::string& id) {
  {
    std::lock_guard lock(mutex_);
    if (auto c = sandboxes_.find(id); c != sandboxes_.end() && Clock::now() - c->second.first < std::chrono::seconds(2)) {
      co_return c->second.second;
    }
  }
  const std::string path = "/proxy/sandboxes/" + id;
  const std::string method = "GET";
  const std::string no_body;
  const auto r = co_await call(method, path, no_body);
  Lookup out;
  out.status = r.status;
  if (r.status == 200) {
    // Decoded strictly (events/wire/proxy.hpp): a field missing or of another type is an error.
    auto placement = events::from_json_text<events::wire::SandboxPlacement>(r.body, "the platform's placement");
    if (!placement) {
      out.status = 503;
      out.message = placement.error().message;
    } else {
      out.route = route_of(*placement);
    }
  } else if (r.status == 404) {
    out.message = "Sandbox with ID " + id + " not found";
  } else {
    out.status = 503;
    out.message = "the platform did not answer about sandbox " + id + " (status " + std::to_string(r.status) + ")";
  }
  // Only a running sandbox is cached: one that is stopped or starting is asked about again on
  // the next request, so a start is seen at once.
  if ((out.status == 200 && out.route.state == "started") || out.status == 404) {
    std::lock_guard lock(mutex_);
    sandboxes_[id] = {Clock::now(), out};
  }
  co_return out;
}

asio::awaitable<KeyCheck> Platform::check_key(const std::string& key, const std::string& sandbox_id,
                                              const std::string& source) {
  const auto cache_key = events::sha256_hex(key) + sandbox_id;  // no key kept in memory
  {
    std::lock_guard lock(mutex_);
    if (auto c = keys_.find(cache_key); c != keys_.end() && Clock::now() - c->second.first < kKeyAnswerLife) {
      co_return c->second.second;
    }
  }
  const std::string path = "/proxy/authorize";
  const std::string method = "POST";
  const auto body = events::to_json_text(events::wire::ToolboxAccessRequest{key, sandbox_id, source});
  const auto r = co_await call(method, path, body);
  KeyCheck out{r.status, "", r.retry_after};
  boost::system::error_code ec;
  const auto v = json::parse(r.body, ec);
  if (!ec && v.is_object()) out.message = text(v.as_object(), "message");
  if (r.status == 200 || r.status == 401 || r.status == 404) {
    std::lock_guard lock(mutex_);
    if (keys_.size() > 100000) keys_.clear();
    keys_[cache_key] = {Clock::now(), out};
  }
  co_return out;
}

bool Platform::take(const events::wire::PlacementHandOff& handed) {
  const auto& placement = handed.placement;
  if (placement.state != events::SandboxState::started || placement.runner_endpoint.empty()) return false;
  const auto id = placement.id.str();
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  sandboxes_[id] = {now, Lookup{200, route_of(placement), ""}};
  if (!handed.key_sha256.empty()) keys_[handed.key_sha256 + id] = {now, KeyCheck{200, "", ""}};
  return true;
}

void Platform::forget(const std::string& sandbox_id) {
  std::lock_guard lock(mutex_);
  sandboxes_.erase(sandbox_id);
}

asio::awaitable<void> Platform::post_activity(std::string sandbox_id) {
  // A moment after the request that caused it: the record is an append in the API, and the
  // request it would otherwise share the CPU with is often a new sandbox's first command.
  asio::steady_timer later(co_await asio::this_coro::executor, kActivityDelay);
  co_await later.async_wait(asio::as_tuple(asio::use_awaitable));
  const std::string path = "/proxy/sandboxes/" + sandbox_id + "/activity";
  const std::string method = "POST";
  const std::string no_body;
  co_await call(method, path, no_body);
}

void Platform::record_activity(asio::any_io_executor ex, const std::string& sandbox_id) {
  {
    std::lock_guard lock(mutex_);
    auto& last = activity_[sandbox_id];
    if (Clock::now() - last < std::chrono::seconds(30)) return;
    last = Clock::now();
  }
  // Fire and forget: the request in flight does not wait for it.
  asio::co_spawn(ex, post_activity(sandbox_id), asio::detached);
}

}  // namespace edge
