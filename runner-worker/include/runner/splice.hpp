#pragma once
// Bytes both ways between two connected sockets, untouched, until both directions have ended
// (each end's EOF is passed on as a shutdown of sending): the relay of the forwarding endpoint
// and of the SNI gate.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace runner {

boost::asio::awaitable<void> splice(boost::asio::ip::tcp::socket& a, boost::asio::ip::tcp::socket& b);

}  // namespace runner
