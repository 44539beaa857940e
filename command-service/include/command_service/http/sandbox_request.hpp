#pragma once
// Reads the create-sandbox body (compat spec §2.2). Every problem names its field.
#include "events/catalogue/sandbox.hpp"

#include <boost/json.hpp>

namespace command_service {

struct CreateDefaults {
  std::string region = "local";
  std::string snapshot = "default";
  std::string user = "daytona";
};

events::Result<events::SandboxCreated> parse_create_sandbox(std::string_view body, const events::SandboxId& id,
                                                            const events::OrganizationId& org,
                                                            const CreateDefaults& defaults);
events::Result<events::StringMap> parse_labels_body(std::string_view body);
// A JSON object of strings (labels, env); `field` names it in errors.
events::Result<events::StringMap> string_map(const boost::json::value& v, std::string_view field);

}  // namespace command_service
