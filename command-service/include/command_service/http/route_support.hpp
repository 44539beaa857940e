#pragma once
// What every route file needs: errors to HTTP, command metadata and idempotency from the
// request, and the read-your-writes wait.
#include "command_service/http/api.hpp"
#include "events/access.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/organization.hpp"
#include "events/deciders/sandbox.hpp"
#include "events/store/recorded_event.hpp"
#include "events/wire/proxy.hpp"

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

// An id as given, or the id of the sandbox holding that name in the organization. Says nothing
// about who may use it: sandbox_for and the commands' authorize do.
events::Result<events::SandboxId> resolve_sandbox(DbContext& db, const std::string& org, const std::string& id_or_name);

// ---- who may do what (events/access.hpp), asked by every use case ----
bool may(const Call& call, events::access::Action action, const events::access::Resource& resource);
events::access::Resource resource_of(const events::sandbox::State& sandbox);
// "Sandbox with ID or name X not found": what a caller hears about a sandbox that does not exist
// and about one it may not see alike.
events::Error sandbox_not_found(const std::string& id_or_name);

using SandboxAggregate = events::Aggregate<events::sandbox::State, events::SandboxEvent>;
// The sandbox's aggregate through this thread's cache (only new events are read).
events::Result<SandboxAggregate> load_sandbox(DbContext& db, const events::SandboxId& id);
// The sandbox by id or name when it exists, is not deleted and the caller may `action` it;
// sandbox_not_found otherwise.
events::Result<events::sandbox::State> sandbox_for(DbContext& db, const Call& call, const std::string& id_or_name,
                                                   events::access::Action action);
// Where the sandbox runs, as the edge proxies route by: with its runner's endpoint as given, or
// read from the runners model (empty when it has no runner).
events::wire::SandboxPlacement placement_of(const events::sandbox::State& st, std::string runner_endpoint);
events::wire::SandboxPlacement placement_of(DbContext& db, const events::sandbox::State& st);
// Runs one command on a sandbox's stream through the cache; events go to the runner the state
// after them names (routing key) unless `options` says otherwise.
using SandboxDecide = std::function<events::Result<events::sandbox::Events>(const events::sandbox::State&)>;
using SandboxAppendOptions =
    std::function<events::AppendOptions(const events::sandbox::State&, const events::sandbox::State&)>;
events::Result<events::Executed> execute_sandbox(DbContext& db, const events::SandboxId& id,
                                                 const events::Metadata& metadata, const SandboxDecide& decide,
                                                 const SandboxAppendOptions& options = {});

// The organization's state (its egress defaults and limit, for a create or a policy change).
events::Result<events::organization::State> load_organization(DbContext& db, const events::OrganizationId& org);
// Runs one command on an organization's stream; the last position appended (0: nothing was).
events::Result<std::int64_t> organization_command(DbContext& db, const Call& call, const events::OrganizationId& org,
                                                  const events::organization::Command& c);

}  // namespace command_service
