// Socket.IO push (compat spec §7): the minimal Engine.IO 4 / Socket.IO 5 exchange over a
// WebSocket, enough for the Daytona SDK's waits to end the moment a sandbox changes state.
//   server: 0{"sid",...}          (Engine.IO open)
//   client: 40{"token":"<key>"}   (Socket.IO connect with auth)  → server: 40{"sid"} or 44{"message"}
//   server: 2 every pingInterval  → client: 3
//   server: 42["sandbox.created",dto] and 42["sandbox.state.updated",{sandbox,oldState,newState}]
#include "command_service/http/api.hpp"
#include "command_service/app/sandbox_commands.hpp"
#include "command_service/http/socket_io.hpp"
#include "command_service/pg/event_feed.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/http/sandbox_view.hpp"
#include "projector/queries/organizations_audit.hpp"
#include "events/ids.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <pqxx/pqxx>

#include <map>
#include <set>

namespace command_service {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;

std::optional<std::string> socket_io_connect_token(std::string_view packet) {
  if (packet.substr(0, 2) != "40") return std::nullopt;
  const auto brace = packet.find('{');
  if (brace == std::string_view::npos) return std::string();
  boost::system::error_code ec;
  auto v = json::parse(packet.substr(brace), ec);
  if (ec || !v.is_object()) return std::string();
  const auto* t = v.as_object().if_contains("token");
  return t != nullptr && t->is_string() ? std::string(t->as_string()) : std::string();
}

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kPingInterval = std::chrono::seconds(25);
constexpr auto kPingTimeout = std::chrono::seconds(20);

using Socket = websocket::stream<beast::tcp_stream>;

struct Session {
  Services& s;
  Socket ws;
  std::string organization_id;
  std::chrono::steady_clock::time_point last_pong = std::chrono::steady_clock::now();

  asio::awaitable<bool> send(const std::string& text) {
    ws.text(true);
    auto [ec, n] = co_await ws.async_write(asio::buffer(text), kTuple);
    co_return !ec;
  }

  asio::awaitable<std::optional<std::string>> receive() {
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws.async_read(buffer, kTuple);
    if (ec) co_return std::nullopt;
    co_return beast::buffers_to_string(buffer.data());
  }

  static std::optional<std::string> token_of(const std::string& packet) { return socket_io_connect_token(packet); }

  // Reads pongs and the client's disconnect; returns when the client goes away.
  asio::awaitable<void> reader() {
    for (;;) {
      auto message = co_await receive();
      if (!message || message->rfind("41", 0) == 0 || *message == "1") co_return;
      if (*message == "3") last_pong = std::chrono::steady_clock::now();
      if (*message == "2") last_pong = std::chrono::steady_clock::now();  // a client ping also proves it lives
    }
  }

  // The sandboxes the events touched, as DTOs: from the read model when the projection has
  // reached `position`, else as their streams have them (as a GET answers), without waiting.
  asio::awaitable<std::map<std::string, json::object>> sandboxes(const std::set<std::string>& ids, std::int64_t position) {
    co_return co_await s.db.run([&](DbContext& db) {
      std::map<std::string, json::object> out;
      {
        pqxx::nontransaction tx(db.conn);
        if (projector::queries::checkpoint(tx, "sandboxes") >= position) {
          for (const auto& view : projector::queries::sandboxes_with_ids(tx, ids, organization_id)) {
            out.emplace(view.state.id.str(), sandbox_dto(view, s.settings.proxy_url));
          }
          return out;
        }
      }
      const events::access::Caller caller = events::access::ApiKeyCaller{events::OrganizationId{organization_id}};
      for (const auto& id : ids) {
        const auto parsed = events::SandboxId::parse(id);
        auto view = parsed ? view_from_stream(db, *parsed) : std::optional<SandboxView>{};
        if (view && events::access::authorize(caller, events::access::Action::read, resource_of(view->state))) {
          out.emplace(id, sandbox_dto(*view, s.settings.proxy_url));
        }
      }
      return out;
    });
  }

  // Follows the log: pushes sandbox creations and state changes of the organization, pings.
  asio::awaitable<void> writer() {
    std::int64_t after = s.feed->head();
    std::map<std::string, std::string> sent_state;
    auto next_ping = std::chrono::steady_clock::now() + kPingInterval;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_ping) {
        if (now - last_pong > kPingInterval + kPingTimeout) co_return;  // the client stopped answering
        const std::string ping = "2";
        if (!co_await send(ping)) co_return;
        next_ping = now + kPingInterval;
      }
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_ping - now);
      auto batch = co_await s.feed->next(after, 500, std::max(wait, std::chrono::milliseconds(1)));
      std::set<std::string> touched;
      std::set<std::string> created;
      std::int64_t last = 0;
      for (const auto& e : batch) {
        after = e.position.value();
        if (e.category() != "sandbox") continue;
        auto meta = events::parse_metadata(e.metadata);
        if (!meta || meta->organization_id != organization_id) continue;
        touched.insert(e.stream_id());
        if (e.type == "SandboxCreated") created.insert(e.stream_id());
        last = e.position.value();
      }
      if (touched.empty()) continue;
      const auto dtos = co_await sandboxes(touched, last);
      for (const auto& [id, dto] : dtos) {
        if (created.contains(id)) {
          const std::string packet = "42" + json::serialize(json::array{"sandbox.created", dto});
          if (!co_await send(packet)) co_return;
        }
        const std::string state(dto.at("state").as_string());
        auto& before = sent_state[id];
        if (before == state) continue;
        json::object update{{"sandbox", dto}, {"oldState", before.empty() ? json::value(nullptr) : json::value(before)},
                            {"newState", state}};
        before = state;
        const std::string packet = "42" + json::serialize(json::array{"sandbox.state.updated", update});
        if (!co_await send(packet)) co_return;
      }
    }
  }

  asio::awaitable<void> run(Request& req, const Authenticator& authenticate) {
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    auto [ec] = co_await ws.async_accept(req, kTuple);
    if (ec) co_return;
    const auto sid = events::new_uuid();
    const json::object open{{"sid", sid},
                            {"upgrades", json::array{}},
                            {"pingInterval", std::chrono::milliseconds(kPingInterval).count()},
                            {"pingTimeout", std::chrono::milliseconds(kPingTimeout).count()},
                            {"maxPayload", 1000000}};
    const std::string opening = "0" + json::serialize(open);
    if (!co_await send(opening)) co_return;
    auto connect = co_await receive();
    if (!connect) co_return;
    const auto token = token_of(*connect);
    if (!token) {
      const std::string refusal = R"(44{"message":"expected a Socket.IO connect packet (40) with {\"token\": \"<api key>\"}"})";
      co_await send(refusal);
      co_return;
    }
    Request with_key;
    with_key.set(http::field::authorization, "Bearer " + *token);
    auto who = co_await authenticate(with_key);
    if (std::holds_alternative<Response>(who)) {
      const std::string refusal = R"(44{"message":"invalid or revoked API key"})";
      co_await send(refusal);
      co_return;
    }
    organization_id = std::get<Identity>(who).organization_id;
    const std::string connected = "40" + json::serialize(json::object{{"sid", events::new_uuid()}});
    if (!co_await send(connected)) co_return;
    using namespace asio::experimental::awaitable_operators;
    co_await (reader() || writer());
    beast::error_code ignored;
    co_await ws.async_close(websocket::close_code::normal, asio::redirect_error(asio::use_awaitable, ignored));
  }
};

asio::awaitable<Response> socket_io(Services& s, Call& call) {
  if (s.feed == nullptr) co_return error_response(http::status::service_unavailable, "event streams are not enabled");
  if (call.query_one("EIO").value_or("") != "4") {
    co_return error_response(http::status::bad_request, "only Engine.IO protocol 4 is served (EIO=4)");
  }
  if (!websocket::is_upgrade(call.request)) {
    co_return error_response(http::status::bad_request,
                             "only the websocket transport is served (transport=websocket, with a WebSocket upgrade)");
  }
  call.takeover = [&s](beast::tcp_stream& stream, Request& req) -> asio::awaitable<void> {
    Session session{s, Socket(std::move(stream)), {}};
    const auto authenticate = api_key_authenticator(s);
    co_await session.run(req, authenticate);
  };
  co_return Response{http::status::ok, 11};
}

}  // namespace

void register_socket_io_routes(Router& r, Services& s) {
  // Authenticated inside the exchange (the connect packet carries the key), not by header.
  r.add({http::verb::get, "/api/socket.io/", "Socket.IO (Engine.IO 4, WebSocket only): sandbox state pushes", false,
         [&s](Call& c) { return socket_io(s, c); }});
}

}  // namespace command_service
