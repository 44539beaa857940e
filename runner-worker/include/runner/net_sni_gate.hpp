#pragma once
// The SNI gate: where TCP 443 of a sandbox whose policy names domains is redirected (nft dnat
// to the resolver's address, port net::kSniGatePort). It reads the TLS ClientHello's server name,
// asks Network::allows_tls about the connection's original destination and that name, and then
// either closes it or connects there itself (marked, so it leaves as the sandbox's traffic
// does) and passes the bytes both ways untouched: no TLS is terminated, no certificate needed.
// What it does not see it refuses: no ClientHello in 5 s, one over several records, none at all.
#include "runner/network.hpp"

#include <memory>

namespace runner {

class SniGate {
 public:
  explicit SniGate(Network& network);
  ~SniGate();
  SniGate(const SniGate&) = delete;
  SniGate& operator=(const SniGate&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace runner
