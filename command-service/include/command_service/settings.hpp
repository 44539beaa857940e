#pragma once
// Every setting of the command-service, declared once (settings.cpp: name, default, bounds, help);
// `command-service --help` lists them. main reads them from the environment, the tests set them.
#include "command_service/http/rate_limiter.hpp"
#include "events/conn_limits.hpp"
#include "events/settings.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace command_service {

struct Settings {
  std::string database_url;                           // DATABASE_URL (required)
  std::string nats_url = "nats://127.0.0.1:4222";     // NATS_URL
  std::string address = "127.0.0.1";                  // API_ADDRESS
  unsigned short port = 3000;                         // API_PORT (0: any free port)
  int threads = 8;                                    // API_THREADS
  std::string proxy_url = "http://127.0.0.1:4000";    // PROXY_URL
  std::string ssh_gateway = "127.0.0.1:2222";         // SSH_GATEWAY (host:port, in sshCommand)
  std::string admin_api_key;                          // ADMIN_API_KEY (empty: admin routes refuse everyone)
  std::string preview_keys;                           // PREVIEW_KEYS (empty: derived from the admin key)
  std::chrono::seconds preview_token_ttl{24 * 3600};  // PREVIEW_TOKEN_TTL
  std::vector<std::string> snapshot_import_dirs;      // SNAPSHOT_IMPORT_DIRS
  std::chrono::seconds schedule_wait{30};             // SCHEDULE_WAIT_SECONDS
  RateLimitSettings limits;                           // RATE_LIMIT_*
  events::ConnectionLimitSettings connections;        // API_MAX_CONNECTIONS[_PER_SOURCE]
  int body_limit = 1 << 20;                           // API_BODY_LIMIT (bytes)
  std::chrono::seconds idle_timeout{60};              // API_IDLE_TIMEOUT (a kept-alive connection with no request)
  std::string webhook_allow_ranges;                   // WEBHOOK_ALLOW_RANGES (loopback, private; none: public only)
  // Not from the environment: what the tests turn off to drive these passes themselves.
  bool run_scheduler = true;
};

void declare(events::settings::Declared& declared, Settings& settings);

}  // namespace command_service
