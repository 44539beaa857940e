// edge-proxy: the toolbox and preview front door (proxy.hpp). Settings from the environment:
// API_URL, ADMIN_API_KEY (required), PROXY_PORT (4000), PROXY_ADDRESS (127.0.0.1),
// PREVIEW_DOMAIN (preview.localhost), PROXY_THREADS (2), PREVIEW_KEYS (default: derived from the admin key),
// PROXY_MAX_CONNECTIONS (8192), PROXY_MAX_CONNECTIONS_PER_SOURCE (256).
#include "edge/proxy.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

}  // namespace

int main() {
  const auto admin_key = env_or("ADMIN_API_KEY", "");
  if (admin_key.empty()) {
    std::cerr << "edge-proxy: ADMIN_API_KEY must be set (the proxy asks the platform where sandboxes run)\n";
    return 2;
  }
  edge::ProxySettings settings;
  settings.address = env_or("PROXY_ADDRESS", "127.0.0.1");
  settings.preview_domain = env_or("PREVIEW_DOMAIN", "preview.localhost");
  int threads = 2;
  try {
    settings.port = static_cast<unsigned short>(std::stoi(env_or("PROXY_PORT", "4000")));
    threads = std::max(1, std::stoi(env_or("PROXY_THREADS", "2")));
    settings.connections.per_source = std::stoi(env_or("PROXY_MAX_CONNECTIONS_PER_SOURCE", "256"));
    settings.connections.total = std::stoi(env_or("PROXY_MAX_CONNECTIONS", "8192"));
  } catch (const std::exception&) {
    std::cerr << "edge-proxy: PROXY_PORT, PROXY_THREADS, PROXY_MAX_CONNECTIONS and PROXY_MAX_CONNECTIONS_PER_SOURCE must be numbers\n";
    return 2;
  }
  auto keys = events::tokens::preview_keys(env_or("PREVIEW_KEYS", ""), admin_key);
  if (!keys) {
    std::cerr << "edge-proxy: PREVIEW_KEYS: " << keys.error().message << "\n";
    return 2;
  }
  settings.preview_keys = *keys;
  settings.forward_key = events::tokens::forward_key(admin_key);
  // Each connection is a descriptor (two while it is relayed): take what the system allows, and
  // keep the total below it so accept never runs out.
  const long files = events::raise_open_file_limit();
  if (files > 0) settings.connections.total = static_cast<int>(std::min<long>(settings.connections.total, (files - 64) / 2));
  signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io(threads);
  edge::Platform platform(env_or("API_URL", "http://127.0.0.1:3000/api"), admin_key);
  std::unique_ptr<edge::Proxy> proxy;
  try {
    proxy = std::make_unique<edge::Proxy>(io, settings, platform);
  } catch (const std::exception& e) {
    std::cerr << "edge-proxy: cannot listen on " << settings.address << ":" << settings.port << ": " << e.what() << "\n";
    return 1;
  }
  proxy->start();
  boost::asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  spdlog::info("edge-proxy on {}:{} (preview domain {})", settings.address, proxy->port(), settings.preview_domain);
  std::vector<std::jthread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  spdlog::info("edge-proxy stopped");
  return 0;
}
