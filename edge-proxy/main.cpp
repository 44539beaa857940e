// edge-proxy: the toolbox and preview front door (proxy.hpp). Settings are declared in
// settings.cpp (`edge-proxy --help`); main wires the platform client and the proxy and runs them.
#include "edge/proxy.hpp"
#include "edge/settings.hpp"
#include "events/bus/placements.hpp"
#include "events/tokens.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  edge::Settings settings;
  events::settings::Declared declared("edge-proxy");
  edge::declare(declared, settings);
  if (auto code = declared.load_for_main(argc, argv)) return *code;
  auto keys = events::tokens::preview_keys(settings.preview_keys, settings.admin_api_key);
  if (!keys) {
    std::cerr << "edge-proxy: PREVIEW_KEYS: " << keys.error().message << "\n";
    return 2;
  }
  edge::ProxySettings proxy;
  proxy.address = settings.address;
  proxy.port = settings.port;
  proxy.preview_domain = settings.preview_domain;
  proxy.header_limit = static_cast<std::size_t>(settings.header_limit);
  proxy.connections = {settings.max_connections_per_source, settings.max_connections};
  proxy.preview_keys = *keys;
  proxy.forward_key = events::tokens::forward_key(settings.admin_api_key);
  // Each connection is a descriptor (two while it is relayed): take what the system allows, and
  // keep the total below it so accept never runs out.
  if (const long files = events::raise_open_file_limit(); files > 0 && proxy.connections.total > 0) {
    proxy.connections.total = static_cast<int>(std::min<long>(proxy.connections.total, std::max(16L, (files - 64) / 2)));
  }
  signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io(settings.threads);
  edge::Platform platform(io.get_executor(), settings.api_url, settings.admin_api_key);
  std::unique_ptr<edge::Proxy> server;
  try {
    server = std::make_unique<edge::Proxy>(io, proxy, platform);
  } catch (const std::exception& e) {
    std::cerr << "edge-proxy: cannot listen on " << proxy.address << ":" << proxy.port << ": " << e.what() << "\n";
    return 1;
  }
  // Placement hand-offs from the API (events/bus/placements.hpp): best effort, the proxy asks otherwise.
  std::unique_ptr<events::bus::NatsClient> nats;
  std::unique_ptr<events::bus::PlacementListener> placements;
  if (!settings.nats_url.empty()) {
    auto connected = events::bus::NatsClient::connect(settings.nats_url, "edge-proxy");
    if (connected) {
      nats = std::move(*connected);
      placements = std::make_unique<events::bus::PlacementListener>(
          *nats, [&platform, &server](const events::wire::PlacementHandOff& handed) {
            if (platform.take(handed)) server->prepare(edge::route_of(handed.placement));
          });
    }
    if (!placements || !placements->ok()) spdlog::warn("edge-proxy: no placement hand-offs from {}: every first request asks the API", settings.nats_url);
  }
  server->start();
  boost::asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  spdlog::info("edge-proxy on {}:{} (preview domain {})", proxy.address, server->port(), proxy.preview_domain);
  std::vector<std::jthread> pool;
  for (int i = 1; i < settings.threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  spdlog::info("edge-proxy stopped");
  return 0;
}
