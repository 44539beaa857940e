// Preview links (compat spec §2.2: getPreviewLink) and what the edge proxy asks the platform
// about a sandbox: where it runs, whether it is public, its preview token, and its activity.
#include "command_service/api.hpp"
#include "command_service/route_support.hpp"
#include "command_service/sandbox_view.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/store/sql.hpp"

#include <openssl/hmac.h>
#include <pqxx/pqxx>

namespace command_service {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace events;

namespace {

// HMAC-SHA256 of the sandbox id: the proxy compares, nothing is stored.
std::string preview_token(const Services& s, const std::string& sandbox_id) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const std::string message = "preview:" + sandbox_id;
  HMAC(EVP_sha256(), s.settings.preview_secret.data(), static_cast<int>(s.settings.preview_secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 16 && i < length; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

std::optional<int> port_in(const Call& call) {
  try {
    const auto& text = call.path.at("port");
    std::size_t used = 0;
    const int port = std::stoi(text, &used);
    if (used == text.size() && port >= 1 && port <= 65535) return port;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

asio::awaitable<Response> preview_url(Services& s, Call& call) {
  const auto port = port_in(call);
  if (!port) co_return error_response(http::status::bad_request, "port must be a number from 1 to 65535");
  auto id = co_await s.db.run([&](DbContext& db) {
    return resolve_sandbox(db, call.organization_id, call.path.at("sandboxIdOrName"));
  });
  if (!id) co_return error_for(id.error());
  // The path form works from this machine without DNS; the proxy also serves the host form
  // http://{port}-{id}.<preview domain>/ (browsers resolve *.localhost to loopback).
  co_return json_response(http::status::ok,
                          json::object{{"sandboxId", id->str()},
                                       {"url", s.settings.proxy_url + "/preview/" + id->str() + "/" + std::to_string(*port)},
                                       {"token", preview_token(s, id->str())}});
}

// Admin: where the sandbox runs and who may reach it.
asio::awaitable<Response> placement(Services& s, Call& call) {
  const auto id = SandboxId::parse(call.path.at("sandboxId"));
  if (!id) co_return error_response(http::status::not_found, "no sandbox " + call.path.at("sandboxId"));
  const auto last = co_await s.db.run([&](DbContext& db) { return last_position_of(db, StreamName::of("sandbox", *id).str()); });
  co_await wait_for_projection(s, "sandboxes", last);
  auto dto = co_await s.db.run([&](DbContext& db) -> std::optional<json::object> {
    pqxx::nontransaction tx(db.conn);
    const auto rows = exec_cached(tx, std::string("select ") + kSandboxColumns + " from sandboxes where id = $1", id->str());
    if (rows.empty()) return std::nullopt;
    const auto view = view_from_row(rows[0]);
    if (view.state.actual == SandboxState::destroyed) return std::nullopt;
    std::string endpoint;
    if (view.state.runner) {
      const auto r = exec_cached(tx, "select endpoint from runners where id = $1", view.state.runner->str());
      if (!r.empty()) endpoint = r[0][0].as<std::string>();
    }
    return json::object{{"id", id->str()},
                        {"organizationId", view.state.organization_id.str()},
                        {"state", api_state(view.state)},
                        {"public", view.state.is_public},
                        {"runnerId", view.state.runner ? json::value(view.state.runner->str()) : json::value(nullptr)},
                        {"runnerEndpoint", endpoint},
                        {"previewToken", preview_token(s, id->str())}};
  });
  if (!dto) co_return error_response(http::status::not_found, "no sandbox " + id->str());
  co_return json_response(http::status::ok, *dto);
}

// Admin: traffic through the proxy defers the sandbox's auto-stop.
asio::awaitable<Response> activity(Services& s, Call& call) {
  const auto id = SandboxId::parse(call.path.at("sandboxId"));
  if (!id) co_return error_response(http::status::not_found, "no sandbox " + call.path.at("sandboxId"));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  auto done = co_await s.db.run([&](DbContext& db) -> Result<bool> {
    Metadata meta = metadata_for(call);
    meta.actor = "edge-proxy";
    auto executed = execute<SandboxEvent, sandbox::State>(
        db.store, StreamName::of("sandbox", *id), meta,
        [&](const sandbox::State& st) -> Result<sandbox::Events> {
          if (!st.exists) return make_error(ErrorCode::not_found, "no sandbox " + id->str());
          meta.organization_id = st.organization_id.str();
          return sandbox::decide(sandbox::RecordActivity{ms}, st);
        },
        [](sandbox::State st, const SandboxEvent& e) { return sandbox::evolve(std::move(st), e); });
    if (!executed) return executed.error();
    return true;
  });
  if (!done) co_return error_for(done.error());
  co_return json_response(http::status::ok, json::object{{"id", id->str()}});
}

}  // namespace

void register_proxy_routes(Router& r, Services& s) {
  using V = http::verb;
  r.add({V::get, "/api/sandbox/{sandboxIdOrName}/ports/{port}/preview-url", "A preview URL and its token", true,
         [&s](Call& c) { return preview_url(s, c); }});
  r.add({V::get, "/api/proxy/sandboxes/{sandboxId}", "Where a sandbox runs, for the edge proxy (admin)", false,
         [&s](Call& c) { return placement(s, c); }, LimitClass::admin});
  r.add({V::post, "/api/proxy/sandboxes/{sandboxId}/activity", "Activity: traffic through the proxy, toolbox processes at work (admin: proxy, runners)", false,
         [&s](Call& c) { return activity(s, c); }, LimitClass::admin});
}

}  // namespace command_service
