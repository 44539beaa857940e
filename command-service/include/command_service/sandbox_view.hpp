#pragma once
// One sandbox as the API shows it, from the read model or from a decider state, and its DTO
// (the fields `@daytonaio/sdk` reads, see shared/daytona-api-compat.md §2.1).
#include "events/deciders/sandbox.hpp"

#include <boost/json.hpp>

namespace pqxx {
class row;
}

namespace command_service {

struct SandboxView {
  events::sandbox::State state;
  std::string region;
  std::string user;
  std::string created_at;
  std::string updated_at;
  std::string last_activity_at;
};

SandboxView view_from_row(const pqxx::row& row);  // columns of kSandboxColumns
extern const char* const kSandboxColumns;

// The state the API shows: transitional states derived from desired vs actual.
std::string api_state(const events::sandbox::State& s);
boost::json::object sandbox_dto(const SandboxView& v, const std::string& proxy_url, bool with_details = true);

}  // namespace command_service
