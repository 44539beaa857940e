#include "runner/net_rules.hpp"

#include <cstdio>

namespace runner::net {

namespace ip = events::network;

namespace {

// Always refused, whatever the policy: "this network", loopback, link-local (cloud metadata at
// 169.254.169.254), Alibaba's metadata address, multicast and the reserved range.
constexpr const char* kAlwaysRefused[] = {"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "100.100.100.200/32",
                                          "224.0.0.0/3"};

std::string set_of(const std::vector<std::string>& cidrs) {
  std::string out = "{ ";
  for (std::size_t i = 0; i < cidrs.size(); ++i) out += (i > 0 ? ", " : "") + cidrs[i];
  return out + " }";
}

std::string name(int index) { return "s" + std::to_string(index); }
std::string layer_chain(int index, int layer) { return name(index) + "_l" + std::to_string(layer); }
std::string learnt(int index, int layer, bool denied) {
  return layer_chain(index, layer) + (denied ? "_deny" : "_allow");
}

// One layer's rules: it returns when the packet may pass, drops otherwise.
std::string layer_rules(const std::string& prefix, int index, int layer, const events::NetworkPolicy& p) {
  std::string out;
  auto rule = [&](const std::string& text) { out += prefix + text + "\n"; };
  if (p.block_all) {
    rule("drop");
    return out;
  }
  if (const auto cidrs = ip::deny_cidrs(p); !cidrs.empty()) rule("ip daddr " + set_of(cidrs) + " drop");
  rule("ip daddr @" + learnt(index, layer, true) + " drop");
  if (p.allow_only()) {
    if (!p.allow_list.empty()) rule("ip daddr " + set_of(p.allow_list) + " return");
    rule("ip daddr @" + learnt(index, layer, false) + " return");
    rule("drop");
    return out;
  }
  rule("return");
  return out;
}

}  // namespace

std::string Plan::veth(int index) const {
  char hex[8];
  std::snprintf(hex, sizeof hex, "%x", static_cast<unsigned>(index));
  return veth_prefix() + "x" + hex;
}

int Plan::capacity() const {
  const auto size = pool.prefix >= 31 ? 0 : (std::uint64_t{1} << (32 - pool.prefix)) - 3;  // network, resolver, broadcast
  return static_cast<int>(std::min<std::uint64_t>(size, 0xfffff));
}

std::vector<std::string> refused(const Plan& plan) {
  std::vector<std::string> out(std::begin(kAlwaysRefused), std::end(kAlwaysRefused));
  out.push_back(plan.pool.str());
  out.insert(out.end(), plan.refused.begin(), plan.refused.end());
  return out;
}

bool names_domains(const events::NetworkPolicy& p) { return !p.domain_allow_list.empty() || !ip::deny_names(p).empty(); }

std::string base_table(const Plan& plan, bool exists) {
  const auto t = "inet " + plan.table();
  const auto veths = "\"" + plan.veth_prefix() + "*\"";
  const auto gw = ip::ipv4_text(plan.gateway());
  const auto gate = std::to_string(kSniGatePort);
  std::string out;
  if (exists) out += "delete table " + t + "\n";
  out += "table " + t + " {\n";
  out += "  set refused { type ipv4_addr; flags interval; auto-merge; elements = " + set_of(refused(plan)) + " }\n";
  out += "  set sni_veths { type ifname; }\n";
  out += "  map sandboxes { type ifname : verdict; }\n";
  out += "  chain input { type filter hook input priority filter - 5; policy accept;\n";
  out += "    iifname " + veths + " jump sandbox_in\n  }\n";
  out += "  chain sandbox_in {\n";
  out += "    meta nfproto ipv6 drop\n";
  out += "    ip daddr " + gw + " udp dport 53 accept\n";
  out += "    ip daddr " + gw + " tcp dport 53 accept\n";
  out += "    ip daddr " + gw + " tcp dport " + gate + " ct status dnat accept\n";  // the SNI gate, only redirected
  out += "    ct state established,related accept\n";  // replies to what the host opened (never the reverse)
  out += "    drop\n  }\n";
  out += "  chain forward { type filter hook forward priority filter - 5; policy accept;\n";
  out += "    oifname " + veths + " ct state established,related accept\n";
  out += "    oifname " + veths + " drop\n";
  out += "    iifname " + veths + " jump sandbox_out\n  }\n";
  out += "  chain sandbox_out {\n";
  out += "    meta nfproto ipv6 drop\n";
  out += "    ip daddr @refused drop\n";
  out += "    ct state established,related accept\n";
  out += "    iifname vmap @sandboxes\n";
  out += "    drop\n  }\n";
  out += "  chain prerouting { type nat hook prerouting priority dstnat; policy accept;\n";
  // Never for the host's own addresses: those stay `input`'s, where only DNS is let through (the
  // gate would otherwise connect to a host service on 443 on the sandbox's behalf).
  out += "    iifname @sni_veths tcp dport 443 fib daddr type != local dnat ip to " + gw + ":" + gate + "\n  }\n";
  out += "  chain postrouting { type nat hook postrouting priority srcnat; policy accept;\n";
  out += "    ip saddr " + plan.pool.str() + " oifname != " + veths + " masquerade\n  }\n";
  out += "}\n";
  return out;
}

std::string sandbox_rules(const Plan& plan, int index, const events::NetworkPolicy& policy,
                          const std::optional<events::NetworkPolicy>& limit) {
  const auto t = "inet " + plan.table();
  const auto s = name(index);
  std::string out;
  for (int layer = 0; layer < 2; ++layer) {
    for (bool denied : {false, true}) {
      out += "add set " + t + " " + learnt(index, layer, denied) + " { type ipv4_addr; flags timeout; }\n";
      out += "flush set " + t + " " + learnt(index, layer, denied) + "\n";
    }
    out += "add chain " + t + " " + layer_chain(index, layer) + "\n";
    out += "flush chain " + t + " " + layer_chain(index, layer) + "\n";
  }
  out += "add chain " + t + " " + s + "\n";
  out += "flush chain " + t + " " + s + "\n";
  out += layer_rules("add rule " + t + " " + layer_chain(index, 0) + " ", index, 0, policy);
  out += layer_rules("add rule " + t + " " + layer_chain(index, 1) + " ", index, 1, limit.value_or(events::NetworkPolicy{}));
  out += "add rule " + t + " " + s + " ip saddr != " + ip::ipv4_text(plan.address(index)) + " drop\n";
  out += "add rule " + t + " " + s + " jump " + layer_chain(index, 0) + "\n";
  out += "add rule " + t + " " + s + " jump " + layer_chain(index, 1) + "\n";
  out += "add rule " + t + " " + s + " accept\n";
  out += "add element " + t + " sandboxes { \"" + plan.veth(index) + "\" : jump " + s + " }\n";
  const auto gated = "sni_veths { \"" + plan.veth(index) + "\" }\n";
  out += "add element " + t + " " + gated;  // so that the delete below finds it
  if (!names_domains(policy) && !(limit && names_domains(*limit))) out += "delete element " + t + " " + gated;
  return out;
}

std::string remove_sandbox(const Plan& plan, int index) {
  const auto t = "inet " + plan.table();
  const auto s = name(index);
  std::string out = "delete element " + t + " sandboxes { \"" + plan.veth(index) + "\" }\n";
  out += "add element " + t + " sni_veths { \"" + plan.veth(index) + "\" }\n";
  out += "delete element " + t + " sni_veths { \"" + plan.veth(index) + "\" }\n";
  out += "flush chain " + t + " " + s + "\n";
  for (int layer = 0; layer < 2; ++layer) out += "flush chain " + t + " " + layer_chain(index, layer) + "\n";
  out += "delete chain " + t + " " + s + "\n";
  for (int layer = 0; layer < 2; ++layer) {
    out += "delete chain " + t + " " + layer_chain(index, layer) + "\n";
    for (bool denied : {false, true}) out += "delete set " + t + " " + learnt(index, layer, denied) + "\n";
  }
  return out;
}

std::string learn(const Plan& plan, int index, int layer, bool denied, const std::vector<std::uint32_t>& addresses,
                  std::uint32_t ttl) {
  if (addresses.empty()) return {};
  const auto set = "inet " + plan.table() + " " + learnt(index, layer, denied);
  std::string list;
  std::string timed;
  for (const auto a : addresses) {
    list += (list.empty() ? "" : ", ") + ip::ipv4_text(a);
    timed += (timed.empty() ? "" : ", ") + ip::ipv4_text(a) + " timeout " + std::to_string(ttl) + "s";
  }
  // add (so that the delete finds it), delete, add again: one transaction, a fresh timeout.
  return "add element " + set + " { " + list + " }\ndelete element " + set + " { " + list + " }\nadd element " + set +
         " { " + timed + " }\n";
}

}  // namespace runner::net
