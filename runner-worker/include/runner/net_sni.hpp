#pragma once
// The server name a TLS client asks for (SNI), read from the first record of a connection: how the
// SNI gate (net_sni_gate.hpp) tells apart two names served from one address.
#include <optional>
#include <string>
#include <string_view>

namespace runner::net {

struct Sni {
  enum class Status { more, name, none };  // more: the record is not complete yet
  Status status = Status::more;
  std::string name;  // normalized; set when status is name
};

// `bytes`: what the client sent so far. `none`: not a TLS ClientHello, or one without a server name.
Sni read_sni(std::string_view bytes);

}  // namespace runner::net
