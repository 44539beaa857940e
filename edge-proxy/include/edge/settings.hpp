#pragma once
// Every setting of the edge proxy, declared once (settings.cpp); `edge-proxy --help` lists them.
#include "events/settings.hpp"

#include <chrono>
#include <string>

namespace edge {

struct Settings {
  std::string api_url = "http://127.0.0.1:3000/api";  // API_URL
  std::string admin_api_key;                          // ADMIN_API_KEY (required)
  std::string nats_url;                               // NATS_URL (empty: no placement hand-offs)
  std::string address = "127.0.0.1";                  // PROXY_ADDRESS
  unsigned short port = 4000;                         // PROXY_PORT
  std::string preview_domain = "preview.localhost";   // PREVIEW_DOMAIN
  std::string preview_keys;                           // PREVIEW_KEYS (empty: derived from the admin key)
  int threads = 2;                                    // PROXY_THREADS
  int max_connections = 8192;                         // PROXY_MAX_CONNECTIONS
  int max_connections_per_source = 256;               // PROXY_MAX_CONNECTIONS_PER_SOURCE
  int header_limit = 64 * 1024;                       // PROXY_HEADER_LIMIT
};

void declare(events::settings::Declared& declared, Settings& settings);

}  // namespace edge
