#include "events/network_policy.hpp"

#include <algorithm>
#include <cctype>

namespace events::network {

namespace {

Error bad(std::string message) { return make_error(ErrorCode::invalid_argument, std::move(message)); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

bool looks_ipv6(std::string_view s) { return s.find(':') != std::string_view::npos; }

// Why an entry is not an IPv4 CIDR, as the user should read it.
std::string not_a_cidr(std::string_view field, std::string_view entry) {
  const std::string quoted = "'" + std::string(entry) + "'";
  if (looks_ipv6(entry)) return std::string(field) + ": " + quoted + " is IPv6; only IPv4 CIDRs are supported";
  if (parse_ipv4(entry)) {
    return std::string(field) + ": " + quoted + " has no prefix length; write it as " + std::string(entry) + "/32";
  }
  const auto slash = entry.find('/');
  if (slash != std::string_view::npos && parse_ipv4(entry.substr(0, slash))) {
    return std::string(field) + ": " + quoted + " has a prefix length that is not 0 to 32";
  }
  return std::string(field) + ": " + quoted + " is not an IPv4 CIDR (a.b.c.d/n); put host names in domainAllowList";
}

}  // namespace

bool Cidr::contains(std::uint32_t a) const {
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (a & mask) == address;
}

std::string Cidr::str() const { return ipv4_text(address) + "/" + std::to_string(prefix); }

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t out = 0;
  int parts = 0;
  while (parts < 4) {
    std::size_t n = 0;
    unsigned value = 0;
    while (n < text.size() && n < 4 && std::isdigit(static_cast<unsigned char>(text[n])) != 0) {
      value = value * 10 + static_cast<unsigned>(text[n] - '0');
      ++n;
    }
    if (n == 0 || n > 3 || value > 255 || (n > 1 && text[0] == '0')) return std::nullopt;
    out = (out << 8) | value;
    text.remove_prefix(n);
    ++parts;
    if (parts < 4) {
      if (text.empty() || text.front() != '.') return std::nullopt;
      text.remove_prefix(1);
    }
  }
  if (!text.empty()) return std::nullopt;
  return out;
}

std::string ipv4_text(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) + "." +
         std::to_string(a & 255);
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto address = parse_ipv4(text.substr(0, slash));
  const auto digits = text.substr(slash + 1);
  if (!address || digits.empty() || digits.size() > 2) return std::nullopt;
  int prefix = 0;
  for (char c : digits) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > 32) return std::nullopt;
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return Cidr{*address & mask, prefix};
}

std::string normalize_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (!out.empty() && out.back() == '.') out.pop_back();
  if (out.empty() || out.size() > 253) return {};
  std::size_t label = 0;
  for (char c : out) {
    if (c == '.') {
      if (label == 0) return {};
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return {};
  }
  if (label == 0) return {};
  return out;
}

bool valid_domain_rule(std::string_view rule) {
  if (rule.starts_with("*.")) rule.remove_prefix(2);
  if (rule.empty() || rule.back() == '.' || parse_ipv4(rule)) return false;
  const auto n = normalize_name(rule);
  return !n.empty() && n == rule && n.find('_') == std::string::npos && n.front() != '-';
}

bool domain_matches(std::string_view rule, std::string_view name) {
  if (rule.starts_with("*.")) {
    const auto base = rule.substr(2);
    return name.size() > base.size() + 1 && name.ends_with(base) && name[name.size() - base.size() - 1] == '.';
  }
  return rule == name;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto entry = trim(text.substr(0, comma));
    if (!entry.empty()) out.emplace_back(entry);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

namespace {

std::vector<std::string> cleaned(const std::vector<std::string>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    const auto t = trim(e);
    if (!t.empty() && std::find(out.begin(), out.end(), t) == out.end()) out.emplace_back(t);
  }
  return out;
}

Result<std::vector<std::string>> too_many(std::string_view field, std::size_t n, std::size_t max) {
  return bad(std::string(field) + " has " + std::to_string(n) + " entries; at most " + std::to_string(max) +
             " are allowed");
}

}  // namespace

Result<std::vector<std::string>> allow_list(std::string_view field, const std::vector<std::string>& entries) {
  auto list = cleaned(entries);
  if (list.size() > kMaxAllowEntries) return too_many(field, list.size(), kMaxAllowEntries);
  for (auto& e : list) {
    const auto cidr = parse_cidr(e);
    if (!cidr) return bad(not_a_cidr(field, e));
    e = cidr->str();
  }
  return list;
}

Result<std::vector<std::string>> domain_allow_list(std::string_view field, const std::vector<std::string>& entries) {
  auto list = cleaned(entries);
  if (list.size() > kMaxAllowEntries) return too_many(field, list.size(), kMaxAllowEntries);
  for (auto& e : list) {
    std::string lower;
    for (char c : e) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (parse_ipv4(lower) || parse_cidr(lower) || looks_ipv6(lower)) {
      return bad(std::string(field) + ": '" + e + "' is an address; put addresses in networkAllowList as CIDRs");
    }
    if (!valid_domain_rule(lower)) {
      return bad(std::string(field) + ": '" + e +
                 "' is not a domain name or a '*.' wildcard (letters, digits and '-', e.g. example.com or *.example.com)");
    }
    e = lower;
  }
  return list;
}

Result<std::vector<std::string>> deny_list(std::string_view field, const std::vector<std::string>& entries) {
  auto list = cleaned(entries);
  if (list.size() > kMaxDenyEntries) return too_many(field, list.size(), kMaxDenyEntries);
  for (auto& e : list) {
    if (const auto cidr = parse_cidr(e)) {
      e = cidr->str();
      continue;
    }
    std::string lower;
    for (char c : e) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (valid_domain_rule(lower)) {
      e = lower;
      continue;
    }
    if (looks_ipv6(e)) return bad(std::string(field) + ": '" + e + "' is IPv6; only IPv4 CIDRs and domain names are supported");
    if (parse_ipv4(e)) {
      std::string message(field);
      message += ": '" + e + "' has no prefix length; write it as ";
      message += e + "/32";
      return bad(std::move(message));
    }
    return bad(std::string(field) + ": '" + e + "' is neither an IPv4 CIDR (a.b.c.d/n) nor a domain name");
  }
  return list;
}

std::optional<Error> validate(const NetworkPolicy& p) {
  if (auto a = allow_list("networkAllowList", p.allow_list); !a) return a.error();
  if (auto d = domain_allow_list("domainAllowList", p.domain_allow_list); !d) return d.error();
  if (auto d = deny_list("networkDenyList", p.deny_list); !d) return d.error();
  if (p.block_all && (p.allow_only() || !p.deny_list.empty())) {
    return bad("networkBlockAll: a policy that blocks everything has no lists");
  }
  return std::nullopt;
}

std::string joined(const std::vector<std::string>& entries) {
  std::string out;
  for (const auto& e : entries) {
    if (!out.empty()) out += ',';
    out += e;
  }
  return out;
}

bool name_denied(const NetworkPolicy& layer, std::string_view name) {
  return std::any_of(layer.deny_list.begin(), layer.deny_list.end(),
                     [&](const std::string& rule) { return !parse_cidr(rule) && domain_matches(rule, name); });
}

NameVerdict name_verdict(const NetworkPolicy& layer, std::string_view name) {
  if (layer.block_all || name_denied(layer, name)) return NameVerdict::refuse;
  if (layer.domain_allow_list.empty()) return NameVerdict::open;
  const bool listed = std::any_of(layer.domain_allow_list.begin(), layer.domain_allow_list.end(),
                                  [&](const std::string& rule) { return domain_matches(rule, name); });
  return listed ? NameVerdict::allowed : NameVerdict::refuse;
}

std::vector<std::string> deny_cidrs(const NetworkPolicy& p) {
  std::vector<std::string> out;
  for (const auto& e : p.deny_list) {
    if (parse_cidr(e)) out.push_back(e);
  }
  return out;
}

std::vector<std::string> deny_names(const NetworkPolicy& p) {
  std::vector<std::string> out;
  for (const auto& e : p.deny_list) {
    if (!parse_cidr(e)) out.push_back(e);
  }
  return out;
}

}  // namespace events::network
