#pragma once
// Every setting of the runner-worker, declared once (settings.cpp); `runner-worker --help` lists them.
#include "events/settings.hpp"

#include <string>
#include <vector>

namespace runner {

struct Settings {
  std::string database_url;                          // DATABASE_URL (required)
  std::string admin_api_key;                         // ADMIN_API_KEY (required)
  std::string nats_url = "nats://127.0.0.1:4222";    // NATS_URL
  std::string api_url = "http://127.0.0.1:3000/api"; // API_URL
  std::string state_dir = "var/runner";              // RUNNER_STATE_DIR
  std::string object_store;                          // RUNNER_OBJECT_STORE (default: objects/ beside the state dir)
  std::string daemon;                                // RUNNER_DAEMON (default: next to this binary's build dir)
  std::string region = "local";                      // RUNNER_REGION
  std::string endpoint = "127.0.0.1:4100";           // RUNNER_ENDPOINT
  int disk_gib = 20;                                 // RUNNER_DISK_GIB
  int max_sandboxes = 500;                           // RUNNER_MAX_SANDBOXES
  int workers = 4;                                   // RUNNER_WORKERS
  int memory_gib = 0;                                // RUNNER_MEMORY_GIB (0: the host's x the overcommit)
  int memory_overcommit = 16;                        // RUNNER_MEMORY_OVERCOMMIT
  int disk_overcommit = 20;                          // RUNNER_DISK_OVERCOMMIT
  std::vector<std::string> snapshot_import_dirs;     // SNAPSHOT_IMPORT_DIRS
  std::string net_pool;                              // RUNNER_NET_POOL (empty: sandboxes have loopback only)
  std::string net_uplink;                            // RUNNER_NET_UPLINK
  std::string net_gateway;                           // RUNNER_NET_GATEWAY
  std::string net_dns;                               // RUNNER_NET_DNS
  std::string net_refused;                           // RUNNER_NET_REFUSED (comma-separated CIDRs)
  int net_mbit_per_cpu = 100;                        // RUNNER_NET_MBIT_PER_CPU
  int hand_off_wait_ms = 20;                         // RUNNER_HAND_OFF_WAIT_MS
};

void declare(events::settings::Declared& declared, Settings& settings);

}  // namespace runner
