#pragma once
// What a terminal's WebSocket upgrade carries in Sec-WebSocket-Protocol (compat spec §3.3): the
// subprotocols offered, and the env the SDK packs into one of them
// ("X-Daytona-Pty-Envs~<base64url of a JSON object>"). Pure; unit-tested and fuzzed.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace daemon_tb {

inline constexpr const char* kEnvsPrefix = "X-Daytona-Pty-Envs~";

// "a, b,c" → {"a", "b", "c"} (blanks around each trimmed, empty ones dropped).
std::vector<std::string> split_protocols(std::string_view header);
// The env of the envs subprotocol (none offered: empty), or nothing when it is not a JSON object
// in base64url.
std::optional<std::map<std::string, std::string>> envs_from_protocols(const std::vector<std::string>& offered);

}  // namespace daemon_tb
