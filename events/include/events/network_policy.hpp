#pragma once
// A sandbox's egress policy (issue 16), pure: what the API takes (Daytona's comma-separated
// networkAllowList / domainAllowList, plus networkDenyList), how it is checked, and how a name or an
// address is judged. The runner enforces it (runner-worker/src/network/); the resolver asks
// name_verdict(), the packet filter is rendered from the same struct.
#include "events/error.hpp"
#include "events/json.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace events {

struct NetworkPolicy {
  bool block_all = false;
  std::vector<std::string> allow_list;         // IPv4 CIDRs (networkAllowList)
  std::vector<std::string> domain_allow_list;  // names and "*." wildcards (domainAllowList)
  std::vector<std::string> deny_list;          // IPv4 CIDRs and names (networkDenyList)
  bool operator==(const NetworkPolicy&) const = default;
  // Only what is listed may be reached (an allow list of either kind is set).
  bool allow_only() const { return !allow_list.empty() || !domain_allow_list.empty(); }
};
BOOST_DESCRIBE_STRUCT(NetworkPolicy, (), (block_all, allow_list, domain_allow_list, deny_list))

namespace network {

inline constexpr std::size_t kMaxAllowEntries = 10;  // Daytona's limit, for both allow lists
inline constexpr std::size_t kMaxDenyEntries = 32;

struct Cidr {
  std::uint32_t address = 0;  // host order, host bits cleared
  int prefix = 32;
  bool contains(std::uint32_t a) const;
  std::string str() const;
};

// "a.b.c.d/n" exactly (host bits are cleared); nothing else.
std::optional<Cidr> parse_cidr(std::string_view text);
std::optional<std::uint32_t> parse_ipv4(std::string_view text);
std::string ipv4_text(std::uint32_t address);

// A domain rule: a name ("example.com") or a wildcard over its subdomains ("*.example.com"),
// lowercase letters, digits and '-' in labels of 1 to 63, at most 253 characters.
bool valid_domain_rule(std::string_view rule);
// Lowercase, without a trailing dot; empty when `name` is not a DNS name.
std::string normalize_name(std::string_view name);
// "*.example.com" matches every name under example.com but not example.com itself; a plain rule
// matches only that name. `name` normalized.
bool domain_matches(std::string_view rule, std::string_view name);

// The API's fields: a comma-separated string (Daytona's form) or an array of strings. Entries are
// trimmed, empty ones dropped; an error names the field and the entry.
Result<std::vector<std::string>> allow_list(std::string_view field, const std::vector<std::string>& entries);
Result<std::vector<std::string>> domain_allow_list(std::string_view field, const std::vector<std::string>& entries);
Result<std::vector<std::string>> deny_list(std::string_view field, const std::vector<std::string>& entries);
std::vector<std::string> split_list(std::string_view text);

// Checks a whole policy (what a decider is given), the first problem named.
std::optional<Error> validate(const NetworkPolicy& p);

// "networkAllowList" form: entries joined with ","; empty when none.
std::string joined(const std::vector<std::string>& entries);

// What the resolver does with a name under one policy layer.
enum class NameVerdict {
  refuse,    // blocked, denied or not on the domain allow list: answer NXDOMAIN
  open,      // resolve; the addresses are then judged by the address rules alone
  allowed,   // on the domain allow list: resolve and open the addresses it returns, for their TTL
};
NameVerdict name_verdict(const NetworkPolicy& layer, std::string_view name);
// Whether a name is denied by the layer's deny list (its addresses are closed when learnt).
bool name_denied(const NetworkPolicy& layer, std::string_view name);

// The CIDRs and the names of a deny list, apart.
std::vector<std::string> deny_cidrs(const NetworkPolicy& p);
std::vector<std::string> deny_names(const NetworkPolicy& p);

}  // namespace network
}  // namespace events
