// Preview links (compat spec §2.2: getPreviewLink) and what the edge proxy asks the platform
// about a sandbox: where it runs, whether it is public, whether a key may use its toolbox, and its
// activity.
#include "command_service/http/api.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/http/sandbox_view.hpp"
#include "command_service/http/dto.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/store/sql.hpp"
#include "events/wire/proxy.hpp"

namespace command_service {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace events;

namespace {

std::optional<int> port_in(const Call& call) {
  const auto& text = call.path.at("port");
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int port = std::stoi(text);
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

// A preview token of `port` for the sandbox the caller may read, valid for `ttl`.
struct Signed {
  std::string sandbox;
  std::string token;
  std::int64_t expires = 0;
};
asio::awaitable<std::variant<Signed, Response>> sign_for(Services& s, Call& call, int port, std::chrono::seconds ttl) {
  if (port == access::kToolboxPort) {
    co_return error_response(http::status::bad_request,
                             "port " + std::to_string(port) +
                                 " is the sandbox's toolbox: it has no preview; use the toolbox with an API key");
  }
  if (!s.settings.preview_keys) co_return unavailable_response("preview keys are not configured");
  auto st = co_await s.db.run([&](DbContext& db) {
    return sandbox_for(db, call, call.path.at("sandboxIdOrName"), access::Action::read);
  });
  if (!st) co_return error_for(st.error());
  const auto expires = tokens::unix_now() + ttl.count();
  co_return Signed{st->id.str(), tokens::sign_preview(*s.settings.preview_keys, st->id, port, expires), expires};
}

// getPreviewLink: {sandboxId, url, token}. The path form works from this machine without DNS; the
// proxy also serves the host form http://{port}-{id}.<preview domain>/ (browsers resolve
// *.localhost to loopback). The token opens this port only, for preview_token_ttl.
asio::awaitable<Response> preview_url(Services& s, Call& call) {
  const auto port = port_in(call);
  if (!port) co_return error_response(http::status::bad_request, "port must be a number from 1 to 65535");
  auto made = co_await sign_for(s, call, *port, s.settings.preview_token_ttl);
  if (auto* refused = std::get_if<Response>(&made)) co_return std::move(*refused);
  const auto& t = std::get<Signed>(made);
  const dto::PreviewUrl out{t.sandbox, s.settings.proxy_url + "/preview/" + t.sandbox + "/" + std::to_string(*port),
                            t.token};
  co_return json_response(http::status::ok, events::http::to_json(out));
}

// getSignedPreviewUrl: a URL that carries its own token (?DAYTONA_SANDBOX_AUTH_KEY=), for
// expiresInSeconds (default 60, at most a day).
asio::awaitable<Response> signed_preview_url(Services& s, Call& call) {
  const auto port = port_in(call);
  if (!port) co_return error_response(http::status::bad_request, "port must be a number from 1 to 65535");
  int seconds = 60;
  if (auto text = call.query_one("expiresInSeconds")) {
    if (text->empty() || text->size() > 6 || text->find_first_not_of("0123456789") != std::string::npos ||
        (seconds = std::stoi(*text)) < 1 || seconds > 86400) {
      co_return error_response(http::status::bad_request, "expiresInSeconds must be a whole number from 1 to 86400");
    }
  }
  auto made = co_await sign_for(s, call, *port, std::chrono::seconds(seconds));
  if (auto* refused = std::get_if<Response>(&made)) co_return std::move(*refused);
  const auto& t = std::get<Signed>(made);
  const dto::SignedPreviewUrl out{t.sandbox, *port, t.token,
                                  s.settings.proxy_url + "/preview/" + t.sandbox + "/" + std::to_string(*port) +
                                      "/?DAYTONA_SANDBOX_AUTH_KEY=" + t.token};
  co_return json_response(http::status::ok, events::http::to_json(out));
}

// Admin (the edge proxy): may this API key use this sandbox's toolbox? The key is judged as if
// its holder had called the API from `source`: 401 for no such key, 429 when that source failed
// too often, 404 when it is not the key's sandbox (or none), 200 {organizationId} otherwise.
asio::awaitable<Response> authorize_toolbox(Router& router, Services& s, Call& call) {
  auto asked = from_json_text<wire::ToolboxAccessRequest>(call.request.body(), "body {api_key, sandbox_id, source}");
  if (!asked) co_return error_response(http::status::bad_request, asked.error().message);
  const std::string client = asked->source.empty() ? std::string("edge-proxy") : asked->source;
  auto who = co_await router.authenticate_for(asked->api_key, client);
  if (auto* refused = std::get_if<Response>(&who)) co_return std::move(*refused);
  const auto& identity = std::get<Identity>(who);
  Call as_key = call;
  as_key.organization_id = identity.organization_id;
  as_key.actor = identity.actor;
  as_key.caller = access::ApiKeyCaller{OrganizationId{identity.organization_id}};
  auto st = co_await s.db.run([&](DbContext& db) { return sandbox_for(db, as_key, asked->sandbox_id, access::Action::toolbox); });
  if (!st) co_return error_for(st.error());
  co_return json_response(http::status::ok, json::value_from(wire::ToolboxAccess{OrganizationId{identity.organization_id}}));
}

// Admin: where the sandbox runs and who may reach it. From the stream, not the read model: the
// proxy's first request to a sandbox just created or claimed does not wait for the projection.
asio::awaitable<Response> placement(Services& s, Call& call) {
  const auto id = SandboxId::parse(call.path.at("sandboxId"));
  if (!id) co_return error_response(http::status::not_found, "no sandbox " + call.path.at("sandboxId"));
  auto dto = co_await s.db.run([&](DbContext& db) -> std::optional<json::object> {
    auto st = sandbox_for(db, call, id->str(), access::Action::read);
    if (!st) return std::nullopt;
    return json::value_from(placement_of(db, *st)).as_object();
  });
  if (!dto) co_return error_response(http::status::not_found, "no sandbox " + id->str());
  co_return json_response(http::status::ok, *dto);
}

// Admin: traffic through the proxy defers the sandbox's auto-stop.
asio::awaitable<Response> activity(Services& s, Call& call) {
  const auto id = SandboxId::parse(call.path.at("sandboxId"));
  if (!id) co_return error_response(http::status::not_found, "no sandbox " + call.path.at("sandboxId"));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.clock().time_since_epoch()).count();
  auto done = co_await s.db.run([&](DbContext& db) -> Result<bool> {
    Metadata meta = metadata_for(call);
    meta.actor = "edge-proxy";
    // Activity is no news for the runner: no routing key.
    auto executed = execute_sandbox(
        db, *id, meta,
        [&](const sandbox::State& st) -> Result<sandbox::Events> {
          if (!st.exists) return make_error(ErrorCode::not_found, "no sandbox " + id->str());
          meta.organization_id = st.organization_id.str();
          return sandbox::decide(sandbox::RecordActivity{ms}, st);
        },
        [](const sandbox::State&, const sandbox::State&) { return AppendOptions{}; });
    if (!executed) return executed.error();
    return true;
  });
  if (!done) co_return error_for(done.error());
  co_return json_response(http::status::ok, json::object{{"id", id->str()}});
}

}  // namespace

void register_proxy_routes(Router& r, Services& s) {
  using V = http::verb;
  r.add({V::get, "/api/sandbox/{sandboxIdOrName}/ports/{port}/preview-url",
         "A preview URL and its token (signed, for this port only)", true, [&s](Call& c) { return preview_url(s, c); }})
      .answers<dto::PreviewUrl>();
  r.add({V::get, "/api/sandbox/{sandboxIdOrName}/ports/{port}/signed-preview-url",
         "A preview URL carrying its own token (?expiresInSeconds=, default 60)", true,
         [&s](Call& c) { return signed_preview_url(s, c); }})
      .answers<dto::SignedPreviewUrl>();
  r.add({V::post, "/api/proxy/authorize", "May an API key use a sandbox's toolbox (admin: the edge proxy)", false,
         [&r, &s](Call& c) { return authorize_toolbox(r, s, c); }, LimitClass::admin})
      .takes<wire::ToolboxAccessRequest>()
      .answers<wire::ToolboxAccess>();
  r.add({V::get, "/api/proxy/sandboxes/{sandboxId}", "Where a sandbox runs, for the edge proxy (admin)", false,
         [&s](Call& c) { return placement(s, c); }, LimitClass::admin})
      .answers<wire::SandboxPlacement>();
  r.add({V::post, "/api/proxy/sandboxes/{sandboxId}/activity", "Activity: traffic through the proxy, toolbox processes at work (admin: proxy, runners)", false,
         [&s](Call& c) { return activity(s, c); }, LimitClass::admin});
}

}  // namespace command_service
