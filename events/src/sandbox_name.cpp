#include "events/catalogue/sandbox_name.hpp"

#include "events/api_keys.hpp"

namespace events {

SandboxNameKey sandbox_name_key(const OrganizationId& org, std::string_view name) {
  const auto hex = sha256_hex(org.str() + "/" + std::string(name));
  const auto uuid = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
                    hex.substr(20, 12);
  return *SandboxNameKey::parse(uuid);
}

}  // namespace events
