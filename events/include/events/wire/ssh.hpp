#pragma once
// API ↔ SSH gateway (admin route POST /api/proxy/ssh-access): the token a client gave as its SSH
// user name, and, when it is active, the sandbox it opens with where that sandbox runs. Built by
// the command-service (ssh_routes.cpp), decoded strictly by the gateway (ssh-gateway/).
#include "events/wire/proxy.hpp"

namespace events::wire {

struct SshAccessRequest {
  std::string token;
  std::string source;  // the client's address (failed authentications are counted by it)
};
BOOST_DESCRIBE_STRUCT(SshAccessRequest, (), (token, source))

struct SshAccessGrant {
  SandboxPlacement sandbox;
  std::int64_t expires_at_ms = 0;
};
BOOST_DESCRIBE_STRUCT(SshAccessGrant, (), (sandbox, expires_at_ms))

}  // namespace events::wire
