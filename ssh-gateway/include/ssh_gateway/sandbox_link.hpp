#pragma once
// A connection into a sandbox, made the way the edge proxy and the API make theirs: to the
// runner's forwarding endpoint, `CONNECT <sandbox>:<port>` with the forwarding key (derived from
// the admin key), then the port's own bytes. For the daemon's port it is then upgraded to one
// process's stream (GET /process/stream, events/wire/stream.hpp). Blocking to set up; afterwards
// the session reads it without blocking (fd()) and writes to it with send().
#include "events/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace ssh_gateway {

struct Terminal {
  std::string term = "xterm-256color";
  int cols = 80;
  int rows = 24;
};

struct ProcessSpec {
  std::optional<std::string> command;  // none: a login shell
  std::optional<Terminal> terminal;    // none: pipes
  std::map<std::string, std::string> env;
};

class SandboxLink {
 public:
  static events::Result<std::unique_ptr<SandboxLink>> open(const std::string& runner_endpoint,
                                                           const std::string& forward_key, const std::string& sandbox,
                                                           int port);
  // On a link to the daemon's port: starts the process; the daemon's message when it refuses.
  events::Result<void> start_process(const ProcessSpec& spec);
  int fd() { return socket_.native_handle(); }
  // Bytes that came after the last answer's head (the stream's first frames, or the port's first bytes).
  std::string take_leftover() { return std::move(leftover_); }
  // Writes all of `bytes` (blocking); false when the connection is gone.
  bool send(const std::string& bytes);

 private:
  SandboxLink() : socket_(io_) {}
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::string leftover_;
};

}  // namespace ssh_gateway
