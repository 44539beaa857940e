#pragma once
// The edge proxy: one HTTP/1.1 listener for
//   /toolbox/{sandboxId}/{path}         → the sandbox daemon (port 2280), Bearer API key of the
//                                         sandbox's organization (the deprecated
//                                         /toolbox/{id}/toolbox/{path} form too);
//   /preview/{sandboxId}/{port}/{path}  → a port in the sandbox (path form; the URL the
//                                         preview-url endpoint returns);
//   Host: {port}-{sandboxId}.<preview domain>  → the same, host form.
// A private sandbox's preview needs its token (header x-daytona-preview-token, query
// DAYTONA_SANDBOX_AUTH_KEY, or the cookie the proxy sets from either). Requests reach the
// sandbox through its runner's forwarding endpoint (CONNECT sandbox:port); bodies stream both
// ways, WebSocket upgrades become a tunnel, upstream connections are kept per client connection.
#include "edge/platform.hpp"
#include "events/conn_limits.hpp"
#include "events/tokens.hpp"

#include <boost/asio.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace edge {

struct ProxySettings {
  std::string address = "127.0.0.1";
  unsigned short port = 4000;
  std::string preview_domain = "preview.localhost";
  unsigned short daemon_port = 2280;
  std::chrono::seconds idle_timeout{120};    // a keep-alive connection waiting for its next request
  std::chrono::seconds connect_timeout{10};  // reaching the runner and the sandbox port
  std::size_t header_limit = 64 * 1024;      // a request's headers; 431 past it
  events::ConnectionLimitSettings connections;
  // Verifies preview tokens (events/tokens.hpp); the command-service signs with the same ring.
  std::optional<events::tokens::KeyRing> preview_keys;
  // Sent to runners' forwarding endpoints (Proxy-Authorization): only the platform may use them.
  std::string forward_key;
};

struct Upstream;  // a connection into a sandbox port, through its runner (proxy.cpp)

class Proxy {
 public:
  Proxy(asio::io_context& io, ProxySettings settings, Platform& platform);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  void start();
  // A started sandbox just claimed (a placement hand-off): its toolbox calls come next, so a connection
  // to its daemon is opened now and kept for kSpareLife, for the first client connection that
  // passes the usual checks for that sandbox. Callable from any thread.
  void prepare(const SandboxRoute& route);

 private:
  using Clock = std::chrono::steady_clock;
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket, events::ConnectionLimits::Slot slot, std::string remote);
  asio::awaitable<void> open_spare(SandboxRoute route);
  // The spare connection for `key` (sandbox:port) if one is kept, young and still open.
  std::unique_ptr<Upstream> take_spare(const std::string& key);
  asio::io_context& io_;
  ProxySettings settings_;
  Platform& platform_;
  asio::ip::tcp::acceptor acceptor_;
  events::ConnectionLimits limits_;
  static constexpr std::chrono::seconds kSpareLife{5};
  static constexpr std::size_t kMostSpares = 256;
  std::mutex spares_mutex_;
  std::map<std::string, std::pair<Clock::time_point, std::unique_ptr<Upstream>>> spares_;
};

}  // namespace edge
