// libFuzzer target for what the sandbox daemon reads from a toolbox call: multipart uploads (the
// body as the daemon reads it back from its temp file), the boundary of the Content-Type, and
// the terminal's Sec-WebSocket-Protocol header with its base64 env; and the process stream's
// frames (events/wire/stream.hpp), which the daemon reads from the SSH gateway and the gateway
// reads from whatever answers on a sandbox's daemon port, fed in pieces as a socket gives them.
#include "daemon/multipart.hpp"
#include "daemon/pty_headers.hpp"
#include "events/wire/stream.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(bytes), size);
  (void)daemon_tb::multipart_boundary(text);
  (void)daemon_tb::envs_from_protocols(daemon_tb::split_protocols(text));
  {
    events::wire::stream::Reader reader;
    std::size_t at = 0;
    std::size_t step = 1;
    std::size_t payload = 0;
    while (at < text.size() && !reader.failed()) {
      reader.feed(std::string_view(text).substr(at, step));
      at += step;
      step = step * 3 % 17 + 1;
      while (auto f = reader.next()) payload += f->second.size();
    }
    if (payload > text.size()) __builtin_trap();  // a frame cannot hold more than came in
  }
  // Multipart: the first line is the boundary, the rest the body.
  const auto nl = text.find('\n');
  if (nl != std::string::npos && nl > 0 && nl < 80) {
    static const std::string file = "/tmp/daemon_input_fuzz." + std::to_string(getpid());
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << text.substr(nl + 1);
    }
    std::size_t parts = 0;
    (void)daemon_tb::read_multipart(file, text.substr(0, nl), [&](const daemon_tb::PartHeaders&) {
      ++parts;
      return daemon_tb::PartSink{[](std::string_view) { return true; }, [] {}};
    });
    std::remove(file.c_str());
  }
  return 0;
}
