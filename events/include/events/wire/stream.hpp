#pragma once
// SSH gateway ↔ sandbox daemon: one process as a byte stream (GET /process/stream, upgraded to
// "sandbox-stream"). After the 101 both sides send frames: a type byte, the payload's length
// (4 bytes, big-endian, at most kMaxPayload) and the payload. Not a WebSocket: the gateway reads
// frames inside libssh's poll loop from a socket that must never block, which a buffered
// WebSocket reader cannot promise. Header-only: the static daemon includes it too.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace events::wire::stream {

inline constexpr std::string_view kUpgrade = "sandbox-stream";
inline constexpr std::uint32_t kMaxPayload = 1u << 20;

enum class Frame : std::uint8_t {
  input = 0,   // gateway → daemon: stdin (or the terminal's input)
  output = 1,  // daemon → gateway: stdout (or the terminal's output)
  error = 2,   // daemon → gateway: stderr
  exit = 3,    // daemon → gateway: {"exitCode":n[,"signal":"TERM"]}, the last frame
  eof = 4,     // gateway → daemon: no more input
  resize = 5,  // gateway → daemon: {"cols":c,"rows":r}
  signal = 6,  // gateway → daemon: a signal's name without SIG ("INT")
};

inline std::string frame(Frame type, std::string_view payload) {
  std::string out;
  out.reserve(5 + payload.size());
  out += static_cast<char>(type);
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
  out.append(payload);
  return out;
}

// Frames out of a byte stream as it arrives.
class Reader {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next whole frame, if one is in; a length past kMaxPayload or an unknown type fails the stream.
  std::optional<std::pair<Frame, std::string>> next() {
    if (failed_ || buffer_.size() < 5) return std::nullopt;
    const auto type = static_cast<std::uint8_t>(buffer_[0]);
    std::uint32_t n = 0;
    for (int i = 1; i <= 4; ++i) n = (n << 8) | static_cast<std::uint8_t>(buffer_[static_cast<std::size_t>(i)]);
    if (type > static_cast<std::uint8_t>(Frame::signal) || n > kMaxPayload) {
      failed_ = true;
      return std::nullopt;
    }
    if (buffer_.size() < 5 + std::size_t{n}) return std::nullopt;
    std::pair<Frame, std::string> out{static_cast<Frame>(type), buffer_.substr(5, n)};
    buffer_.erase(0, 5 + std::size_t{n});
    return out;
  }
  bool failed() const { return failed_; }

 private:
  std::string buffer_;
  bool failed_ = false;
};

}  // namespace events::wire::stream
