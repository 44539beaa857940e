#pragma once
// URLs, queries and percent-decoding, one way for every service (Boost.URL): the API's router,
// the sandbox daemon's router, and the services' URL settings. Pure; fuzzed with the API's input.
#include "events/error.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace events::url {

// The decoded text of a percent-encoded path segment (or, with `plus_is_space`, a query part);
// nothing when an escape is malformed ("%zz", a lone "%").
std::optional<std::string> decode(std::string_view encoded, bool plus_is_space = false);

// "a=1&b=2&b=3&flag" decoded (form style: '+' is a space): every name with its values in order;
// nothing when the query is malformed.
std::optional<std::multimap<std::string, std::string>> query(std::string_view encoded);

// An absolute http(s) or nats URL split for a client: "http://127.0.0.1:3000/api" → host
// 127.0.0.1, port 3000, path /api (no trailing '/'); the port defaults by scheme.
struct Endpoint {
  std::string scheme;
  std::string host;
  std::string port;
  std::string path;
};
Result<Endpoint> endpoint(std::string_view text);

}  // namespace events::url
