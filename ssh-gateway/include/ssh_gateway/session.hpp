#pragma once
// One SSH connection, from key exchange to disconnect, on its own thread (libssh: one session,
// its channels and its event loop belong to one thread). The user name is the access token: the
// `none` method or any public key is accepted only together with a token the platform says is
// active, and failures count against the source address (throttle.hpp). Session channels run
// one process each in the sandbox through the daemon's process stream (sandbox_link.hpp): a
// shell or a command, with a terminal when the client asked for one, `sftp` as the sandbox's
// sftp-server; `direct-tcpip` channels (ssh -L) are tunnels to a port inside the sandbox.
#include "ssh_gateway/platform.hpp"
#include "ssh_gateway/settings.hpp"
#include "ssh_gateway/throttle.hpp"

#include <string>

struct ssh_session_struct;

namespace ssh_gateway {

// What every session shares.
struct Gateway {
  Settings settings;
  Platform platform;
  Throttle throttle;
  std::string forward_key;  // what runners ask of a connection into a sandbox
};

// Runs an accepted connection to its end and frees it.
void serve_session(ssh_session_struct* session, Gateway& gateway, const std::string& source);

}  // namespace ssh_gateway
