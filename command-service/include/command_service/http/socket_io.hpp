#pragma once
// The Socket.IO exchange of compat spec §7 (socket_io.cpp): what it reads from a client is
// parsed here, purely (unit-tested and fuzzed).
#include <optional>
#include <string>
#include <string_view>

namespace command_service {

// The API key of a Socket.IO connect packet, 40{"token":"..."} (or 40/ns,{...}): empty when the
// packet carries none; nothing when it is not a connect packet.
std::optional<std::string> socket_io_connect_token(std::string_view packet);

}  // namespace command_service
