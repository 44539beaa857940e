#pragma once
// Reads the network fields of a create or of POST /sandbox/{id}/network-settings (Daytona's
// comma-separated strings, or arrays of strings) and applies them to a policy as Daytona does.
// Every problem names its field and entry.
#include "events/network_policy.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace command_service {

struct NetworkRequest {
  std::optional<bool> block_all;
  std::optional<std::vector<std::string>> allow_list;
  std::optional<std::vector<std::string>> domain_allow_list;
  std::optional<std::vector<std::string>> deny_list;
  std::optional<std::string> outbound_proxy_url;  // create only
  bool any_policy() const { return block_all || allow_list || domain_allow_list || deny_list; }
};

events::Result<NetworkRequest> parse_network_request(const boost::json::object& body);
events::Result<NetworkRequest> parse_network_request(std::string_view body);

// `networkBlockAll: true` clears every list; `networkBlockAll: false` opens the sandbox again and
// clears the allow lists (as the SDK documents); a list given replaces that list.
events::NetworkPolicy apply(events::NetworkPolicy current, const NetworkRequest& r);

// An admin's policy body ({networkBlockAll?, networkAllowList?, domainAllowList?, networkDenyList?}).
events::Result<events::NetworkPolicy> parse_policy_body(const boost::json::value& v, std::string_view field);
boost::json::object policy_body(const events::NetworkPolicy& p);

}  // namespace command_service
