#pragma once
// One sandbox as the API shows it, from the read model or from a decider state, and its DTO
// (the fields `@daytonaio/sdk` reads, see shared/daytona-api-compat.md §2.1).
#include "events/deciders/sandbox.hpp"
#include "projector/queries/sandboxes.hpp"

#include <boost/json.hpp>

namespace command_service {

// What the sandboxes read model holds of one (projector/queries/sandboxes.hpp asks it).
using SandboxView = projector::queries::SandboxRow;

// The state the API shows: transitional states derived from desired vs actual.
std::string api_state(const events::sandbox::State& s);
boost::json::object sandbox_dto(const SandboxView& v, const std::string& proxy_url, bool with_details = true);

}  // namespace command_service
