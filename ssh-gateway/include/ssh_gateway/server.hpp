#pragma once
// The gateway's listener: its host key (made on first start, ed25519, mode 0600), the bound
// address, and a thread per accepted connection (session.hpp), at most settings.max_sessions.
#include "ssh_gateway/session.hpp"

#include <atomic>

namespace ssh_gateway {

// Makes the host key at `path` when there is none (and its directory, mode 0700).
events::Result<void> ensure_host_key(const std::string& path);

// Accepts until `stop` is set (checked between connections); an error when it cannot listen.
events::Result<void> serve(Gateway& gateway, const std::atomic<bool>& stop);

}  // namespace ssh_gateway
