#pragma once
// What of an event's payload may leave the platform's own services (the audit log, SSE and
// read it out to the organization): secrets and what is derived from them are dropped. Outside
// consumers get the public contract instead (events/published/).
#include <string>
#include <string_view>

namespace events {

// The payload (JSON text) of an event of `type` without the fields no client may see: an API
// key's hash (ApiKeyCreated.key_hash), an SSH token's hash, a webhook endpoint's signing secret.
std::string redacted_data(std::string_view type, const std::string& data);

}  // namespace events
