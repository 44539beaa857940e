#include "edge/classify.hpp"

#include <cctype>
#include <vector>

namespace edge {

namespace {

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "/a/b/rest?x" split after `count` segments: the segments and the rest (starting with '/').
std::pair<std::vector<std::string_view>, std::string> split_path(std::string_view target, std::size_t count) {
  std::vector<std::string_view> parts;
  std::size_t at = 0;
  while (parts.size() < count && at < target.size() && target[at] == '/') {
    const auto end = target.find_first_of("/?", at + 1);
    parts.push_back(target.substr(at + 1, (end == std::string_view::npos ? target.size() : end) - at - 1));
    at = end == std::string_view::npos ? target.size() : end;
  }
  std::string rest(target.substr(at));
  if (rest.empty() || rest.front() == '?') rest.insert(0, "/");
  return {parts, rest};
}

}  // namespace

std::optional<unsigned short> port_of(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  return static_cast<unsigned short>(port);
}

std::string pair_value(std::string_view pairs, std::string_view name, char separator) {
  while (!pairs.empty()) {
    while (!pairs.empty() && pairs.front() == ' ') pairs.remove_prefix(1);
    const auto end = pairs.find(separator);
    const auto pair = pairs.substr(0, end);
    if (pair.substr(0, name.size()) == name && pair.size() > name.size() && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    if (end == std::string_view::npos) break;
    pairs.remove_prefix(end + 1);
  }
  return {};
}

std::string query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string() : pair_value(target.substr(q + 1), name, '&');
}

std::string preview_cookie_name(std::string_view sandbox, unsigned short port) {
  return "daytona-preview-" + std::string(sandbox) + "-" + std::to_string(port);
}

Target classify(std::string_view target, std::string_view host, std::string_view preview_domain,
                unsigned short daemon_port) {
  Target t;
  // Host form: {port}-{sandboxId}.<preview domain>[:port]
  if (const auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
  const std::string suffix = "." + std::string(preview_domain);
  if (host.size() > suffix.size() && lower(host.substr(host.size() - suffix.size())) == lower(suffix)) {
    const auto label = host.substr(0, host.size() - suffix.size());
    const auto dash = label.find('-');
    const auto port = dash == std::string_view::npos ? std::nullopt : port_of(label.substr(0, dash));
    if (port && is_uuid(label.substr(dash + 1))) {
      t.kind = Kind::preview;
      t.port = *port;
      t.sandbox = lower(label.substr(dash + 1));
      t.upstream_target = std::string(target);
      t.query_token = query_param(target, "DAYTONA_SANDBOX_AUTH_KEY");
    }
    return t;
  }
  auto [parts, rest] = split_path(target, 3);
  if (parts.size() >= 2 && parts[0] == "toolbox" && is_uuid(parts[1])) {
    auto [two, after] = split_path(target, 2);
    t.kind = Kind::toolbox;
    t.sandbox = lower(parts[1]);
    t.port = daemon_port;
    // The deprecated form repeats "toolbox": /toolbox/{id}/toolbox/{path}.
    if (after.rfind("/toolbox/", 0) == 0) after.erase(0, 8);
    t.upstream_target = after;
  } else if (parts.size() == 3 && parts[0] == "preview" && is_uuid(parts[1]) && port_of(parts[2])) {
    t.kind = Kind::preview;
    t.sandbox = lower(parts[1]);
    t.port = *port_of(parts[2]);
    t.upstream_target = rest;
    t.query_token = query_param(target, "DAYTONA_SANDBOX_AUTH_KEY");
  } else if (target == "/health") {
    t.kind = Kind::health;
  }
  return t;
}

}  // namespace edge
