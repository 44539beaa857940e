// libFuzzer target for what the sandbox daemon reads from a toolbox call: multipart uploads (the
// body as the daemon reads it back from its temp file), the boundary of the Content-Type, and
// the terminal's Sec-WebSocket-Protocol header with its base64 env.
#include "daemon/multipart.hpp"
#include "daemon/pty_headers.hpp"

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
