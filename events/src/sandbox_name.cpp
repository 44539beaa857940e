#include "events/catalogue/sandbox_name.hpp"

#include "events/api_keys.hpp"

namespace events {

SandboxNameKey sandbox_name_key(const OrganizationId& org, std::string_view name) {
  return *SandboxNameKey::parse(uuid_of_text(org.str() + "/" + std::string(name)));
}

}  // namespace events
