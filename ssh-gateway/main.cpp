// ssh-gateway: SSH into sandboxes with an access token as the user name (src/session.cpp).
// Settings from the environment (`ssh-gateway --help`); SIGTERM ends it.
#include "events/tokens.hpp"
#include "ssh_gateway/server.hpp"

#include <libssh/libssh.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  ssh_gateway::Settings settings;
  events::settings::Declared declared("ssh-gateway");
  ssh_gateway::declare(declared, settings);
  if (auto code = declared.load_for_main(argc, argv)) return *code;
  std::signal(SIGPIPE, SIG_IGN);
  ssh_init();
  ssh_gateway::Gateway gateway{settings,
                               ssh_gateway::Platform(settings.api_url, settings.admin_api_key, settings.token_cache),
                               ssh_gateway::Throttle(settings.failed_auth_per_minute),
                               events::tokens::forward_key(settings.admin_api_key)};
  std::atomic<bool> stop{false};  // SIGTERM's default action ends the process; nothing to flush
  auto served = ssh_gateway::serve(gateway, stop);
  if (!served) {
    std::cerr << "ssh-gateway: " << served.error().message << "\n";
    return 1;
  }
  return 0;
}
