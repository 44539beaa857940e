#pragma once
// Requests from the runner to a sandbox's daemon (its toolbox on 127.0.0.1:2280 inside the
// sandbox), over a socket opened in the sandbox's network namespace (forwarder.hpp).
#include "events/error.hpp"

#include <string>

namespace runner {

inline constexpr unsigned short kDaemonPort = 2280;

// POSTs a JSON `body` to `path` of the daemon of the sandbox whose PID 1 is `pid`; an error
// names the status and the daemon's answer when it is not 2xx.
events::Result<void> post_to_daemon(int pid, const std::string& path, const std::string& body);

}  // namespace runner
