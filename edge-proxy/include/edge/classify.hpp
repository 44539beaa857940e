#pragma once
// Where a request to the proxy goes, read from its target and Host alone (pure; unit-tested and
// fuzzed in tests/). No look-up, no I/O.
#include <optional>
#include <string>
#include <string_view>

namespace edge {

enum class Kind { toolbox, preview, health, unknown };

struct Target {
  Kind kind = Kind::unknown;
  std::string sandbox;          // lower-case UUID
  unsigned short port = 0;
  std::string upstream_target;  // what the sandbox sees
  std::string query_token;      // DAYTONA_SANDBOX_AUTH_KEY from the query
};

// `/toolbox/{id}/...` (and the deprecated `/toolbox/{id}/toolbox/...`), `/preview/{id}/{port}/...`,
// `Host: {port}-{id}.<preview_domain>`, `/health`; anything else is unknown.
Target classify(std::string_view target, std::string_view host, std::string_view preview_domain,
                unsigned short daemon_port);

std::optional<unsigned short> port_of(std::string_view text);
// The value of `name` in a list of name=value pairs split by `separator` (a query string, a
// Cookie header); empty when absent.
std::string pair_value(std::string_view pairs, std::string_view name, char separator);
std::string query_param(std::string_view target, std::string_view name);
// The cookie a preview token is kept in after it came in the query: one per sandbox port.
std::string preview_cookie_name(std::string_view sandbox, unsigned short port);

}  // namespace edge
