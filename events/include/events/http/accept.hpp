#pragma once
// The accept loop of every server that faces clients (the API, the edge proxy): each accepted
// connection is admitted by the connection limits (conn_limits.hpp) and served on a strand of its
// own; one past a limit gets a short JSON answer (429 per source, 503 in all, with Retry-After)
// without its request being read; a failed accept (out of descriptors) waits 100 ms instead of
// spinning and is reported (to `warn`) at most every 10 s. Ends when the acceptor is closed.
// No logging library of its own: the static sandbox daemon uses this loop too.
#include "events/conn_limits.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string>

namespace events::http {

using Serve = std::function<boost::asio::awaitable<void>(boost::asio::ip::tcp::socket socket,
                                                         ConnectionLimits::Slot slot, std::string remote)>;

using Warn = std::function<void(const std::string& message)>;

// `what` names the server in refusals and warnings ("the API", "the proxy", "the toolbox").
boost::asio::awaitable<void> accept_connections(boost::asio::ip::tcp::acceptor& acceptor, ConnectionLimits& limits,
                                                Serve serve, std::string what, Warn warn = {});

}  // namespace events::http
