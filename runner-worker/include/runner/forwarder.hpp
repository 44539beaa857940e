#pragma once
// The runner's forwarding endpoint (RUNNER_ENDPOINT, loopback): how the edge proxy reaches a
// port inside a sandbox. The proxy opens a TCP connection and asks, HTTP CONNECT style,
//   CONNECT <sandbox id>:<port> HTTP/1.1
//   Proxy-Authorization: Bearer <forwarding key>   (events::tokens::forward_key of the admin key)
// and after "200 Connection established" the bytes flow both ways untouched, so HTTP, keep-alive
// and WebSocket pass alike. The socket to the sandbox is opened inside its network namespace
// (setns on a thread of our own, connect to 127.0.0.1:<port>, setns back): sandboxes need no
// addresses of their own and their ports are reachable from nowhere else.
#include "events/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace runner {

class Forwarder {
 public:
  // `pid_of(sandbox id)`: the host pid of the sandbox's PID 1, or 0 when it is not running.
  // `key`: what every client must send as Proxy-Authorization: Bearer <key> (407 otherwise).
  Forwarder(const std::string& address, unsigned short port, std::string key,
            std::function<int(const std::string&)> pid_of);
  ~Forwarder();
  unsigned short port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
};

// Connects to 127.0.0.1:`port` inside the network namespace of process `pid`: the connected
// socket's descriptor, or an error that says why.
events::Result<int> connect_in_namespace(int pid, unsigned short port);

}  // namespace runner
