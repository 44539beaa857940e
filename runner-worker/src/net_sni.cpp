#include "runner/net_sni.hpp"

#include "events/network_policy.hpp"

#include <cstdint>

namespace runner::net {

namespace {

// A cursor over the ClientHello that fails (empty) instead of reading past its end.
struct Reader {
  std::string_view data;
  bool ok = true;
  std::uint32_t number(int bytes) {
    if (!ok || data.size() < static_cast<std::size_t>(bytes)) {
      ok = false;
      return 0;
    }
    std::uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data[static_cast<std::size_t>(i)]);
    data.remove_prefix(static_cast<std::size_t>(bytes));
    return v;
  }
  std::string_view take(std::size_t n) {
    if (!ok || data.size() < n) {
      ok = false;
      return {};
    }
    auto out = data.substr(0, n);
    data.remove_prefix(n);
    return out;
  }
};

Sni none() { return Sni{Sni::Status::none, {}}; }

}  // namespace

Sni read_sni(std::string_view bytes) {
  if (bytes.size() < 5) return Sni{};
  Reader record{bytes};
  if (record.number(1) != 0x16) return none();  // not a handshake record
  record.number(2);
  const auto length = record.number(2);
  if (length == 0 || length > 16384 + 2048) return none();
  if (record.data.size() < length) return Sni{};
  Reader hello{record.take(length)};
  if (hello.number(1) != 0x01) return none();  // not a ClientHello
  const auto body = hello.number(3);
  if (body > hello.data.size()) return none();  // a ClientHello over several records: not taken
  hello.data = hello.data.substr(0, body);
  hello.take(2 + 32);                 // version, random
  hello.take(hello.number(1));        // session id
  hello.take(hello.number(2));        // cipher suites
  hello.take(hello.number(1));        // compression methods
  Reader extensions{hello.take(hello.number(2))};
  if (!hello.ok) return none();
  while (extensions.ok && !extensions.data.empty()) {
    const auto type = extensions.number(2);
    Reader ext{extensions.take(extensions.number(2))};
    if (!extensions.ok) break;
    if (type != 0) continue;
    Reader list{ext.take(ext.number(2))};
    while (list.ok && !list.data.empty()) {
      const auto kind = list.number(1);
      const auto name = list.take(list.number(2));
      if (!list.ok) break;
      if (kind != 0) continue;
      auto normalized = events::network::normalize_name(name);
      if (normalized.empty()) return none();
      return Sni{Sni::Status::name, std::move(normalized)};
    }
    return none();
  }
  return none();
}

}  // namespace runner::net
