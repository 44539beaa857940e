#pragma once
// What every route file needs: errors to HTTP, command metadata and idempotency from the
// request, and the read-your-writes wait.
#include "command_service/api.hpp"
#include "events/store/recorded_event.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <optional>

namespace command_service {

http::status status_for(events::ErrorCode c);
Response error_for(const events::Error& e);
std::string now_iso();

std::string request_hash(const Request& req);
// event id, correlation id (X-Request-Id or new), actor, organization, idempotency key.
events::Metadata metadata_for(const Call& call);
// "org/<org>/<Idempotency-Key>" and a hash of the request, when the client sent a key.
std::optional<std::pair<std::string, std::string>> idempotency_of(const Call& call);

// Read-your-writes: waits (bounded by settings) until `model`'s projection has passed `position`.
boost::asio::awaitable<void> wait_for_projection(Services& s, std::string model, std::int64_t position);
// The last position of a stream (0 when it has none), for wait_for_projection.
std::int64_t last_position_of(DbContext& db, const std::string& stream);
// The last position in the whole log, for reads that list across streams.
std::int64_t log_head(DbContext& db);
// The snapshot a sandbox of `org` names: the organization's own, else a general one; never a
// removed one. Its id, state, layers and entrypoint (JSON), for the create check and the runner.
struct SnapshotRef {
  std::string id;
  std::string state;
  boost::json::value layers;
  boost::json::value entrypoint;
};
std::optional<SnapshotRef> snapshot_for_sandbox(DbContext& db, const std::string& org, const std::string& name);

// A sandbox of the organization by id or name (not_found otherwise).
events::Result<events::SandboxId> resolve_sandbox(DbContext& db, const std::string& org, const std::string& id_or_name);

}  // namespace command_service
