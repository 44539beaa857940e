#include "command_service/http/router.hpp"

#include "events/api_keys.hpp"
#include "events/text.hpp"
#include "events/http/path.hpp"
#include "events/url.hpp"
#include "command_service/http/dto.hpp"

#include <openssl/crypto.h>
#include <pqxx/except>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

namespace command_service {

std::optional<std::map<std::string, std::vector<std::string>>> parse_query(std::string_view query) {
  auto pairs = events::url::query(query);
  if (!pairs) return std::nullopt;
  std::map<std::string, std::vector<std::string>> out;
  for (auto& [k, v] : *pairs) out[k].push_back(std::move(v));
  return out;
}

std::optional<std::string> Call::query_one(const std::string& key) const {
  auto it = query.find(key);
  if (it == query.end() || it->second.empty()) return std::nullopt;
  return it->second.front();
}

Route& Router::add(Route route) { return routes_.emplace_back(std::move(route)); }

namespace {

void set_limit_headers(Response& res, const RateDecision& d) {
  if (d.limit <= 0) return;
  res.set("X-RateLimit-Limit", std::to_string(d.limit));
  res.set("X-RateLimit-Remaining", std::to_string(d.remaining));
  res.set("X-RateLimit-Reset", std::to_string(d.reset_seconds));
}

Response too_many(const RateDecision& d, const std::string& what) {
  auto res = error_response(http::status::too_many_requests,
                            "rate limit exceeded: " + what + " (" + std::to_string(d.limit) +
                                " per minute); retry in " + std::to_string(d.reset_seconds) + " s");
  set_limit_headers(res, d);
  res.set(http::field::retry_after, std::to_string(d.reset_seconds));
  return res;
}

}  // namespace

// Rate limits (per instance): anonymous per source; failed authentications per source; then
// per organization, and per organization for sandbox creates and lifecycle commands.
bool Router::is_admin_key(const Request& req) const {
  if (admin_key_hash_.empty()) return false;
  const auto hash = events::bearer_key_hash(req[http::field::authorization]);
  return hash && hash->size() == admin_key_hash_.size() &&
         CRYPTO_memcmp(hash->data(), admin_key_hash_.data(), hash->size()) == 0;
}

// A source that failed too many authentications is slowed down, not locked out: a valid key
// from it still passes (a shared address — the edge proxy, a NAT — must not let one client's bad
// keys deny everyone else); only its further failures answer 429.
boost::asio::awaitable<Response> Router::run(const Route& route, Call& call, const std::string& remote) {
  const std::string failed_key = "failed:" + remote;
  auto refuse_failure = [&](Response denied) {
    const auto d = limiter_.take(failed_key, limits_.failed_auth);
    if (!d.allowed) return too_many(d, "failed authentications from " + remote);
    return denied;
  };
  if (route.limit == LimitClass::admin) {
    // Admin routes: the admin key, checked here for all of them; no per-source limit (a runner's
    // heartbeats and look-ups would hit it), but wrong keys count as failed authentications.
    if (!is_admin_key(call.request)) {
      co_return refuse_failure(error_response(http::status::unauthorized, "admin API key required"));
    }
    call.actor = "admin";
    call.caller = events::access::AdminCaller{};
    co_return co_await route.handler(call);
  }
  if (!route.authenticated) {
    const auto d = limiter_.take("anon:" + remote, limits_.anonymous);
    if (!d.allowed) co_return too_many(d, "requests without an API key from " + remote);
    call.caller = events::access::Anonymous{};
    auto res = co_await route.handler(call);
    set_limit_headers(res, d);
    co_return res;
  }
  auto who = co_await authenticate_(call.request);
  if (auto* denied = std::get_if<Response>(&who)) co_return refuse_failure(std::move(*denied));
  call.organization_id = std::get<Identity>(who).organization_id;
  call.actor = std::get<Identity>(who).actor;
  call.caller = events::access::ApiKeyCaller{events::OrganizationId{call.organization_id}};
  auto d = limiter_.take("org:" + call.organization_id, limits_.authenticated);
  if (!d.allowed) co_return too_many(d, "requests of this organization");
  if (route.limit == LimitClass::sandbox_create) {
    d = limiter_.take("create:" + call.organization_id, limits_.sandbox_create);
    if (!d.allowed) co_return too_many(d, "sandbox creates of this organization");
  } else if (route.limit == LimitClass::lifecycle) {
    d = limiter_.take("lifecycle:" + call.organization_id, limits_.lifecycle);
    if (!d.allowed) co_return too_many(d, "lifecycle commands of this organization");
  }
  auto res = co_await route.handler(call);
  set_limit_headers(res, d);
  co_return res;
}

boost::asio::awaitable<std::variant<Identity, Response>> Router::authenticate_for(const std::string& api_key,
                                                                                  const std::string& source) {
  Request probe{http::verb::get, "/", 11};
  probe.set(http::field::authorization, "Bearer " + api_key);
  auto who = co_await authenticate_(probe);
  if (std::holds_alternative<Response>(who)) {
    const auto d = limiter_.take("failed:" + source, limits_.failed_auth);
    if (!d.allowed) co_return too_many(d, "failed authentications from " + source);
  }
  co_return who;
}

namespace {

// Path and query values reach SQL, logs and JSON: they must be text.
std::optional<Response> bad_text(const std::map<std::string, std::string>& path,
                                 const std::map<std::string, std::vector<std::string>>& query) {
  for (const auto& [name, value] : path) {
    if (auto problem = events::text::line_problem(value)) {
      return error_response(http::status::bad_request, "path parameter " + name + " " + *problem);
    }
  }
  for (const auto& [name, values] : query) {
    if (auto problem = events::text::line_problem(name)) {
      return error_response(http::status::bad_request, "a query parameter name " + *problem);
    }
    for (const auto& value : values) {
      if (auto problem = events::text::multiline_problem(value)) {
        return error_response(http::status::bad_request, "query parameter " + name + " " + *problem);
      }
    }
  }
  return std::nullopt;
}

// No stored field may hold a NUL (PostgreSQL's text and jsonb refuse it): a JSON body that
// escapes one is refused here, naming where it is.
std::optional<std::string> nul_in(const boost::json::value& v, const std::string& where) {
  if (v.is_string()) {
    if (v.as_string().find('\0') != boost::json::string::npos) return where;
  } else if (v.is_object()) {
    for (const auto& [k, item] : v.as_object()) {
      if (std::string_view(k).find('\0') != std::string_view::npos) return where + " (a key)";
      if (auto found = nul_in(item, where.empty() ? std::string(k) : where + "." + std::string(k))) return found;
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.as_array().size(); ++i) {
      if (auto found = nul_in(v.as_array()[i], where + "[" + std::to_string(i) + "]")) return found;
    }
  }
  return std::nullopt;
}

std::optional<Response> nul_in_body(const Request& req) {
  const auto& body = req.body();
  if (body.find("\\u0000") == std::string::npos) return std::nullopt;
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  if (ec) return std::nullopt;  // the handler says what is wrong with it
  if (auto where = nul_in(v, "")) {
    return error_response(http::status::bad_request,
                          "request body field " + (where->empty() ? std::string("(the body)") : *where) +
                              " contains a NUL character (\\u0000), which no field accepts");
  }
  return std::nullopt;
}

}  // namespace

boost::asio::awaitable<Reply> Router::dispatch(Request& request, const std::string& remote) {
  const auto started = std::chrono::steady_clock::now();
  const std::string_view target = request.target();
  const auto qmark = target.find('?');
  const auto path = target.substr(0, qmark);
  bool path_matched = false;
  Reply reply;
  std::string pattern = "unmatched";
  for (const auto& route : routes_) {
    auto matched = events::http::match_path(route.pattern, path);
    if (!matched) continue;
    path_matched = true;
    auto& params = matched->params;
    const auto& malformed = matched->malformed;
    if (route.method != request.method()) continue;
    auto query = qmark == std::string_view::npos ? std::optional<decltype(Call::query)>(decltype(Call::query){})
                                                 : parse_query(target.substr(qmark + 1));
    Call call{request, std::move(params), query.value_or(decltype(Call::query){}), {}};
    pattern = route.pattern;
    if (!malformed.empty()) {
      reply.response = error_response(http::status::bad_request, "path parameter " + malformed + " has a malformed %-escape");
    } else if (!query) {
      reply.response = error_response(http::status::bad_request, "the query string has a malformed %-escape");
    } else if (auto bad = bad_text(call.path, call.query)) {
      reply.response = std::move(*bad);
    } else if (auto nul = nul_in_body(request)) {
      reply.response = std::move(*nul);
    } else {
      try {
        reply.response = co_await run(route, call, remote);
      } catch (const pqxx::broken_connection& e) {
        spdlog::warn("{} {}: the database is not reachable: {}", std::string(request.method_string()), pattern, e.what());
        reply.response = unavailable_response("the database is not reachable");
      }
    }
    // A takeover stands only when the checks before it (auth, rate limits) let it through.
    if (reply.response.result() == http::status::ok) reply.takeover = std::move(call.takeover);
    break;
  }
  if (pattern == "unmatched") {
    reply.response =
        path_matched ? error_response(http::status::method_not_allowed,
                                      std::string(request.method_string()) + " is not allowed on " + std::string(path))
                     : error_response(http::status::not_found,
                                      "no route for " + std::string(request.method_string()) + " " + std::string(path));
  }
  if (metrics_ != nullptr) {
    metrics_->request(std::string(request.method_string()), pattern, static_cast<int>(reply.response.result_int()),
                      std::chrono::steady_clock::now() - started);
  }
  co_return reply;
}

namespace {

// "get /api/sandbox/{sandboxIdOrName}/start" → "getSandboxBySandboxIdOrNameStart": unique per
// method and pattern, which is what a generated client names its calls by.
std::string operation_id(const std::string& method, std::string_view pattern) {
  if (pattern.rfind("/api", 0) == 0) pattern.remove_prefix(4);
  std::string out = method;
  bool upper = true;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '{') {
      out += "By";
      upper = true;
    } else if (c == '/' || c == '-' || c == '}' || c == '.' || c == '_') {
      upper = true;
    } else {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return out;
}

boost::json::object json_content(const boost::json::value& schema) {
  return {{"application/json", {{"schema", schema}}}};
}

}  // namespace

boost::json::value Router::openapi() const {
  boost::json::object paths;
  const auto error_schema = events::http::schema<dto::Error>();
  for (const auto& route : routes_) {
    std::string method(http::to_string(route.method));
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    boost::json::array parameters;
    for (const auto& name : events::http::path_parameters(route.pattern)) {
      parameters.push_back({{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    boost::json::object success{{"description", std::string(http::obsolete_reason(route.success))}};
    if (!route.response_schema.is_null()) success["content"] = json_content(route.response_schema);
    boost::json::object op{
        {"operationId", operation_id(method, route.pattern)},
        {"summary", route.summary},
        {"parameters", parameters},
        {"responses",
         {{std::to_string(static_cast<unsigned>(route.success)), std::move(success)},
          {"default", {{"description", "error: {statusCode, message, error, code?}"}, {"content", json_content(error_schema)}}}}}};
    if (!route.request_schema.is_null()) {
      op["requestBody"] = {{"required", false}, {"content", json_content(route.request_schema)}};
    }
    if (route.authenticated) op["security"] = boost::json::array{{{"bearer", boost::json::array{}}}};
    const auto key = route.pattern.rfind("/api", 0) == 0 ? route.pattern.substr(4) : route.pattern;
    auto& entry = paths[key];
    if (!entry.is_object()) entry.emplace_object();
    entry.as_object()[method] = std::move(op);
  }
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "Sandbox platform API (Daytona-compatible)"}, {"version", "0.1.0"}}},
          {"servers", {{{"url", "/api"}}}},
          {"components", {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
          {"paths", std::move(paths)}};
}

}  // namespace command_service
