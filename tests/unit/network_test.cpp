// Sandbox egress, the pure parts: the policy's checks and verdicts (events/network_policy.hpp),
// the API's reading of it (network_request.hpp), the decider's event, the nft text the runner
// applies (net_rules.hpp) and the resolver's DNS messages (net_dns.hpp).
#include "command_service/http/network_request.hpp"
#include "events/deciders/organization.hpp"
#include "events/deciders/sandbox.hpp"
#include "runner/net_dns.hpp"
#include "runner/net_rules.hpp"
#include "runner/net_sni.hpp"

#include <catch2/catch.hpp>

using namespace events;
namespace ip = events::network;

namespace {

std::string message_of(const Result<std::vector<std::string>>& r) { return r ? std::string() : r.error().message; }

// A DNS query for `name` (type A, id 0x1234, recursion desired), written out by hand.
std::string query(const std::string& name) {
  std::string q("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto dot = name.find('.', start);
    const auto label = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    q.push_back(static_cast<char>(label.size()));
    q += label;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  q.push_back('\0');
  q += std::string("\x00\x01\x00\x01", 4);
  return q;
}

// A TLS 1.2 ClientHello naming `name` (SNI), in one record.
std::string client_hello(const std::string& name) {
  auto u16 = [](std::size_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 255)}; };
  std::string sni = u16(name.size() + 3) + std::string(1, '\0') + u16(name.size()) + name;
  std::string extensions = u16(0) + u16(sni.size()) + sni;
  extensions = u16(0x000b) + u16(2) + std::string("\x01\x00", 2) + extensions;  // ec_point_formats first
  std::string body = std::string("\x03\x03", 2) + std::string(32, 'r') + std::string(1, '\0') + u16(2) +
                     std::string("\x13\x01", 2) + std::string("\x01\x00", 2) + u16(extensions.size()) + extensions;
  std::string handshake = std::string(1, '\x01') + std::string(1, '\0') + u16(body.size()) + body;
  return std::string("\x16\x03\x01", 3) + u16(handshake.size()) + handshake;
}

}  // namespace

TEST_CASE("network: the SNI of a ClientHello") {
  using runner::net::read_sni;
  using S = runner::net::Sni::Status;
  const auto hello = client_hello("Allowed.Test");
  const auto read = read_sni(hello);
  CHECK(read.status == S::name);
  CHECK(read.name == "allowed.test");
  CHECK(read_sni(hello.substr(0, 3)).status == S::more);
  CHECK(read_sni(hello.substr(0, hello.size() - 1)).status == S::more);  // the record is not complete
  CHECK(read_sni("GET / HTTP/1.1\r\n\r\n").status == S::none);
  auto broken = hello;
  broken[6] = '\x7f';  // the handshake claims more than the record holds
  CHECK(read_sni(broken).status == S::none);
  for (std::size_t cut = 5; cut < hello.size(); cut += 7) {  // short records never read past their end
    auto shorter = hello.substr(0, cut);
    shorter[3] = static_cast<char>((cut - 5) >> 8);
    shorter[4] = static_cast<char>((cut - 5) & 255);
    CHECK(read_sni(shorter).status != S::more);
  }
}

TEST_CASE("network: allow lists take IPv4 CIDRs only and name the bad entry") {
  CHECK(ip::allow_list("networkAllowList", ip::split_list(" 10.0.0.0/8, 192.168.1.7/32 ,")).value() ==
        std::vector<std::string>{"10.0.0.0/8", "192.168.1.7/32"});
  CHECK(ip::allow_list("networkAllowList", {"192.168.1.9/24"}).value() == std::vector<std::string>{"192.168.1.0/24"});
  CHECK_THAT(message_of(ip::allow_list("networkAllowList", {"1.2.3.4"})), Catch::Contains("'1.2.3.4' has no prefix length"));
  CHECK_THAT(message_of(ip::allow_list("networkAllowList", {"example.com"})),
             Catch::Contains("'example.com' is not an IPv4 CIDR"));
  CHECK_THAT(message_of(ip::allow_list("networkAllowList", {"2001:db8::/32"})), Catch::Contains("'2001:db8::/32' is IPv6"));
  CHECK_THAT(message_of(ip::allow_list("networkAllowList", {"1.2.3.0/33"})), Catch::Contains("not 0 to 32"));
  CHECK_THAT(message_of(ip::allow_list("networkAllowList", {"01.2.3.0/24"})), Catch::Contains("'01.2.3.0/24'"));
  std::vector<std::string> eleven;
  for (int i = 0; i < 11; ++i) eleven.push_back("10.0." + std::to_string(i) + ".0/24");
  CHECK_THAT(message_of(ip::allow_list("networkAllowList", eleven)), Catch::Contains("at most 10"));
}

TEST_CASE("network: domain rules, wildcards and verdicts") {
  CHECK(ip::domain_allow_list("domainAllowList", {"Example.COM", "*.pypi.org"}).value() ==
        std::vector<std::string>{"example.com", "*.pypi.org"});
  CHECK_THAT(message_of(ip::domain_allow_list("domainAllowList", {"10.0.0.1"})), Catch::Contains("is an address"));
  CHECK_THAT(message_of(ip::domain_allow_list("domainAllowList", {"exa mple.com"})), Catch::Contains("'exa mple.com'"));
  CHECK_THAT(message_of(ip::domain_allow_list("domainAllowList", {"*example.com"})), Catch::Contains("'*example.com'"));
  CHECK(ip::domain_matches("*.example.com", "a.example.com"));
  CHECK(ip::domain_matches("*.example.com", "a.b.example.com"));
  CHECK_FALSE(ip::domain_matches("*.example.com", "example.com"));
  CHECK_FALSE(ip::domain_matches("*.example.com", "badexample.com"));
  CHECK(ip::domain_matches("example.com", "example.com"));
  CHECK_FALSE(ip::domain_matches("example.com", "a.example.com"));
  CHECK(ip::normalize_name("WWW.Example.com.") == "www.example.com");
  CHECK(ip::normalize_name("a..b").empty());

  NetworkPolicy open;
  CHECK(ip::name_verdict(open, "anything.test") == ip::NameVerdict::open);
  NetworkPolicy domains{false, {}, {"allowed.test", "*.wild.test"}, {"deny.wild.test"}};
  CHECK(ip::name_verdict(domains, "allowed.test") == ip::NameVerdict::allowed);
  CHECK(ip::name_verdict(domains, "x.wild.test") == ip::NameVerdict::allowed);
  CHECK(ip::name_verdict(domains, "deny.wild.test") == ip::NameVerdict::refuse);
  CHECK(ip::name_verdict(domains, "other.test") == ip::NameVerdict::refuse);
  CHECK(ip::name_verdict(NetworkPolicy{true, {}, {}, {}}, "allowed.test") == ip::NameVerdict::refuse);
  NetworkPolicy cidrs{false, {"203.0.113.0/24"}, {}, {}};
  CHECK(ip::name_verdict(cidrs, "any.test") == ip::NameVerdict::open);  // the address decides
}

TEST_CASE("network: deny lists take CIDRs and names") {
  CHECK(ip::deny_list("networkDenyList", {"198.51.100.0/24", "Bad.Test"}).value() ==
        std::vector<std::string>{"198.51.100.0/24", "bad.test"});
  CHECK_THAT(message_of(ip::deny_list("networkDenyList", {"1.2.3.4"})), Catch::Contains("write it as 1.2.3.4/32"));
  CHECK_THAT(message_of(ip::deny_list("networkDenyList", {"fe80::1/64"})), Catch::Contains("IPv6"));
  NetworkPolicy p{false, {}, {}, {"198.51.100.0/24", "bad.test"}};
  CHECK(ip::deny_cidrs(p) == std::vector<std::string>{"198.51.100.0/24"});
  CHECK(ip::deny_names(p) == std::vector<std::string>{"bad.test"});
}

TEST_CASE("network: the API's fields, applied as Daytona does") {
  using command_service::apply;
  using command_service::parse_network_request;
  const NetworkPolicy listed{false, {"10.0.0.0/8"}, {"a.test"}, {"bad.test"}};
  auto blocked = parse_network_request(R"({"networkBlockAll": true})");
  REQUIRE(blocked.has_value());
  CHECK(apply(listed, *blocked) == NetworkPolicy{true, {}, {}, {}});  // block-all clears the lists
  auto reopened = parse_network_request(R"({"networkBlockAll": false})");
  CHECK(apply(NetworkPolicy{true, {}, {}, {}}, *reopened) == NetworkPolicy{});
  CHECK(apply(listed, *reopened) == NetworkPolicy{false, {}, {}, {"bad.test"}});  // allow lists cleared, deny kept
  auto reopened_listed = parse_network_request(R"({"networkBlockAll": false, "networkAllowList": "192.0.2.0/24"})");
  CHECK(apply(listed, *reopened_listed) == NetworkPolicy{false, {"192.0.2.0/24"}, {}, {"bad.test"}});
  auto domains = parse_network_request(R"({"domainAllowList": "b.test,*.c.test"})");
  REQUIRE(domains.has_value());
  CHECK(apply(listed, *domains) == NetworkPolicy{false, {"10.0.0.0/8"}, {"b.test", "*.c.test"}, {"bad.test"}});
  auto arrays = parse_network_request(R"({"networkAllowList": ["192.0.2.0/24"], "networkDenyList": []})");
  REQUIRE(arrays.has_value());
  CHECK(apply(listed, *arrays) == NetworkPolicy{false, {"192.0.2.0/24"}, {"a.test"}, {}});

  auto bad = parse_network_request(R"({"networkAllowList": "10.0.0.0/8,github.com"})");
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message, Catch::Contains("'github.com'"));
  CHECK_FALSE(parse_network_request(R"({"networkBlockAll": "yes"})").has_value());
  CHECK_FALSE(parse_network_request(R"({"networkAllowList": 5})").has_value());
  CHECK_FALSE(parse_network_request(R"({"outboundProxyUrl": "ftp://x"})").has_value());
  CHECK_FALSE(parse_network_request(R"({"outboundProxyUrl": "http://"})").has_value());
  CHECK(parse_network_request(R"({"outboundProxyUrl": "http://proxy.test:3128"})").value().outbound_proxy_url ==
        "http://proxy.test:3128");
}

TEST_CASE("network: a policy change is one event with the policy before and after") {
  sandbox::State st;
  st.exists = true;
  st.actual = SandboxState::started;
  st.desired = DesiredState::started;
  const NetworkPolicy wanted{false, {"203.0.113.0/24"}, {}, {}};
  auto changed = sandbox::decide(sandbox::SetNetwork{wanted, std::nullopt, std::nullopt, "user"}, st);
  REQUIRE(changed.has_value());
  REQUIRE(changed->size() == 1);
  const auto& e = std::get<SandboxNetworkChanged>(changed->front());
  CHECK(e.before == NetworkPolicy{});
  CHECK(e.after == wanted);
  const auto after = sandbox::evolve(st, e);
  CHECK(after.network == wanted);
  CHECK(sandbox::decide(sandbox::SetNetwork{wanted, std::nullopt, std::nullopt, "user"}, after).value().empty());
  auto invalid = sandbox::decide(sandbox::SetNetwork{NetworkPolicy{false, {"nope"}, {}, {}}, std::nullopt, std::nullopt, "user"}, st);
  REQUIRE_FALSE(invalid.has_value());
  CHECK(invalid.error().code == ErrorCode::invalid_argument);
  st.desired = DesiredState::destroyed;
  CHECK_FALSE(sandbox::decide(sandbox::SetNetwork{wanted, std::nullopt, std::nullopt, "user"}, st).has_value());

  organization::State org;
  org.exists = true;
  auto limit = organization::decide(organization::SetNetwork{std::nullopt, wanted}, org);
  REQUIRE(limit.has_value());
  CHECK(organization::evolve(org, limit->front()).network_limit == wanted);
  CHECK_FALSE(organization::decide(organization::SetNetwork{NetworkPolicy{false, {"x"}, {}, {}}, std::nullopt}, org).has_value());
}

TEST_CASE("network: the runner's nft text") {
  runner::net::Plan plan{"ab12", *ip::parse_cidr("10.99.0.0/16"), {"192.0.2.50/32"}};
  CHECK(plan.veth(26) == "sxab12x1a");
  CHECK(ip::ipv4_text(plan.gateway()) == "10.99.0.1");
  CHECK(ip::ipv4_text(plan.address(1)) == "10.99.0.2");
  const auto base = runner::net::base_table(plan, true);
  CHECK_THAT(base, Catch::StartsWith("delete table inet sbx_ab12\n"));
  CHECK_THAT(base, Catch::Contains("169.254.0.0/16") && Catch::Contains("10.99.0.0/16") && Catch::Contains("192.0.2.50/32"));
  CHECK_THAT(base, Catch::Contains("ip daddr 10.99.0.1 udp dport 53 accept"));
  CHECK_THAT(base, Catch::Contains("masquerade"));
  CHECK_THAT(base, Catch::Contains("tcp dport 443 fib daddr type != local dnat ip to 10.99.0.1:8443"));

  const auto blocked = runner::net::sandbox_rules(plan, 3, NetworkPolicy{true, {}, {}, {}}, std::nullopt);
  CHECK_THAT(blocked, Catch::Contains("add rule inet sbx_ab12 s3_l0 drop\n"));
  CHECK_THAT(blocked, Catch::Contains("add rule inet sbx_ab12 s3 ip saddr != 10.99.0.4 drop"));
  CHECK_THAT(blocked, Catch::Contains("sandboxes { \"sxab12x3\" : jump s3 }"));
  const auto listed = runner::net::sandbox_rules(plan, 3, NetworkPolicy{false, {"203.0.113.0/24"}, {"a.test"}, {"198.51.100.9/32"}},
                                                 NetworkPolicy{false, {}, {}, {"203.0.113.66/32"}});
  CHECK_THAT(listed, Catch::Contains("s3_l0 ip daddr { 198.51.100.9/32 } drop"));
  CHECK_THAT(listed, Catch::Contains("s3_l0 ip daddr { 203.0.113.0/24 } return"));
  CHECK_THAT(listed, Catch::Contains("s3_l0 ip daddr @s3_l0_allow return"));
  CHECK_THAT(listed, Catch::Contains("s3_l1 ip daddr { 203.0.113.66/32 } drop"));
  CHECK_THAT(runner::net::learn(plan, 3, 0, false, {0xcb00710a}, 30),
             Catch::Contains("add element inet sbx_ab12 s3_l0_allow { 203.0.113.10 timeout 30s }"));
  CHECK_THAT(runner::net::remove_sandbox(plan, 3), Catch::StartsWith("delete element inet sbx_ab12 sandboxes { \"sxab12x3\" }"));
}

TEST_CASE("network: the resolver's DNS messages") {
  const auto q = query("Allowed.Test");
  const auto read = runner::net::read_query(q);
  REQUIRE(read);
  CHECK(read->name == "allowed.test");
  CHECK(read->type == 1);
  const auto no = runner::net::refusal(q);
  REQUIRE(no.size() >= 12);
  CHECK(no.substr(0, 2) == "\x12\x34");
  CHECK((static_cast<unsigned char>(no[2]) & 0x80) != 0);  // a response
  CHECK((static_cast<unsigned char>(no[3]) & 0x0f) == 3);  // NXDOMAIN
  CHECK_FALSE(runner::net::read_query(no));                 // a response is not a query
  CHECK_FALSE(runner::net::read_query("garbage"));
  CHECK(runner::net::refusal("x").empty());

  // The query answered: two A records, TTLs 300 and 60.
  std::string answer = q;
  answer[2] = static_cast<char>(0x81);
  answer[3] = static_cast<char>(0x80);
  answer[7] = 2;  // ANCOUNT
  for (auto [ttl, last] : {std::pair{300, 10}, std::pair{60, 11}}) {
    answer += std::string("\xc0\x0c\x00\x01\x00\x01", 6);
    answer += std::string{'\0', '\0', static_cast<char>(ttl >> 8), static_cast<char>(ttl & 255)};
    answer += std::string("\x00\x04\xcb\x00\x71", 5);
    answer.push_back(static_cast<char>(last));
  }
  const auto got = runner::net::read_answer(answer);
  REQUIRE(got);
  CHECK(got->addresses == std::vector<std::uint32_t>{0xcb00710a, 0xcb00710b});
  CHECK(got->ttl == 60);
  CHECK_FALSE(runner::net::read_answer(q));
}
