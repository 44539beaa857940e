#pragma once
// The platform's one blocking HTTP/1.1 client (Boost.Beast): a request on a connected stream,
// answered as a value, and a client that keeps its connection to one endpoint between calls.
// Used by the runner (the API; a sandbox daemon through its netns socket), the API (a daemon
// through a runner's forwarding endpoint) and the tests. (The edge proxy's calls are its own:
// asynchronous, on its io_context; it keeps its connections and retries a stale one the same way.)
#include "events/error.hpp"
#include "events/url.hpp"

#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace events::http {

struct Request {
  std::string method = "GET";
  std::string target = "/";
  std::map<std::string, std::string> headers;  // Host defaults to the endpoint's
  std::string body;                            // sent as application/json unless headers say otherwise
  bool keep_alive = true;
};

struct Reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  bool keep_alive = false;  // the server keeps the connection
};

// Writes `request` on `stream` and reads the answer (a body of at most `body_limit` bytes). An I/O
// failure is `unavailable`, saying which step failed.
Result<Reply> exchange(boost::beast::tcp_stream& stream, const Request& request,
                       std::size_t body_limit = std::size_t{64} << 20);

// One connection to host:port, kept between calls and made again when the server closed it (a
// call on a connection gone stale is retried once on a new one, so a request sent this way must be
// safe to repeat: the runner's are — register, heartbeat, look-ups). Not thread-safe: one per
// thread.
class Client {
 public:
  Client(url::Endpoint endpoint, std::chrono::milliseconds timeout);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  // `target` is appended to the endpoint's path.
  Result<Reply> call(Request request);

 private:
  struct Connection;
  url::Endpoint endpoint_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace events::http
