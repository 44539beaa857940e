#pragma once
// The route table: method + path pattern ("/api/sandbox/{sandboxIdOrName}/start") → handler.
// The OpenAPI document is generated from this table, so it lists exactly what is served.
#include "command_service/http/http.hpp"
#include "command_service/http/metrics.hpp"
#include "command_service/http/rate_limiter.hpp"
#include "events/access.hpp"
#include "events/http/dto.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <optional>
#include <variant>
#include <vector>

namespace command_service {

struct Call {
  Request& request;
  std::map<std::string, std::string> path;   // {name} segments
  std::map<std::string, std::vector<std::string>> query;
  std::string organization_id;               // set by auth for authenticated routes
  std::string actor;                         // who, for the audit log ("apikey:<key id>")
  events::access::Caller caller;             // set by the router: what events::access::authorize judges
  Takeover takeover;                         // set by streaming handlers (http.hpp)
  std::optional<std::string> query_one(const std::string& key) const;
};

using RouteHandler = std::function<boost::asio::awaitable<Response>(Call&)>;

// Rate-limit classes beyond the per-organization limit.
// `admin`: routes for the admin key only (runners, organizations): the router checks the key.
enum class LimitClass { none, sandbox_create, lifecycle, admin };

struct Route {
  http::verb method;
  std::string pattern;
  std::string summary;
  bool authenticated = true;
  RouteHandler handler;
  LimitClass limit = LimitClass::none;
  // JSON Schemas of the body it takes and the body it answers (events/http/dto.hpp), for the
  // OpenAPI document: set with takes<Dto>() / answers<Dto>(); null when not declared.
  boost::json::value request_schema;
  boost::json::value response_schema;
  http::status success = http::status::ok;

  template <class Dto>
  Route& takes() {
    request_schema = events::http::schema<Dto>();
    return *this;
  }
  template <class Dto>
  Route& answers(http::status status = http::status::ok) {
    response_schema = events::http::schema<Dto>();
    success = status;
    return *this;
  }
};

struct Identity {
  std::string organization_id;
  std::string actor;
};
// Decides who is calling, or answers with an error response (401).
using Authenticator = std::function<boost::asio::awaitable<std::variant<Identity, Response>>(const Request&)>;

class Router {
 public:
  Route& add(Route route);
  void set_authenticator(Authenticator a) { authenticate_ = std::move(a); }
  void set_rate_limits(RateLimitSettings settings) { limits_ = settings; }
  void set_metrics(Metrics* m) { metrics_ = m; }
  // SHA-256 of the admin API key; empty: admin routes refuse everyone.
  void set_admin_key_hash(std::string hash) { admin_key_hash_ = std::move(hash); }
  boost::asio::awaitable<Reply> dispatch(Request& request, const std::string& remote);
  // Authenticates an API key on behalf of a client at `source` (the edge proxy asks for its
  // clients): the same check and the same failed-authentication limit as a request of its own.
  boost::asio::awaitable<std::variant<Identity, Response>> authenticate_for(const std::string& api_key,
                                                                            const std::string& source);
  boost::json::value openapi() const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  boost::asio::awaitable<Response> run(const Route& route, Call& call, const std::string& remote);
  std::vector<Route> routes_;
  Authenticator authenticate_;
  RateLimitSettings limits_;
  RateLimiter limiter_;
  Metrics* metrics_ = nullptr;
  std::string admin_key_hash_;
  bool is_admin_key(const Request& req) const;
};

// Splits "a=1&b=2&b=3" (percent-decoded, '+' a space; events/url.hpp) into names and their
// values; nothing when an escape is malformed.
std::optional<std::map<std::string, std::vector<std::string>>> parse_query(std::string_view query);

}  // namespace command_service
