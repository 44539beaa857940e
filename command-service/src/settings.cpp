#include "command_service/settings.hpp"

namespace command_service {

void declare(events::settings::Declared& d, Settings& s) {
  d.text("DATABASE_URL", s.database_url, "the PostgreSQL connection string (libpq form)", true);
  d.url("NATS_URL", s.nats_url, "the NATS server");
  d.text("API_ADDRESS", s.address, "the address the API listens on");
  d.port("API_PORT", s.port, "the port the API listens on (0: any free port)");
  d.number("API_THREADS", s.threads, "threads serving requests; PostgreSQL work runs inline on them", 1, 256);
  d.url("PROXY_URL", s.proxy_url, "the edge proxy as clients reach it (toolbox and preview URLs)");
  d.text("SSH_GATEWAY", s.ssh_gateway, "the SSH gateway as clients reach it, host:port (the sshCommand of SSH access)");
  d.text("ADMIN_API_KEY", s.admin_api_key, "the admin key (admin routes; preview and forwarding keys derive from it)");
  d.text("PREVIEW_KEYS", s.preview_keys, "preview-token key ring id:secret[,id:secret]: the first signs (default: derived)");
  d.seconds("PREVIEW_TOKEN_TTL", s.preview_token_ttl, "how long a getPreviewLink token is valid", 60, 30 * 86400);
  d.paths("SNAPSHOT_IMPORT_DIRS", s.snapshot_import_dirs, "host directories snapshot images may be read from (none: no host path)");
  d.seconds("SCHEDULE_WAIT_SECONDS", s.schedule_wait, "how long a sandbox waits for a runner with room before it errs", 1, 3600);
  d.number("RATE_LIMIT_ANONYMOUS", s.limits.anonymous, "requests per minute per source without a key (0: no limit)", 0, 1000000);
  d.number("RATE_LIMIT_AUTHENTICATED", s.limits.authenticated, "requests per minute per organization (0: no limit)", 0, 1000000);
  d.number("RATE_LIMIT_FAILED_AUTH", s.limits.failed_auth, "failed authentications per minute per source (0: no limit)", 0, 1000000);
  d.number("RATE_LIMIT_SANDBOX_CREATE", s.limits.sandbox_create, "sandbox creates per minute per organization (0: no limit)", 0, 1000000);
  d.number("RATE_LIMIT_LIFECYCLE", s.limits.lifecycle, "lifecycle commands per minute per organization (0: no limit)", 0, 1000000);
  d.number("API_MAX_CONNECTIONS", s.connections.total, "connections held at once (0: no limit; kept below the open-file limit)", 0, 1000000);
  d.number("API_MAX_CONNECTIONS_PER_SOURCE", s.connections.per_source, "connections held at once per source address (0: no limit)", 0, 1000000);
  d.text("WEBHOOK_ALLOW_RANGES", s.webhook_allow_ranges,
         "address ranges webhook endpoints may name besides public ones: loopback, private (never link-local or metadata)");
  d.number("API_BODY_LIMIT", s.body_limit, "largest request body in bytes (413 past it)", 1024, 64 << 20);
  d.seconds("API_IDLE_TIMEOUT", s.idle_timeout, "how long a kept-alive connection may wait for its next request", 1, 3600);
}

}  // namespace command_service
