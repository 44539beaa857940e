// libFuzzer target for what code inside a sandbox (and an upstream resolver) sends the runner:
// DNS messages the resolver parses with ldns (a query, an answer, the refusal made from a query)
// and the TLS ClientHello the SNI gate reads.
#include "runner/net_dns.hpp"
#include "runner/net_sni.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  (void)runner::net::read_query(data);
  (void)runner::net::read_answer(data);
  (void)runner::net::refusal(data);
  (void)runner::net::read_sni(data);
  return 0;
}
