#pragma once
// The packet filter of a runner's sandboxes, as nftables text (pure; net_host.cpp hands it to
// libnftables, tests/unit/net_rules_test.cpp reads it). One table per runner, `inet sbx_<tag>`:
//
//   input    from a sandbox's veth: only DNS to the runner's resolver and replies to connections
//            the host opened; everything else dropped
//            (the host, its loopback services, PostgreSQL, NATS, the runner's forwarding endpoint).
//   forward  to a sandbox: only replies; from a sandbox: IPv6 dropped, the always-refused set
//            dropped (other sandboxes, link-local and metadata, loopback, multicast, the
//            configured extras), then the sandbox's own chain by its veth's name.
//   s<i>     the source must be the sandbox's address; then every policy layer (its own, then its
//            organization's limit) must let the packet through.
//   nat      sandbox addresses leaving by anything but a sandbox veth are masqueraded; TCP 443
//            from a sandbox whose policy names domains (its veth in `sni_veths`) goes to the SNI
//            gate on the resolver's address (net_sni_gate.hpp), which checks the name it asks for.
//
// A layer: block-all drops; denied CIDRs and addresses learnt for denied names drop; with an
// allow list only the listed CIDRs and the addresses the resolver returned for allowed names
// (for their TTL) pass.
#include "events/network_policy.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace runner::net {

inline constexpr unsigned short kSniGatePort = 8443;

struct Plan {
  std::string tag;             // a few hex digits, unique per runner on a host
  events::network::Cidr pool;  // sandbox addresses; its first address is the resolver's
  std::vector<std::string> refused;  // extra CIDRs no sandbox may reach
  std::string table() const { return "sbx_" + tag; }
  std::string veth_prefix() const { return "sx" + tag; }
  std::string veth(int index) const;  // host side of sandbox `index`'s pair
  std::uint32_t gateway() const { return pool.address + 1; }
  std::uint32_t address(int index) const { return pool.address + 1 + static_cast<std::uint32_t>(index); }
  int capacity() const;  // how many sandbox addresses the pool holds
};

// The CIDRs no sandbox may reach under any policy: the always-refused ones, the pool (other
// sandboxes) and the configured extras.
std::vector<std::string> refused(const Plan& plan);

// Whether a policy's names need the SNI gate (a domain allow list, or names on the deny list).
bool names_domains(const events::NetworkPolicy& p);

// The table from scratch (deleted first when it exists): run at runner start, so nothing a
// crashed runner left in it stays.
std::string base_table(const Plan& plan, bool exists);

// The sandbox's chains, sets and map entry, replacing what it had (learnt addresses dropped).
std::string sandbox_rules(const Plan& plan, int index, const events::NetworkPolicy& policy,
                          const std::optional<events::NetworkPolicy>& limit);
// Removes them.
std::string remove_sandbox(const Plan& plan, int index);

// Addresses the resolver learnt for a name, opened (or closed, for a denied name) for `ttl`
// seconds in layer `layer` (0: the sandbox's policy, 1: the organization's limit). Re-adding an
// address renews its time.
std::string learn(const Plan& plan, int index, int layer, bool denied, const std::vector<std::uint32_t>& addresses,
                  std::uint32_t ttl);

}  // namespace runner::net
