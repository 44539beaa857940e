#pragma once
// What of an event's payload may leave the platform's own services (the audit log, SSE and
// Socket.IO read it out to the organization): secrets-derived fields are dropped. The public
// event contract (a later issue) will replace this with a mapping of its own.
#include <string>
#include <string_view>

namespace events {

// The payload (JSON text) of an event of `type` without the fields no client may see: an API
// key's hash (ApiKeyCreated.key_hash).
std::string redacted_data(std::string_view type, const std::string& data);

}  // namespace events
