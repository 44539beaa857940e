#pragma once
// What the proxy asks the platform (the command-service's HTTP API), cached briefly:
//  - where a sandbox runs, its state, whether it is public, its preview token (admin route
//    GET /api/proxy/sandboxes/{id}); cached 2 s while it runs (a stop is seen within that, or at
//    once when its runner says it no longer runs there), not cached otherwise;
//  - whether an API key may use a sandbox (GET /api/sandbox/{id} with that key: 200, or 401 /
//    404 for a key of another organization); cached 3 s, so a revoked key stops working within
//    3 s;
//  - activity: POST /api/proxy/sandboxes/{id}/activity, at most every 30 s per sandbox.
#include <boost/asio.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace edge {

namespace asio = boost::asio;

struct SandboxRoute {
  std::string id;
  std::string organization_id;
  std::string state;
  bool is_public = false;
  std::string runner_endpoint;  // host:port of the runner's forwarding endpoint
  std::string preview_token;
};

struct Lookup {
  int status = 0;  // 200, 404, or 502 when the platform did not answer
  SandboxRoute route;
  std::string message;
};

class Platform {
 public:
  // api_url like http://127.0.0.1:3000/api
  Platform(std::string api_url, std::string admin_key);
  asio::awaitable<Lookup> sandbox(const std::string& id);
  // The status the API gave this key for this sandbox (200 = allowed).
  asio::awaitable<int> key_status(const std::string& key, const std::string& sandbox_id);
  void record_activity(asio::any_io_executor ex, const std::string& sandbox_id);
  // Drops what is cached about the sandbox (its runner said it is not running there).
  void forget(const std::string& sandbox_id);

 private:
  struct HttpResult {
    int status = 0;
    std::string body;
  };
  asio::awaitable<HttpResult> call(const std::string& method, const std::string& path, const std::string& bearer);
  asio::awaitable<void> post_activity(std::string sandbox_id);

  std::string host_;
  std::string port_;
  std::string prefix_;  // "/api"
  std::string admin_key_;
  std::mutex mutex_;
  using Clock = std::chrono::steady_clock;
  std::map<std::string, std::pair<Clock::time_point, Lookup>> sandboxes_;
  std::map<std::string, std::pair<Clock::time_point, int>> keys_;  // key hash + sandbox -> status
  std::map<std::string, Clock::time_point> activity_;
};

}  // namespace edge
