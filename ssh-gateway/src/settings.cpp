#include "ssh_gateway/settings.hpp"

namespace ssh_gateway {

void declare(events::settings::Declared& d, Settings& s) {
  d.url("API_URL", s.api_url, "the command-service API the gateway asks which sandbox a token opens");
  d.text("ADMIN_API_KEY", s.admin_api_key, "the admin key (its calls to the API; the runners' forwarding key derives from it)", true);
  d.text("SSH_GATEWAY_ADDRESS", s.address, "the address the gateway listens on");
  d.port("SSH_GATEWAY_PORT", s.port, "the port the gateway listens on");
  d.text("SSH_HOST_KEY", s.host_key, "the gateway's ed25519 host key (made, mode 0600, when missing)");
  d.seconds("SSH_TOKEN_CACHE_SECONDS", s.token_cache, "how long an answer about a token is kept (a revoked token opens nothing new after it)", 0, 60);
  d.number("SSH_FAILED_AUTH_PER_MINUTE", s.failed_auth_per_minute, "failed authentications per minute per source address before it is refused", 1, 100000);
  d.number("SSH_MAX_SESSIONS", s.max_sessions, "SSH connections held at once", 1, 100000);
}

}  // namespace ssh_gateway
