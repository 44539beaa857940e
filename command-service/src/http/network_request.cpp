#include "command_service/http/network_request.hpp"

#include "command_service/http/dto.hpp"
#include "events/http/dto.hpp"

namespace command_service {

namespace json = boost::json;
using events::ErrorCode;
using events::make_error;
namespace network = events::network;

namespace {

events::Error bad(std::string message) { return make_error(ErrorCode::invalid_argument, std::move(message)); }

// A comma-separated string or an array of strings; absent or null: not given.
events::Result<std::optional<std::vector<std::string>>> entries(const json::object& o, const char* field) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::optional<std::vector<std::string>>{};
  if (v->is_string()) return std::optional(network::split_list(v->as_string()));
  if (v->is_array()) {
    std::vector<std::string> out;
    for (const auto& item : v->as_array()) {
      if (!item.is_string()) return bad(std::string(field) + " must be a comma-separated string or an array of strings");
      out.emplace_back(item.as_string());
    }
    return std::optional(std::move(out));
  }
  return bad(std::string(field) + " must be a comma-separated string or an array of strings");
}

template <class Check>
std::optional<events::Error> read_list(const json::object& o, const char* field, Check check,
                                       std::optional<std::vector<std::string>>& out) {
  auto got = entries(o, field);
  if (!got) return got.error();
  if (!*got) return std::nullopt;
  auto checked = check(field, **got);
  if (!checked) return checked.error();
  out = std::move(*checked);
  return std::nullopt;
}

std::optional<events::Error> proxy_url(const std::string& url) {
  const bool scheme = url.starts_with("http://") || url.starts_with("https://");
  const auto rest = url.substr(url.find("://") + 3);
  if (!scheme || rest.empty() || rest.front() == '/' || url.size() > 2048) {
    return bad("outboundProxyUrl must be an http:// or https:// URL with a host, e.g. http://proxy.example:3128");
  }
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("outboundProxyUrl must not contain spaces or control characters");
  }
  return std::nullopt;
}

}  // namespace

events::Result<NetworkRequest> parse_network_request(const json::object& o) {
  NetworkRequest r;
  if (const auto* v = o.if_contains("networkBlockAll"); v != nullptr && !v->is_null()) {
    if (!v->is_bool()) return bad("networkBlockAll must be true or false");
    r.block_all = v->as_bool();
  }
  if (auto e = read_list(o, "networkAllowList", network::allow_list, r.allow_list)) return *e;
  if (auto e = read_list(o, "domainAllowList", network::domain_allow_list, r.domain_allow_list)) return *e;
  if (auto e = read_list(o, "networkDenyList", network::deny_list, r.deny_list)) return *e;
  if (const auto* v = o.if_contains("outboundProxyUrl"); v != nullptr && !v->is_null()) {
    if (!v->is_string()) return bad("outboundProxyUrl must be a string");
    r.outbound_proxy_url = std::string(v->as_string());
    if (r.outbound_proxy_url->empty()) r.outbound_proxy_url.reset();
    else if (auto e = proxy_url(*r.outbound_proxy_url)) return *e;
  }
  return r;
}

events::Result<NetworkRequest> parse_network_request(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body.empty() ? std::string_view("{}") : body, ec);
  if (ec) return bad("request body is not valid JSON: " + ec.message());
  if (!v.is_object()) return bad("request body must be a JSON object");
  return parse_network_request(v.as_object());
}

events::NetworkPolicy apply(events::NetworkPolicy p, const NetworkRequest& r) {
  if (r.block_all && *r.block_all) return events::NetworkPolicy{true, {}, {}, {}};
  if (r.block_all) {  // false: open again, without a stored allow list (as the SDK documents)
    p.block_all = false;
    p.allow_list.clear();
    p.domain_allow_list.clear();
  }
  if (r.allow_list || r.domain_allow_list || r.deny_list) p.block_all = false;
  if (r.allow_list) p.allow_list = *r.allow_list;
  if (r.domain_allow_list) p.domain_allow_list = *r.domain_allow_list;
  if (r.deny_list) p.deny_list = *r.deny_list;
  return p;
}

events::Result<events::NetworkPolicy> parse_policy_body(const json::value& v, std::string_view field) {
  if (!v.is_object()) return bad(std::string(field) + " must be an object {networkBlockAll?, networkAllowList?, domainAllowList?, networkDenyList?} or null");
  for (const auto& [k, _] : v.as_object()) {
    if (k != "networkBlockAll" && k != "networkAllowList" && k != "domainAllowList" && k != "networkDenyList") {
      return bad(std::string(field) + "." + std::string(k) + " is not a policy field");
    }
  }
  auto r = parse_network_request(v.as_object());
  if (!r) return make_error(ErrorCode::invalid_argument, std::string(field) + "." + r.error().message);
  auto p = apply(events::NetworkPolicy{}, *r);
  if (auto problem = network::validate(p)) return make_error(ErrorCode::invalid_argument, std::string(field) + "." + problem->message);
  return p;
}

json::object policy_body(const events::NetworkPolicy& p) {
  return events::http::to_object(dto::NetworkPolicyBody{p.block_all, p.allow_list, p.domain_allow_list, p.deny_list});
}

}  // namespace command_service
