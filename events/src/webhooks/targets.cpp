#include "events/webhooks/targets.hpp"

#include <boost/url/parse.hpp>

#include <array>

namespace events::webhooks {

namespace {

using boost::asio::ip::address;
using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

// Within `bits` leading bits of `net`.
bool in(const address_v4& a, std::uint32_t net, int bits) {
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a.to_uint() & mask) == (net & mask);
}

constexpr std::uint32_t ip(int a, int b, int c, int d) {
  return static_cast<std::uint32_t>(a) << 24 | static_cast<std::uint32_t>(b) << 16 | static_cast<std::uint32_t>(c) << 8 |
         static_cast<std::uint32_t>(d);
}

AddressKind classify_v4(const address_v4& a) {
  // The cloud metadata services: AWS/GCP/Azure/OpenStack, AWS ECS, Alibaba, Oracle.
  for (auto m : {ip(169, 254, 169, 254), ip(169, 254, 170, 2), ip(100, 100, 100, 200), ip(192, 0, 0, 192)}) {
    if (a.to_uint() == m) return AddressKind::metadata;
  }
  if (in(a, ip(0, 0, 0, 0), 8)) return AddressKind::unspecified;
  if (in(a, ip(127, 0, 0, 0), 8)) return AddressKind::loopback;
  if (in(a, ip(169, 254, 0, 0), 16)) return AddressKind::link_local;
  if (in(a, ip(10, 0, 0, 0), 8) || in(a, ip(172, 16, 0, 0), 12) || in(a, ip(192, 168, 0, 0), 16) ||
      in(a, ip(100, 64, 0, 0), 10)) {
    return AddressKind::private_;
  }
  if (in(a, ip(224, 0, 0, 0), 4)) return AddressKind::multicast;
  // 192.0.0/24 protocol assignments, TEST-NETs, benchmarking, 240/4 and broadcast.
  if (in(a, ip(192, 0, 0, 0), 24) || in(a, ip(192, 0, 2, 0), 24) || in(a, ip(198, 51, 100, 0), 24) ||
      in(a, ip(203, 0, 113, 0), 24) || in(a, ip(198, 18, 0, 0), 15) || in(a, ip(240, 0, 0, 0), 4)) {
    return AddressKind::reserved;
  }
  return AddressKind::public_;
}

AddressKind classify_v6(const address_v6& a) {
  if (a.is_v4_mapped()) return classify_v4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a));
  const auto b = a.to_bytes();
  if (a.is_unspecified()) return AddressKind::unspecified;
  if (a.is_loopback()) return AddressKind::loopback;
  // fd00:ec2::254, AWS's metadata service over IPv6.
  static constexpr std::array<unsigned char, 16> kAwsMetadata{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0,
                                                              0,    0,    0,    0,    0, 0, 0x02, 0x54};
  if (std::equal(b.begin(), b.end(), kAwsMetadata.begin())) return AddressKind::metadata;
  if (a.is_link_local()) return AddressKind::link_local;
  if ((b[0] & 0xfe) == 0xfc) return AddressKind::private_;  // fc00::/7, unique local
  if (a.is_multicast()) return AddressKind::multicast;
  if (a.is_site_local() || a.is_v4_compatible()) return AddressKind::reserved;
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return AddressKind::reserved;  // documentation
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return AddressKind::reserved;  // NAT64: a v4 inside
  return AddressKind::public_;
}

}  // namespace

std::string_view to_string(AddressKind kind) {
  switch (kind) {
    case AddressKind::public_: return "public";
    case AddressKind::loopback: return "loopback";
    case AddressKind::private_: return "private";
    case AddressKind::link_local: return "link-local";
    case AddressKind::metadata: return "a cloud metadata service";
    case AddressKind::unspecified: return "unspecified";
    case AddressKind::multicast: return "multicast";
    case AddressKind::reserved: return "reserved";
  }
  return "unknown";
}

AddressKind classify(const address& a) { return a.is_v4() ? classify_v4(a.to_v4()) : classify_v6(a.to_v6()); }

Result<TargetPolicy> TargetPolicy::parse(std::string_view ranges) {
  TargetPolicy p;
  std::size_t start = 0;
  while (start < ranges.size()) {
    const auto comma = std::min(ranges.find(',', start), ranges.size());
    const auto name = ranges.substr(start, comma - start);
    if (name == "loopback") {
      p.allow_loopback = true;
    } else if (name == "private") {
      p.allow_private = true;
    } else {
      return make_error(ErrorCode::invalid_argument,
                        "webhook ranges: '" + std::string(name) +
                            "' is not one that may be allowed (loopback, private; link-local and metadata never)");
    }
    start = comma + 1;
  }
  return p;
}

Result<void> check_address(const address& a, const TargetPolicy& policy) {
  const auto kind = classify(a);
  if (kind == AddressKind::public_ || (kind == AddressKind::loopback && policy.allow_loopback) ||
      (kind == AddressKind::private_ && policy.allow_private)) {
    return {};
  }
  return make_error(ErrorCode::invalid_argument, "webhook target " + a.to_string() + " is " +
                                                     std::string(to_string(kind)) +
                                                     " and webhooks may not be sent there");
}

Result<Target> parse_target(std::string_view text, const TargetPolicy& policy) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return make_error(ErrorCode::invalid_argument, "url: not an absolute URL");
  const auto& u = *parsed;
  Target t;
  t.scheme = std::string(u.scheme());
  if (t.scheme != "http" && t.scheme != "https") {
    return make_error(ErrorCode::invalid_argument, "url: the scheme must be http or https, not " + t.scheme);
  }
  if (u.has_userinfo()) return make_error(ErrorCode::invalid_argument, "url: user info (user:password@) is not allowed");
  if (u.has_fragment()) return make_error(ErrorCode::invalid_argument, "url: a fragment (#...) is not allowed");
  t.host = std::string(u.host_type() == boost::urls::host_type::ipv6 ? u.encoded_host_address() : u.host());
  if (t.host.empty()) return make_error(ErrorCode::invalid_argument, "url: no host");
  if (u.has_port()) {
    if (u.port_number() == 0) return make_error(ErrorCode::invalid_argument, "url: the port must be 1 to 65535");
    t.port = u.port_number();
  } else {
    t.port = t.scheme == "https" ? 443 : 80;
  }
  t.target = u.encoded_path().empty() ? std::string("/") : std::string(u.encoded_path());
  if (u.has_query()) t.target += "?" + std::string(u.encoded_query());
  boost::system::error_code ec;
  const auto literal = boost::asio::ip::make_address(t.host, ec);
  if (!ec) {
    if (auto ok = check_address(literal, policy); !ok) return ok.error();
  } else if (t.host == "localhost" || t.host.ends_with(".localhost")) {
    if (!policy.allow_loopback) {
      return make_error(ErrorCode::invalid_argument, "webhook target " + t.host + " is loopback and webhooks may not be sent there");
    }
  }
  return t;
}

}  // namespace events::webhooks
