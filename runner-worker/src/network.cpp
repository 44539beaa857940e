#include "runner/network.hpp"

#include "runner/command.hpp"

#include <nftables/libnftables.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <fcntl.h>
#include <functional>
#include <sched.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace runner {

namespace ip = events::network;
namespace fs = std::filesystem;
using events::ErrorCode;
using events::make_error;

namespace {

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

std::string hex(std::uint32_t v, int digits) {
  char text[16];
  std::snprintf(text, sizeof text, "%0*x", digits, v);
  return text;
}

// Locally administered unicast MACs, one pair per sandbox: 02:… the host side, 06:… eth0 inside.
std::string mac(unsigned first, const std::string& tag, int index) {
  const auto t = static_cast<unsigned>(std::stoul(tag, nullptr, 16));
  char text[24];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", first, (t >> 8) & 255, t & 255,
                (static_cast<unsigned>(index) >> 16) & 255, (static_cast<unsigned>(index) >> 8) & 255,
                static_cast<unsigned>(index) & 255);
  return text;
}

bool link_exists(const std::string& name) {
  std::error_code ec;
  return fs::exists("/sys/class/net/" + name, ec);
}

bool write_sysctl(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

// The interface of the default route in the main table (/proc/net/route: destination 00000000).
std::string default_route_device() {
  std::ifstream in("/proc/net/route");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string device, destination;
    fields >> device >> destination;
    if (destination == "00000000") return device;
  }
  return {};
}

std::string first_nameserver() {
  std::ifstream in("/etc/resolv.conf");
  for (std::string word; in >> word;) {
    if (word == "nameserver") {
      std::string address;
      in >> address;
      if (ip::parse_ipv4(address)) return address;
    }
  }
  return {};
}

// Runs a tool on a batch of lines written to `file` (`ip -batch`, `tc -batch`).
events::Result<void> batch(std::vector<std::string> argv, const std::string& file, const std::string& lines) {
  {
    std::ofstream out(file);
    out << lines;
    if (!out) return make_error(ErrorCode::unavailable, "cannot write " + file);
  }
  argv.push_back(file);
  auto ran = run_checked(argv);
  fs::remove(file);
  if (!ran) return ran.error();
  return {};
}

// Runs `work` on a thread of its own that has joined the network namespace of process `pid`
// (setns changes the calling thread only; the processes it starts are born in that namespace):
// no nsenter or shell to start.
std::thread in_namespace(int pid, events::Result<void>& result, std::function<events::Result<void>()> work) {
  return std::thread([pid, &result, work = std::move(work)] {
    const int fd = ::open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      if (fd >= 0) ::close(fd);
      result = make_error(ErrorCode::unavailable, "cannot enter the network namespace of PID " + std::to_string(pid));
      return;
    }
    ::close(fd);
    result = work();
  });
}

}  // namespace

events::Result<std::unique_ptr<Network>> Network::open(const NetSettings& settings) {
  std::unique_ptr<Network> n(new Network());
  n->settings_ = settings;
  if (settings.pool.empty()) return n;
  const auto pool = ip::parse_cidr(settings.pool);
  if (!pool || pool->prefix > 28 || pool->prefix < 8) {
    return make_error(ErrorCode::invalid_argument,
                      "RUNNER_NET_POOL must be an IPv4 CIDR from /8 to /28, e.g. 10.88.0.0/16, not '" + settings.pool + "'");
  }
  for (const auto& r : settings.refused) {
    if (!ip::parse_cidr(r)) return make_error(ErrorCode::invalid_argument, "RUNNER_NET_REFUSED: '" + r + "' is not an IPv4 CIDR");
  }
  if (!settings.gateway.empty() && !ip::parse_ipv4(settings.gateway)) {
    return make_error(ErrorCode::invalid_argument, "RUNNER_NET_GATEWAY must be an IPv4 address, not '" + settings.gateway + "'");
  }
  const auto h = fnv1a(pool->str());
  n->plan_ = net::Plan{hex(h & 0xffff, 4), *pool, settings.refused};
  n->route_table_ = 20000 + static_cast<int>(h % 10000);
  n->uplink_ = settings.uplink.empty() ? default_route_device() : settings.uplink;
  auto dns = settings.dns.empty() ? first_nameserver() : settings.dns;
  if (const auto colon = dns.find(':'); colon != std::string::npos) {
    try {
      n->upstream_port_ = static_cast<unsigned short>(std::stoi(dns.substr(colon + 1)));
    } catch (const std::exception&) {
      return make_error(ErrorCode::invalid_argument, "RUNNER_NET_DNS must be ip[:port], not '" + dns + "'");
    }
    dns = dns.substr(0, colon);
  }
  if (!ip::parse_ipv4(dns)) {
    return make_error(ErrorCode::invalid_argument, "no upstream resolver: set RUNNER_NET_DNS to ip[:port]");
  }
  n->upstream_ = dns;
  n->nft_ = nft_ctx_new(NFT_CTX_DEFAULT);
  if (n->nft_ == nullptr) return make_error(ErrorCode::unavailable, "libnftables: cannot create a context");
  nft_ctx_buffer_output(n->nft_);
  nft_ctx_buffer_error(n->nft_);
  fs::create_directories(settings.state_dir);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(settings.state_dir, ec)) {
    if (!e.is_regular_file() || e.path().filename().string().size() != 36) continue;  // sandbox ids only
    std::ifstream in(e.path());
    int index = 0;
    if (in >> index && index > 0) n->indices_[e.path().filename().string()] = index;
  }
  if (auto up = n->set_up_host(); !up) return up.error();
  n->enabled_ = true;
  spdlog::info("network: pool {}, resolver {} (upstream {}:{}), uplink {}{}, table inet {}", pool->str(),
               ip::ipv4_text(n->plan_.gateway()), n->upstream_, n->upstream_port_, n->uplink_,
               settings.gateway.empty() ? "" : " via " + settings.gateway, n->plan_.table());
  return n;
}

Network::~Network() {
  if (nft_ != nullptr) nft_ctx_free(nft_);
}

events::Result<void> Network::nft(const std::string& commands) {
  std::lock_guard lock(mutex_);
  if (nft_run_cmd_from_buffer(nft_, commands.c_str()) != 0) {
    std::string error = nft_ctx_get_error_buffer(nft_);
    while (!error.empty() && error.back() == '\n') error.pop_back();
    return make_error(ErrorCode::unavailable, "nftables: " + error);
  }
  return {};
}

events::Result<void> Network::set_up_host() {
  const bool exists = nft("list table inet " + plan_.table()).has_value();
  if (auto base = nft(net::base_table(plan_, exists)); !base) return base;
  // The resolver's address is the host's own, on lo (this kernel has no dummy devices).
  const auto gw = ip::ipv4_text(plan_.gateway());
  std::string lines = "addr replace " + gw + "/32 dev lo\n";
  if (!settings_.gateway.empty()) {
    const auto table = std::to_string(route_table_);
    run_command({"ip", "rule", "del", "from", plan_.pool.str(), "lookup", table});
    lines += "rule add from " + plan_.pool.str() + " lookup " + table + "\n";
    lines += "route replace default via " + settings_.gateway + (uplink_.empty() ? "" : " dev " + uplink_) +
             " table " + table + "\n";
    lines += "route replace throw " + plan_.pool.str() + " table " + table + "\n";
    // The SNI gate's connections on behalf of sandboxes leave the same way.
    const auto mark = std::to_string(kUpstreamMark);
    run_command({"ip", "rule", "del", "fwmark", mark, "lookup", table});
    lines += "rule add fwmark " + mark + " lookup " + table + "\n";
  }
  if (auto done = batch({"ip", "-batch"}, settings_.state_dir + "/.host.ip", lines); !done) return done;
  // What infra/down removes with the sandboxes (a runner that is gone cannot).
  std::ofstream(settings_.state_dir + "/host")
      << "table inet " << plan_.table() << "\naddress " << gw << "/32\n"
      << (settings_.gateway.empty() ? std::string()
                                    : "rule " + plan_.pool.str() + " " + std::to_string(route_table_) + "\nmark " +
                                          std::to_string(kUpstreamMark) + " " + std::to_string(route_table_) + "\n")
      << "veths " << plan_.veth_prefix() << "x\n";
  if (!uplink_.empty() && !write_sysctl("/proc/sys/net/ipv4/conf/" + uplink_ + "/forwarding", "1")) {
    return make_error(ErrorCode::unavailable, "cannot enable forwarding on " + uplink_);
  }
  // What an earlier runner left: veths of sandboxes that are gone, indices of sandboxes whose
  // veth is gone (their network namespace died with them).
  std::error_code ec;
  std::set<std::string> live;
  for (const auto& e : fs::directory_iterator("/sys/class/net", ec)) {
    const auto name = e.path().filename().string();
    if (name.starts_with(plan_.veth_prefix() + "x")) live.insert(name);
  }
  std::set<std::string> kept;
  for (auto it = indices_.begin(); it != indices_.end();) {
    if (live.contains(plan_.veth(it->second))) {
      kept.insert(plan_.veth(it->second));
      ++it;
    } else {
      fs::remove(settings_.state_dir + "/" + it->first, ec);
      it = indices_.erase(it);
    }
  }
  for (const auto& name : live) {
    if (kept.contains(name)) continue;
    spdlog::info("network: removing {}, left by an earlier runner", name);
    run_command({"ip", "link", "del", name});
  }
  return {};
}

void Network::close_if_unused() {
  if (!enabled_) return;
  {
    std::lock_guard lock(mutex_);
    if (!indices_.empty()) return;
  }
  nft("delete table inet " + plan_.table());
  run_command({"ip", "addr", "del", ip::ipv4_text(plan_.gateway()) + "/32", "dev", "lo"});
  if (!settings_.gateway.empty()) {
    run_command({"ip", "rule", "del", "from", plan_.pool.str(), "lookup", std::to_string(route_table_)});
    run_command({"ip", "rule", "del", "fwmark", std::to_string(kUpstreamMark), "lookup", std::to_string(route_table_)});
    run_command({"ip", "route", "flush", "table", std::to_string(route_table_)});
  }
  spdlog::info("network: host set-up removed (no sandbox uses it)");
}

std::string Network::resolver_address() const { return ip::ipv4_text(plan_.gateway()); }

std::string Network::resolv_conf() const { return "nameserver " + resolver_address() + "\noptions timeout:2 attempts:2\n"; }

events::Result<int> Network::index_of(const std::string& sandbox) {
  std::lock_guard lock(mutex_);
  if (auto it = indices_.find(sandbox); it != indices_.end()) return it->second;
  std::set<int> used;
  for (const auto& [_, i] : indices_) used.insert(i);
  int index = 1;
  while (used.contains(index)) ++index;
  if (index > plan_.capacity()) return make_error(ErrorCode::unavailable, "the sandbox address pool " + plan_.pool.str() + " is full");
  std::ofstream(settings_.state_dir + "/" + sandbox) << index;
  indices_[sandbox] = index;
  return index;
}

events::Result<void> Network::attach(const std::string& sandbox, int pid, const Egress& egress, int cpu) {
  if (!enabled_) return {};
  auto index = index_of(sandbox);
  if (!index) return index.error();
  const int i = *index;
  const auto veth = plan_.veth(i);
  const auto address = ip::ipv4_text(plan_.address(i));
  const auto gw = ip::ipv4_text(plan_.gateway());
  const bool fresh = !link_exists(veth);
  const auto t0 = std::chrono::steady_clock::now();
  const auto ms = [](auto from, auto to) { return std::chrono::duration<double, std::milli>(to - from).count(); };
  auto t1 = t0;
  // Bandwidth: a token bucket on each end's egress (this kernel has no tc classifiers to police
  // ingress with): the host side shapes what reaches the sandbox, eth0 what it sends. The
  // sandbox has no CAP_NET_ADMIN to lift its own.
  const auto tbf = [&](const std::string& dev) {
    return "qdisc replace dev " + dev + " root tbf rate " + std::to_string(std::max(1, cpu) * settings_.mbit_per_cpu) +
           "mbit burst 256kb latency 50ms";
  };
  const auto base = settings_.state_dir + "/." + sandbox;
  if (fresh) {
    if (pid <= 0) return make_error(ErrorCode::unavailable, "the sandbox has no PID 1 to give a network to");
    const auto host_mac = mac(0x02, plan_.tag, i);
    auto host = batch({"ip", "-batch"}, base + ".host",
                      "link add " + veth + " address " + host_mac + " type veth peer name eth0 address " +
                          mac(0x06, plan_.tag, i) + " netns " + std::to_string(pid) + "\nlink set " + veth +
                          " up\nroute replace " + address + "/32 dev " + veth + " scope link\n");
    if (!host) return host;
    const auto conf = "/proc/sys/net/ipv4/conf/" + veth + "/";
    write_sysctl(conf + "rp_filter", "1");  // a sandbox cannot send as another address
    write_sysctl(conf + "forwarding", "1");
    write_sysctl("/proc/sys/net/ipv6/conf/" + veth + "/disable_ipv6", "1");
    t1 = std::chrono::steady_clock::now();
    // Inside (address and route; its bandwidth) and the host side's bandwidth at once: three
    // processes, no order between them.
    events::Result<void> shaped;
    events::Result<void> inside;
    events::Result<void> inside_shaped;
    std::thread tc([&] { shaped = batch({"tc", "-batch"}, base + ".tc", tbf(veth) + "\n"); });
    auto addressed = in_namespace(pid, inside, [&] {
      return batch({"ip", "-batch"}, base + ".inside",
                   "addr add " + address + "/32 dev eth0\nlink set eth0 up\nneigh replace " + gw + " lladdr " + host_mac +
                       " dev eth0 nud permanent\nroute add default via " + gw + " dev eth0 onlink\n");
    });
    auto limited = in_namespace(pid, inside_shaped, [&] { return batch({"tc", "-batch"}, base + ".inside.tc", tbf("eth0") + "\n"); });
    tc.join();
    addressed.join();
    limited.join();
    if (!inside) return inside;
    if (!inside_shaped) return inside_shaped;
    if (!shaped) return shaped;
  } else if (pid > 0 && shaped_cpu(sandbox) != cpu) {  // resized: the new bandwidth, both ends
    if (auto host = batch({"tc", "-batch"}, base + ".tc", tbf(veth) + "\n"); !host) return host;
    events::Result<void> inside;
    in_namespace(pid, inside, [&] { return batch({"tc", "-batch"}, base + ".inside.tc", tbf("eth0") + "\n"); }).join();
    if (!inside) return inside;
  }
  const auto t2 = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    cpus_[sandbox] = cpu;
    if (!fresh) {
      if (auto it = applied_.find(sandbox); it != applied_.end() && it->second == egress) return {};
    }
  }
  if (auto rules = nft(net::sandbox_rules(plan_, i, egress.policy, egress.limit)); !rules) {
    // Fail closed: a policy that could not be applied must not leave a wider one in place.
    if (auto closed = nft(net::sandbox_rules(plan_, i, events::NetworkPolicy{true, {}, {}, {}}, std::nullopt)); closed) {
      std::lock_guard lock(mutex_);
      applied_[sandbox] = Egress{events::NetworkPolicy{true, {}, {}, {}}, std::nullopt};
    }
    return rules;
  }
  if (fresh) {
    // bench/network reads this line.
    spdlog::info("sandbox {}: network set up in {:.2f} ms (veth {:.2f} ms, address and bandwidth {:.2f} ms, rules {:.2f} ms)",
                 sandbox, ms(t0, std::chrono::steady_clock::now()), ms(t0, t1), ms(t1, t2),
                 ms(t2, std::chrono::steady_clock::now()));
  }
  std::lock_guard lock(mutex_);
  applied_[sandbox] = egress;
  learnt_.erase(i);  // the sets were flushed with the chains
  Client c{i, {egress.policy}};
  if (egress.limit) c.layers.push_back(*egress.limit);
  clients_[plan_.address(i)] = std::move(c);
  return {};
}

void Network::detach(const std::string& sandbox) {
  if (!enabled_) return;
  int index = 0;
  bool had_rules = false;
  {
    std::lock_guard lock(mutex_);
    auto it = indices_.find(sandbox);
    if (it == indices_.end()) return;
    index = it->second;
    had_rules = applied_.erase(sandbox) > 0;
    cpus_.erase(sandbox);
    learnt_.erase(index);
    clients_.erase(plan_.address(index));
  }
  if (had_rules) {
    if (auto removed = nft(net::remove_sandbox(plan_, index)); !removed) {
      spdlog::warn("sandbox {}: removing its network rules: {}", sandbox, removed.error().message);
    }
  }
  if (link_exists(plan_.veth(index))) run_command({"ip", "link", "del", plan_.veth(index)});
  std::lock_guard lock(mutex_);
  std::error_code ec;
  fs::remove(settings_.state_dir + "/" + sandbox, ec);
  indices_.erase(sandbox);
}

int Network::shaped_cpu(const std::string& sandbox) const {
  std::lock_guard lock(mutex_);
  auto it = cpus_.find(sandbox);
  return it == cpus_.end() ? -1 : it->second;
}

std::optional<Network::Client> Network::client(std::uint32_t address) const {
  std::lock_guard lock(mutex_);
  auto it = clients_.find(address);
  if (it == clients_.end()) return std::nullopt;
  return it->second;
}

events::Result<void> Network::learn(int index, int layer, bool denied, const std::vector<std::uint32_t>& addresses,
                                    std::uint32_t ttl) {
  const auto commands = net::learn(plan_, index, layer, denied, addresses, ttl);
  if (commands.empty()) return {};
  if (auto done = nft(commands); !done) return done;
  std::lock_guard lock(mutex_);
  auto& learnt = learnt_[index][static_cast<std::size_t>(layer * 2 + (denied ? 1 : 0))];
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(ttl);
  for (const auto a : addresses) learnt[a] = until;
  return {};
}

bool Network::allows_tls(int index, std::uint32_t address, const std::string& name) const {
  const auto in = [address](const std::vector<std::string>& cidrs) {
    return std::any_of(cidrs.begin(), cidrs.end(), [&](const std::string& c) {
      const auto cidr = ip::parse_cidr(c);
      return cidr && cidr->contains(address);
    });
  };
  if (in(net::refused(plan_))) return false;
  std::lock_guard lock(mutex_);
  const auto client = std::find_if(clients_.begin(), clients_.end(), [&](const auto& c) { return c.second.index == index; });
  if (client == clients_.end()) return false;
  const auto now = std::chrono::steady_clock::now();
  const auto learnt = [&](std::size_t layer, bool denied) {
    const auto it = learnt_.find(index);
    if (it == learnt_.end()) return false;
    const auto& set = it->second[layer * 2 + (denied ? 1 : 0)];
    const auto entry = set.find(address);
    return entry != set.end() && entry->second > now;
  };
  const auto& layers = client->second.layers;
  for (std::size_t k = 0; k < layers.size(); ++k) {
    const auto& layer = layers[k];
    if (layer.block_all || in(ip::deny_cidrs(layer)) || learnt(k, true)) return false;
    if (!name.empty() && ip::name_denied(layer, name)) return false;
    if (!layer.allow_only() || in(layer.allow_list)) continue;
    if (!learnt(k, false) || name.empty() || ip::name_verdict(layer, name) != ip::NameVerdict::allowed) return false;
  }
  return true;
}

std::vector<std::string> Network::veths() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [_, i] : indices_) out.push_back(plan_.veth(i));
  return out;
}

}  // namespace runner
