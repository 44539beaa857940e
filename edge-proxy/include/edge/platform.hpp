#pragma once
// What the proxy asks the platform (the command-service's HTTP API), cached briefly:
//  - where a sandbox runs, its owner, state and whether it is public (admin route
//    GET /api/proxy/sandboxes/{id}); cached 2 s while it runs (a stop is seen within that, or at
//    once when its runner says it no longer runs there), not cached otherwise;
//  - whether an API key may use a sandbox's toolbox (admin route POST /api/proxy/authorize with
//    the key and the client's address: the platform's one authorization check, and its failed-
//    authentication limit per client, not per proxy); cached 500 ms, so a revoked key stops
//    working within 500 ms;
//  - activity: POST /api/proxy/sandboxes/{id}/activity, at most every 30 s per sandbox.
// After a warm-pool claim the API hands both answers over on the bus (take()), so the claimer's
// first toolbox call asks nothing.
// The connections to the API are kept (HTTP keep-alive) for the next call: a new sandbox's first
// request then waits for no resolve and no TCP handshake.
#include "events/wire/proxy.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace edge {

namespace asio = boost::asio;

struct SandboxRoute {
  std::string id;
  std::string organization_id;
  std::string state;
  bool is_public = false;
  std::string runner_endpoint;  // host:port of the runner's forwarding endpoint
};

SandboxRoute route_of(const events::wire::SandboxPlacement& placement);

struct Lookup {
  int status = 0;  // 200, 404, or 503 when the platform did not answer
  SandboxRoute route;
  std::string message;
};

// The platform's answer about a key: 200 (may use the toolbox), 401 (no such key), 404 (not its
// sandbox, or none), 429 (too many failed keys from that client), 503 (no answer).
struct KeyCheck {
  int status = 0;
  std::string message;
  std::string retry_after;
};

class Platform {
 public:
  // api_url like http://127.0.0.1:3000/api; the connections to it run on `executor`.
  Platform(asio::any_io_executor executor, std::string api_url, std::string admin_key);
  asio::awaitable<Lookup> sandbox(const std::string& id);
  asio::awaitable<KeyCheck> check_key(const std::string& key, const std::string& sandbox_id, const std::string& source);
  void record_activity(asio::any_io_executor ex, const std::string& sandbox_id);
  // What the API handed over after a warm-pool claim (events/bus/placements.hpp), cached as if
  // asked: the placement of a started sandbox for 2 s, the claiming key's answer (200) for
  // kKeyAnswerLife. Thread-safe (libnats calls it on its own thread). Whether it took it: a
  // sandbox that is not started, or has no runner endpoint, is left to be asked about.
  bool take(const events::wire::PlacementHandOff& handed);
  // Drops what is cached about the sandbox (its runner said it is not running there).
  void forget(const std::string& sandbox_id);

 private:
  struct HttpResult {
    int status = 0;
    std::string body;
    std::string retry_after;
    bool keep = false;  // the API takes another request on the connection
  };
  using Stream = boost::beast::tcp_stream;
  struct Connection {
    std::unique_ptr<Stream> stream;  // null when the API cannot be reached
    bool reused = false;             // a kept one, which the API may have closed meanwhile
  };
  asio::awaitable<HttpResult> call(const std::string& method, const std::string& path, const std::string& body);
  // One request and its answer on `stream`; nullopt when the connection failed.
  asio::awaitable<std::optional<HttpResult>> exchange(Stream& stream, const std::string& method,
                                                      const std::string& path, const std::string& body);
  // A kept connection, or a new one.
  asio::awaitable<Connection> connection();
  void keep_for_later(std::unique_ptr<Stream> stream);
  asio::awaitable<void> post_activity(std::string sandbox_id);

  asio::any_io_executor executor_;
  std::string host_;
  std::string port_;
  std::string prefix_;  // "/api"
  std::string admin_key_;
  std::mutex mutex_;
  using Clock = std::chrono::steady_clock;
  std::map<std::string, std::pair<Clock::time_point, Lookup>> sandboxes_;
  // key hash + sandbox -> answer, for kKeyAnswerLife: the API refuses a revoked key at once (its
  // own cache is told through the log), so a revoked key is refused here within that life too.
  static constexpr std::chrono::milliseconds kKeyAnswerLife{500};
  std::map<std::string, std::pair<Clock::time_point, KeyCheck>> keys_;
  std::map<std::string, Clock::time_point> activity_;
  // How long an activity record waits before it is sent. Measured on a claimed sandbox's first
  // toolbox call (curl, n=10): 5.2-9.0 ms with the record sent at once, like later calls
  // (about 4.5 ms) without it. Auto-stop counts minutes; a record one second late changes nothing.
  static constexpr std::chrono::seconds kActivityDelay{1};
  // Connections to the API waiting for the next call, newest last. One kept longer than
  // kIdleLife is closed (the API closes idle ones too); a call on a kept one that the API has
  // closed meanwhile is sent again on a new one.
  static constexpr std::size_t kMostIdle = 16;
  static constexpr std::chrono::seconds kIdleLife{20};
  std::vector<std::pair<Clock::time_point, std::unique_ptr<Stream>>> idle_;
};

}  // namespace edge
