#pragma once
// The toolbox's HTTP server: Beast coroutines on one thread, keep-alive, a route table matched
// on method and path ("{name}" segments, events/http/path.hpp), behind the accept loop the API and
// the edge proxy use (events/http/accept.hpp: a limit on connections held at once). A route reads its request body as a string (JSON
// calls), into a temporary file (uploads: never held in memory), or takes the socket over
// (WebSocket, streamed responses). Errors are the daemon's JSON shape, with
// source "DAYTONA_DAEMON" and a specific code (compat spec §5).
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "events/conn_limits.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace daemon_tb {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

enum class BodyKind { text, file, none };  // none: any body is read and ignored

struct Call {
  http::request_header<> header;
  std::string path;                                 // the request target's path, decoded
  std::map<std::string, std::string> params;        // {name} segments
  std::multimap<std::string, std::string> query;    // decoded
  std::string body;                                 // BodyKind::text
  std::string body_file;                            // BodyKind::file: removed after the handler
  tcp::socket* socket = nullptr;
  bool keep_alive = true;
  bool taken_over = false;                          // the handler owns the socket now (WebSocket)
  bool replied = false;                             // the handler streamed its response itself

  std::optional<std::string> arg(const std::string& name) const;
};

struct Reply {
  http::status status = http::status::ok;
  std::string body;  // JSON text, or empty
  std::string content_type = "application/json";
};

Reply json_reply(http::status status, const json::value& body);
// The request body as a JSON object (an empty body is {}); nothing when it is not one.
std::optional<json::object> body_object(const Call& call);
std::string now_iso();  // UTC, seconds
Reply empty_reply(http::status status);
// The daemon's error body: {statusCode, message, code, source, timestamp, path, method}.
Reply error_reply(const Call& call, http::status status, const std::string& code, const std::string& message);

using Handler = std::function<asio::awaitable<Reply>(Call&)>;

struct Route {
  http::verb method;
  std::string pattern;  // "/files/info", "/process/session/{sessionId}"
  BodyKind body = BodyKind::text;
  Handler handler;
};

class Server {
 public:
  Server(asio::io_context& io, const std::string& address, unsigned short port);
  void add(Route route) { routes_.push_back(std::move(route)); }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  void start();

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket, events::ConnectionLimits::Slot slot);
  const Route* match(http::verb method, const std::string& path, std::map<std::string, std::string>& params) const;
  tcp::acceptor acceptor_;
  // The toolbox's clients are the runner and the sandbox's own code: no per-source limit, but
  // not every descriptor of PID 1 either.
  events::ConnectionLimits limits_{events::ConnectionLimitSettings{0, 1024}};
  std::vector<Route> routes_;
};

using WebSocket = beast::websocket::stream<tcp::socket>;
bool is_websocket(const Call& call);
// Takes the call's socket over and answers its upgrade, echoing `subprotocol` when not empty.
// (Pass a named string: g++ 12 destroys temporaries in a co_await expression twice.)
asio::awaitable<std::shared_ptr<WebSocket>> accept_websocket(Call& call, const std::string& subprotocol);

// Writes a reply on a socket the handler took over or streams on.
asio::awaitable<void> write_reply(tcp::socket& socket, const Reply& reply, bool keep_alive);
// %XX escapes; with `form`, '+' is a space too (query strings).
std::string percent_decode(std::string_view text, bool form = false);

}  // namespace daemon_tb
