#pragma once
// Sandbox egress on this host (issue 16). Each sandbox gets a veth pair: `eth0` inside with one
// address from the pool (a /32, its default route through the host side), the host side
// `sx<tag>x<index>` routed to that address alone. No bridge: every packet a sandbox sends is
// routed, so the per-veth chain (net_rules.hpp) sees all of it, and sandboxes cannot reach one
// another at layer 2. The pool's first address sits on the host's lo and serves DNS
// (net_resolver.hpp). Sandbox traffic leaves through NAT; with a gateway set, only through it (its
// own routing table: tests point it at the "internet" they build). tc limits each veth both ways.
// Set up with `ip`, `tc` and `nsenter` (one batch each) and libnftables; what a crashed runner
// left is found and removed when the next one opens the network.
#include "events/network_policy.hpp"
#include "runner/net_rules.hpp"

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

struct nft_ctx;

namespace runner {

struct NetSettings {
  std::string pool;                  // RUNNER_NET_POOL (e.g. 10.88.0.0/16); empty: loopback only, as before
  std::string uplink;                // RUNNER_NET_UPLINK: where sandbox traffic leaves; default: the default route's
  std::string gateway;               // RUNNER_NET_GATEWAY: when set, sandbox traffic goes only through it
  std::string dns;                   // RUNNER_NET_DNS: upstream resolver ip[:port]; default: /etc/resolv.conf's first
  std::vector<std::string> refused;  // RUNNER_NET_REFUSED: more CIDRs no sandbox may reach
  int mbit_per_cpu = 100;            // RUNNER_NET_MBIT_PER_CPU: each direction, per CPU of the sandbox
  std::string state_dir;             // where each sandbox's address index is kept
};

// What a sandbox may reach: its policy and its organization's limit.
struct Egress {
  events::NetworkPolicy policy;
  std::optional<events::NetworkPolicy> limit;
  bool operator==(const Egress&) const = default;
};

class Network {
 public:
  // Sets the host up (resolver address, routing, the nft table from scratch) and removes what an
  // earlier runner left. Disabled (every call a no-op) when settings.pool is empty.
  static events::Result<std::unique_ptr<Network>> open(const NetSettings& settings);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  bool enabled() const { return enabled_; }
  // The sandbox's /etc/resolv.conf.
  std::string resolv_conf() const;
  std::string resolver_address() const;
  unsigned short upstream_port() const { return upstream_port_; }
  std::string upstream_address() const { return upstream_; }

  // A started sandbox (PID 1 `pid`) gets its veth, address, route, bandwidth and policy; a running
  // one that has them gets only a changed policy (within the call) or, resized, its new
  // bandwidth. `cpu` sets the bandwidth.
  events::Result<void> attach(const std::string& sandbox, int pid, const Egress& egress, int cpu);
  // Its rules and address go (its veth went with its network namespace). Idempotent.
  void detach(const std::string& sandbox);
  // Removes the host set-up (table, resolver address, routing) when no sandbox uses it.
  void close_if_unused();

  // The resolver's questions, by the source address of a query.
  struct Client {
    int index = 0;
    std::vector<events::NetworkPolicy> layers;  // the policy, then the limit when there is one
  };
  std::optional<Client> client(std::uint32_t address) const;
  // Opens (or closes) the addresses of a name for a sandbox, for `ttl` seconds.
  events::Result<void> learn(int index, int layer, bool denied, const std::vector<std::uint32_t>& addresses,
                             std::uint32_t ttl);

  // The SNI gate's question (net_sni_gate.hpp): may sandbox `index` open a TLS connection to
  // `address` for `name` (empty: it named none)? Every layer judges as the packet filter does,
  // and with the name: an address opened for an allowed name takes only allowed names, a denied
  // name is refused wherever it is served.
  bool allows_tls(int index, std::uint32_t address, const std::string& name) const;
  // The firewall mark of the gate's own connections: routed like the sandboxes' traffic.
  static constexpr std::uint32_t kUpstreamMark = 0x5b1d;

  // Host-side veth names of the sandboxes attached now (tests, leftovers).
  std::vector<std::string> veths() const;
  const net::Plan& plan() const { return plan_; }

 private:
  Network() = default;
  events::Result<void> nft(const std::string& commands);
  events::Result<void> set_up_host();
  events::Result<int> index_of(const std::string& sandbox);  // allocates one when it has none
  int shaped_cpu(const std::string& sandbox) const;          // -1: not known (a runner restarted)

  bool enabled_ = false;
  NetSettings settings_;
  net::Plan plan_;
  std::string uplink_;
  std::string upstream_;
  unsigned short upstream_port_ = 53;
  int route_table_ = 0;
  mutable std::mutex mutex_;
  nft_ctx* nft_ = nullptr;
  std::map<std::string, int> indices_;        // sandbox -> address index (kept on disk too)
  std::map<std::string, Egress> applied_;     // sandbox -> what its chain says now
  std::map<std::string, int> cpus_;           // sandbox -> the CPUs its bandwidth was set for
  std::map<std::uint32_t, Client> clients_;   // address -> the resolver's view
  // What the resolver opened or closed, as the nft sets have it: per index, [layer * 2 + denied].
  using Learnt = std::map<std::uint32_t, std::chrono::steady_clock::time_point>;
  std::map<int, std::array<Learnt, 4>> learnt_;
};

}  // namespace runner
