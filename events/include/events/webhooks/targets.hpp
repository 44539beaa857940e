#pragma once
// Where a webhook may be sent (server-side request forgery): a target URL is http or https with
// a host and no user info; every address its host resolves to is classified, and only public
// addresses are allowed unless the operator names more ranges (WEBHOOK_ALLOW_RANGES: loopback,
// private). Link-local, cloud metadata, unspecified, multicast and reserved addresses are never
// allowed. The URL is checked when an endpoint is made and every address again at each
// delivery (a name may resolve elsewhere by then: DNS rebinding); redirects are not followed.
#include "events/error.hpp"

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace events::webhooks {

enum class AddressKind { public_, loopback, private_, link_local, metadata, unspecified, multicast, reserved };
std::string_view to_string(AddressKind kind);
AddressKind classify(const boost::asio::ip::address& address);

struct TargetPolicy {
  bool allow_loopback = false;
  bool allow_private = false;
  // "loopback", "private", "loopback,private" or ""; anything else is refused by name.
  static Result<TargetPolicy> parse(std::string_view ranges);
};

struct Target {
  std::string scheme;  // http or https
  std::string host;    // a name or an address (without brackets)
  std::uint16_t port = 0;
  std::string target;  // path and query, "/" at least
};

// The URL as a webhook target, or why it cannot be one. Literal addresses are checked here too.
Result<Target> parse_target(std::string_view url, const TargetPolicy& policy);

// Whether a delivery may connect to `address` (what the host resolved to).
Result<void> check_address(const boost::asio::ip::address& address, const TargetPolicy& policy);

}  // namespace events::webhooks
