#include "events/url.hpp"

#include <boost/url.hpp>

namespace events::url {

namespace urls = boost::urls;

// Boost.URL 1.81 reads its input up to a NUL in places (ASan: parse_query on a substring of a
// request target read past it): every call gets a NUL-terminated copy.
std::optional<std::string> decode(std::string_view encoded, bool plus_is_space) {
  const std::string text(encoded);
  auto checked = urls::make_pct_string_view(text);
  if (!checked) return std::nullopt;
  urls::encoding_opts opts;
  opts.space_as_plus = plus_is_space;
  return checked->decode(opts);
}

std::optional<std::multimap<std::string, std::string>> query(std::string_view encoded) {
  const std::string text(encoded);
  auto parsed = urls::parse_query(text);
  if (!parsed) return std::nullopt;
  std::multimap<std::string, std::string> out;
  urls::encoding_opts opts;
  opts.space_as_plus = true;
  for (const auto& param : *parsed) {
    if (param.key.empty() && !param.has_value) continue;  // "a=1&&b=2"
    out.emplace(param.key.decode(opts), param.has_value ? param.value.decode(opts) : std::string());
  }
  return out;
}

Result<Endpoint> endpoint(std::string_view given) {
  const std::string text(given);
  auto parsed = urls::parse_absolute_uri(text);
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::invalid_argument, "'" + std::string(text) + "' " + why);
  };
  if (!parsed) return bad("is not a URL (scheme://host[:port][/path])");
  Endpoint e;
  e.scheme = parsed->scheme();
  if (e.scheme != "http" && e.scheme != "https" && e.scheme != "nats") return bad("is not an http, https or nats URL");
  e.host = parsed->host_address();
  if (e.host.empty()) return bad("names no host");
  e.port = parsed->has_port() ? std::string(parsed->port()) : (e.scheme == "https" ? "443" : e.scheme == "nats" ? "4222" : "80");
  e.path = parsed->path();
  while (!e.path.empty() && e.path.back() == '/') e.path.pop_back();
  if (parsed->has_query() || parsed->has_fragment()) return bad("must not have a query or a fragment");
  return e;
}

}  // namespace events::url
