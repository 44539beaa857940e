// SSH access (Daytona's routes, as the SDK's createSshAccess / revokeSshAccess /
// validateSshAccess call them): tokens granted per sandbox (events/deciders/ssh_access.hpp),
// stored hashed, shown once; and the admin route the SSH gateway asks whether a token opens a
// sandbox, and where that sandbox runs. Tokens past their time are expired by the scheduler
// (expire_ssh_access).
#include "command_service/http/api.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/http/sandbox_view.hpp"
#include "events/api_keys.hpp"
#include "events/deciders/ssh_access.hpp"
#include "events/wire/ssh.hpp"
#include "projector/queries/runners.hpp"
#include "projector/queries/sandboxes.hpp"
#include "projector/queries/ssh_access.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <charconv>

namespace command_service {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace events;

namespace dto {
struct SshAccess {
  std::string id;
  std::string sandboxId;
  std::string token;
  std::string expiresAt;
  std::string createdAt;
  std::string updatedAt;
  std::string sshCommand;
};
BOOST_DESCRIBE_STRUCT(SshAccess, (), (id, sandboxId, token, expiresAt, createdAt, updatedAt, sshCommand))

struct SshAccessValidation {
  bool valid = false;
  std::string sandboxId;
};
BOOST_DESCRIBE_STRUCT(SshAccessValidation, (), (valid, sandboxId))
}  // namespace dto

namespace {

constexpr const char* kModel = "ssh_access";

std::int64_t ms_of(Time t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); }

std::string iso_of_ms(std::int64_t ms) {
  const std::time_t secs = ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

// "ssh -p 2222 TOKEN@host" (no -p for 22).
std::string ssh_command(const std::string& gateway, const std::string& token) {
  const auto colon = gateway.rfind(':');
  const std::string host = colon == std::string::npos ? gateway : gateway.substr(0, colon);
  const std::string port = colon == std::string::npos ? "22" : gateway.substr(colon + 1);
  return port == "22" ? "ssh " + token + "@" + host : "ssh -p " + port + " " + token + "@" + host;
}

Result<std::int64_t> ssh_command_on(DbContext& db, const Metadata& meta, const SandboxId& sandbox,
                                    const ssh_access::Command& c) {
  auto executed = execute<SshAccessEvent, ssh_access::State>(
      db.store, StreamName::of("sshaccess", sandbox), meta,
      [&](const ssh_access::State& st) { return ssh_access::decide(c, st); },
      [](ssh_access::State st, const SshAccessEvent& e) { return ssh_access::evolve(std::move(st), e); });
  if (!executed) return executed.error();
  return executed->appended ? executed->appended->last.value() : std::int64_t{0};
}

Result<int> minutes_of(const Call& call) {
  const auto given = call.query_one("expiresInMinutes");
  if (!given || given->empty()) return ssh_access::kDefaultMinutes;
  int minutes = 0;
  const auto [end, ec] = std::from_chars(given->data(), given->data() + given->size(), minutes);
  if (ec != std::errc() || end != given->data() + given->size()) {
    return make_error(ErrorCode::invalid_argument, "expiresInMinutes must be a whole number of minutes, not '" + *given + "'");
  }
  return minutes;
}

asio::awaitable<Response> create_access(Services& s, Call& call) {
  const auto minutes = minutes_of(call);
  if (!minutes) co_return error_for(minutes.error());
  const auto token = generate_ssh_token();
  const auto now = ms_of(s.clock());
  const auto access_id = SshAccessId::generate();
  auto granted = co_await s.db.run([&](DbContext& db) -> Result<std::pair<std::string, std::int64_t>> {
    auto st = sandbox_for(db, call, call.path.at("sandboxIdOrName"), access::Action::change);
    if (!st) return st.error();
    auto position = ssh_command_on(db, metadata_for(call), st->id,
                                   ssh_access::Grant{access_id, st->id, st->organization_id, sha256_hex(token), *minutes, now});
    if (!position) return position.error();
    return std::make_pair(st->id.str(), *position);
  });
  if (!granted) co_return error_for(granted.error());
  co_await wait_for_projection(s, kModel, granted->second);
  const auto created = iso_of_ms(now);
  const dto::SshAccess out{access_id.str(), granted->first, token, iso_of_ms(now + std::int64_t{*minutes} * 60000), created,
                           created, ssh_command(s.settings.ssh_gateway, token)};
  co_return json_response(http::status::ok, events::http::to_json(out));
}

asio::awaitable<Response> revoke_access(Services& s, Call& call) {
  std::optional<std::string> hash;
  if (auto token = call.query_one("token"); token && !token->empty()) hash = sha256_hex(*token);
  auto revoked = co_await s.db.run([&](DbContext& db) -> Result<std::pair<SandboxId, std::int64_t>> {
    auto st = sandbox_for(db, call, call.path.at("sandboxIdOrName"), access::Action::change);
    if (!st) return st.error();
    auto position = ssh_command_on(db, metadata_for(call), st->id, ssh_access::Revoke{hash});
    if (!position) return position.error();
    return std::make_pair(st->id, *position);
  });
  if (!revoked) co_return error_for(revoked.error());
  co_await wait_for_projection(s, kModel, revoked->second);
  auto view = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    return projector::queries::sandbox(tx, revoked->first);
  });
  if (!view) co_return error_for(sandbox_not_found(call.path.at("sandboxIdOrName")));
  co_return json_response(http::status::ok, sandbox_dto(*view, s.settings.proxy_url));
}

// An active token whose time has not passed, or nothing.
std::optional<projector::queries::SshAccessRow> active_token(DbContext& db, const std::string& token, std::int64_t now_ms) {
  if (token.empty() || token.size() > 256) return std::nullopt;
  pqxx::nontransaction tx(db.conn);
  auto row = projector::queries::ssh_access_by_hash(tx, sha256_hex(token));
  if (!row || row->status != "active" || row->expires_at_ms <= now_ms) return std::nullopt;
  return row;
}

// Daytona's validate: {valid, sandboxId}, for the caller's own sandboxes' tokens only (another
// organization's token is as invalid as a made-up one).
asio::awaitable<Response> validate_access(Services& s, Call& call) {
  const auto token = call.query_one("token").value_or("");
  const auto now = ms_of(s.clock());
  auto row = co_await s.db.run([&](DbContext& db) { return active_token(db, token, now); });
  dto::SshAccessValidation out;
  if (row) {
    const auto org = OrganizationId::parse(row->organization_id);
    if (org && may(call, access::Action::read, access::sandbox(*org))) out = {true, row->sandbox_id};
  }
  co_return json_response(http::status::ok, events::http::to_json(out));
}

// Admin (the SSH gateway): does this token open a sandbox, and where does the sandbox run? 404
// for a token that is unknown, revoked or expired; the gateway counts those against the source.
asio::awaitable<Response> gateway_access(Services& s, Call& call) {
  auto asked = from_json_text<wire::SshAccessRequest>(call.request.body(), "body {token, source}");
  if (!asked) co_return error_response(http::status::bad_request, asked.error().message);
  const auto now = ms_of(s.clock());
  auto grant = co_await s.db.run([&](DbContext& db) -> std::optional<wire::SshAccessGrant> {
    auto row = active_token(db, asked->token, now);
    if (!row) return std::nullopt;
    const auto id = SandboxId::parse(row->sandbox_id);
    const auto org = OrganizationId::parse(row->organization_id);
    if (!id || !org) return std::nullopt;
    Call as_token = call;
    as_token.caller = access::SshCaller{*id};
    if (!may(as_token, access::Action::ssh, access::sandbox_shell(*id, *org))) return std::nullopt;
    pqxx::nontransaction tx(db.conn);
    const auto view = projector::queries::sandbox(tx, *id);
    if (!view || view->state.actual == SandboxState::destroyed) return std::nullopt;
    const auto endpoint = view->state.runner ? projector::queries::runner_endpoint(tx, *view->state.runner) : std::string();
    return wire::SshAccessGrant{
        wire::SandboxPlacement{*id, *org, view->state.actual, view->state.is_public, view->state.runner, endpoint},
        row->expires_at_ms};
  });
  if (!grant) co_return error_response(http::status::not_found, "no active SSH access for that token");
  co_return json_response(http::status::ok, json::value_from(*grant));
}

}  // namespace

int expire_ssh_access(DbContext& db, Time now) {
  std::vector<projector::queries::SshExpiry> due;
  {
    pqxx::nontransaction tx(db.conn);
    due = projector::queries::ssh_access_to_expire(tx, ms_of(now), 100);
  }
  int expired = 0;
  for (const auto& d : due) {
    const auto id = SandboxId::parse(d.sandbox_id);
    if (!id) continue;
    Metadata meta;
    meta.event_id = new_uuid();
    meta.correlation_id = new_uuid();
    meta.actor = "timer";
    meta.organization_id = d.organization_id;
    auto position = ssh_command_on(db, meta, *id, ssh_access::Expire{ms_of(now)});
    if (position && *position > 0) ++expired;
    if (!position) spdlog::warn("ssh access of sandbox {}: {}", d.sandbox_id, position.error().message);
  }
  return expired;
}

void register_ssh_routes(Router& r, Services& s) {
  using V = http::verb;
  r.add({V::post, "/api/sandbox/{sandboxIdOrName}/ssh-access",
         "SSH access: a new token (?expiresInMinutes=, default 60); the sandbox's earlier tokens are revoked", true,
         [&s](Call& c) { return create_access(s, c); }, LimitClass::lifecycle})
      .answers<dto::SshAccess>();
  r.add({V::delete_, "/api/sandbox/{sandboxIdOrName}/ssh-access", "Revoke SSH access (?token=; none: every token)", true,
         [&s](Call& c) { return revoke_access(s, c); }, LimitClass::lifecycle});
  r.add({V::get, "/api/sandbox/ssh-access/validate", "Whether an SSH token is valid, and for which sandbox (?token=)", true,
         [&s](Call& c) { return validate_access(s, c); }})
      .answers<dto::SshAccessValidation>();
  r.add({V::post, "/api/proxy/ssh-access", "Which sandbox an SSH token opens, and where it runs (admin: the SSH gateway)",
         false, [&s](Call& c) { return gateway_access(s, c); }, LimitClass::admin})
      .takes<wire::SshAccessRequest>()
      .answers<wire::SshAccessGrant>();
}

}  // namespace command_service
