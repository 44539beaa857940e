#pragma once
// The API's routes. Each register_* adds its routes to the router.
#include "command_service/pg/db.hpp"
#include "command_service/app/policies.hpp"
#include "command_service/http/router.hpp"
#include "events/tokens.hpp"
#include "events/wire/proxy.hpp"
#include "events/webhooks/targets.hpp"

#include <chrono>
#include <optional>
#include <vector>

namespace command_service {

struct ApiSettings {
  std::string proxy_url = "http://127.0.0.1:4000";  // toolboxProxyUrl = proxy_url + "/toolbox"
  std::string default_region = "local";
  std::string ssh_gateway = "127.0.0.1:2222";  // host:port, for sshCommand
  // Signs preview tokens (events/tokens.hpp); main reads PREVIEW_KEYS or derives one from the admin key.
  std::optional<events::tokens::KeyRing> preview_keys;
  std::chrono::seconds preview_token_ttl{24 * 3600};  // getPreviewLink's tokens
  // Runners' forwarding endpoints ask for it (the warm-pool claim posts env through them).
  std::string forward_key;
  // Host directories a snapshot's imageName may name (oci:, docker-archive:, ...); none by default.
  std::vector<std::string> snapshot_import_dirs;
  std::chrono::milliseconds read_your_writes_wait{2000};
  // Which addresses webhook endpoints may name besides public ones (WEBHOOK_ALLOW_RANGES).
  events::webhooks::TargetPolicy webhook_targets;
};

class EventFeed;
class KeyCache;
class Metrics;

struct Services {
  Db& db;
  ApiSettings settings;
  std::function<bool()> nats_connected;
  EventFeed* feed = nullptr;     // live streams (SSE, Socket.IO); null: they answer 503
  KeyCache* keys = nullptr;      // authenticated API keys (key_cache.hpp); null: every request asks PostgreSQL
  Metrics* metrics = nullptr;    // GET /metrics; null: 503
  // Tells the edge proxies where a just-claimed sandbox runs (events/bus/placements.hpp); null: nobody.
  std::function<void(const events::wire::PlacementHandOff&)> hand_off;
  // Remembers that the API key (its SHA-256, and its actor) that asked for a sandbox starting now
  // may use its toolbox: the proxies are told once it has started (app/started_placements.hpp); null: nobody.
  std::function<void(const events::SandboxId&, std::string key_sha256, std::string actor)> expect_start;
  Clock clock = system_clock();  // what time commands say it is (tests set their own)
};

void register_sandbox_routes(Router& router, Services& services);
void register_system_routes(Router& router, Services& services);
void register_volume_and_snapshot_routes(Router& router, Services& services);
void register_admin_and_audit_routes(Router& router, Services& services);
void register_runner_routes(Router& router, Services& services);
void register_stream_routes(Router& router, Services& services);     // /api/events (SSE), /metrics
void register_socket_io_routes(Router& router, Services& services);  // /api/socket.io/ (compat spec §7)
// Preview links (user) and what the edge proxy asks about a sandbox (admin).
void register_proxy_routes(Router& router, Services& services);
void register_ssh_routes(Router& router, Services& services);
// Expires the SSH tokens whose time has passed (an event each; the scheduler calls it).
int expire_ssh_access(DbContext& db, Time now);
void register_webhook_routes(Router& router, Services& services);  // Svix's API subset, Daytona's webhook routes
// Every route above: what the service serves (main and the API tests both call this).
void register_all_routes(Router& router, Services& services);
// Bearer API key → organization (keys are looked up by their SHA-256 in read.api_keys).
Authenticator api_key_authenticator(Services& services);

}  // namespace command_service
