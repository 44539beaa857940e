#pragma once
// The public event contract: what outside consumers receive (webhooks, the SSE stream, Kafka).
// It is versioned on its own, apart from the internal events, which are the platform's memory
// and change with it. Daytona's webhook types and payloads first (their schema names, their
// fields: `class`, not `sandboxClass`, as Daytona's SandboxCreatedWebhook has it), then what
// Daytona lacks: a `reason` on every state update, `sandbox.oom_killed`, `sandbox.deleted`.
// Internal fields (key hashes, runners, env values, layer digests) have no member here, so they
// cannot leave. mapping.hpp makes these from the log.
#include "events/error.hpp"
#include "events/http/dto.hpp"

#include <boost/describe.hpp>
#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace events::published {

// The contract's version, in each CloudEvent's `dataschema` ("urn:sandbox-platform:events:v1:<type>").
// Adding a type or a field keeps it; changing or removing one makes the next.
inline constexpr std::string_view kVersion = "1";

inline constexpr std::array<std::string_view, 9> kTypes = {
    "sandbox.created",  "sandbox.state.updated",  "sandbox.oom_killed", "sandbox.deleted",
    "snapshot.created", "snapshot.state.updated", "snapshot.removed",   "volume.created",
    "volume.state.updated"};
bool is_type(std::string_view type);
// A comma-separated list of types (a stream's `types=`, an endpoint's filter); an unknown one is
// refused by name.
Result<std::set<std::string>> parse_types(std::string_view list);

// The CloudEvents `source` of this platform's events.
inline constexpr std::string_view kSource = "/sandbox-platform";

// The payloads (Daytona's schema names). `event` is the type, `timestamp` when it happened (the
// log's time of the internal event, so a redelivery carries the same value).
struct SandboxCreatedWebhook {
  std::string event, timestamp, id, organizationId, state, class_, createdAt;
};
BOOST_DESCRIBE_STRUCT(SandboxCreatedWebhook, (), (event, timestamp, id, organizationId, state, class_, createdAt))

struct SandboxStateUpdatedWebhook {
  std::string event, timestamp, id, organizationId, oldState, newState, updatedAt, reason;
};
BOOST_DESCRIBE_STRUCT(SandboxStateUpdatedWebhook, (),
                      (event, timestamp, id, organizationId, oldState, newState, updatedAt, reason))

struct SandboxOomKilledWebhook {
  std::string event, timestamp, id, organizationId;
  std::int64_t memoryLimitBytes = 0;
  std::string process, reason;
};
BOOST_DESCRIBE_STRUCT(SandboxOomKilledWebhook, (),
                      (event, timestamp, id, organizationId, memoryLimitBytes, process, reason))

struct SandboxDeletedWebhook {
  std::string event, timestamp, id, organizationId, deletedAt, reason;
};
BOOST_DESCRIBE_STRUCT(SandboxDeletedWebhook, (), (event, timestamp, id, organizationId, deletedAt, reason))

struct SnapshotCreatedWebhook {
  std::string event, timestamp, id, name, organizationId, state, createdAt;
};
BOOST_DESCRIBE_STRUCT(SnapshotCreatedWebhook, (), (event, timestamp, id, name, organizationId, state, createdAt))

struct SnapshotStateUpdatedWebhook {
  std::string event, timestamp, id, name, organizationId, oldState, newState, updatedAt, reason;
};
BOOST_DESCRIBE_STRUCT(SnapshotStateUpdatedWebhook, (),
                      (event, timestamp, id, name, organizationId, oldState, newState, updatedAt, reason))

struct SnapshotRemovedWebhook {
  std::string event, timestamp, id, name, organizationId, removedAt;
};
BOOST_DESCRIBE_STRUCT(SnapshotRemovedWebhook, (), (event, timestamp, id, name, organizationId, removedAt))

struct VolumeCreatedWebhook {
  std::string event, timestamp, id, name, organizationId, state, createdAt;
};
BOOST_DESCRIBE_STRUCT(VolumeCreatedWebhook, (), (event, timestamp, id, name, organizationId, state, createdAt))

struct VolumeStateUpdatedWebhook {
  std::string event, timestamp, id, name, organizationId, oldState, newState, updatedAt, reason;
};
BOOST_DESCRIBE_STRUCT(VolumeStateUpdatedWebhook, (),
                      (event, timestamp, id, name, organizationId, oldState, newState, updatedAt, reason))

// One public event, with what every way of sending it needs.
struct PublicEvent {
  std::string id;               // "<log position>.<n>": the same on every redelivery and resume
  std::int64_t position = 0;    // the internal event's place in the log
  int index = 0;                // which of that event's public events (the id's <n>)
  std::string type;             // one of kTypes
  std::string subject;          // the resource's id
  std::string organization_id;  // whose it is: only that organization receives it
  std::string time;             // RFC 3339, UTC, milliseconds
  boost::json::object data;     // the payload above, as JSON
};

// CloudEvents 1.0, structured JSON form: specversion, id, source, type, subject, time,
// datacontenttype, dataschema and data. `source` names the platform (kSource).
boost::json::object to_cloudevent(const PublicEvent& e, std::string_view source);

// The time of a log entry ("2026-12-01T10:00:00.123456Z") as the contract writes it
// ("2026-12-01T10:00:00.123Z").
std::string contract_time(std::string_view recorded_at);

}  // namespace events::published
