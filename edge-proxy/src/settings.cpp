#include "edge/settings.hpp"

namespace edge {

void declare(events::settings::Declared& d, Settings& s) {
  d.url("API_URL", s.api_url, "the command-service API the proxy asks where sandboxes run and who may pass");
  d.text("ADMIN_API_KEY", s.admin_api_key, "the admin key (its calls to the API; preview and forwarding keys derive from it)", true);
  d.text("NATS_URL", s.nats_url, "the NATS server whose placement hand-offs spare a claimed sandbox's first look-up (empty: always ask)");
  d.text("PROXY_ADDRESS", s.address, "the address the proxy listens on");
  d.port("PROXY_PORT", s.port, "the port the proxy listens on");
  d.text("PREVIEW_DOMAIN", s.preview_domain, "previews' host form: {port}-{sandboxId}.<domain>");
  d.text("PREVIEW_KEYS", s.preview_keys, "preview-token key ring id:secret[,id:secret], as the API has it (default: derived)");
  d.number("PROXY_THREADS", s.threads, "threads running the proxy's connections", 1, 256);
  d.number("PROXY_MAX_CONNECTIONS", s.max_connections, "connections held at once (0: no limit; kept below the open-file limit)", 0, 1000000);
  d.number("PROXY_MAX_CONNECTIONS_PER_SOURCE", s.max_connections_per_source, "connections held at once per source address (0: no limit)", 0, 1000000);
  d.number("PROXY_HEADER_LIMIT", s.header_limit, "largest request head in bytes (431 past it)", 1024, 1 << 20);
}

}  // namespace edge
