#pragma once
// Every setting of the SSH gateway, declared once (settings.cpp); `ssh-gateway --help` lists them.
#include "events/settings.hpp"

#include <chrono>
#include <string>

namespace ssh_gateway {

struct Settings {
  std::string api_url = "http://127.0.0.1:3000/api";  // API_URL
  std::string admin_api_key;                          // ADMIN_API_KEY (required)
  std::string address = "127.0.0.1";                  // SSH_GATEWAY_ADDRESS
  unsigned short port = 2222;                         // SSH_GATEWAY_PORT
  std::string host_key = "var/ssh/host_ed25519";      // SSH_HOST_KEY (made on first start)
  std::chrono::seconds token_cache{5};                // SSH_TOKEN_CACHE_SECONDS
  int failed_auth_per_minute = 10;                    // SSH_FAILED_AUTH_PER_MINUTE (per source address)
  int max_sessions = 256;                             // SSH_MAX_SESSIONS
};

void declare(events::settings::Declared& declared, Settings& settings);

}  // namespace ssh_gateway
