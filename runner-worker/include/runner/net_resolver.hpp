#pragma once
// The sandboxes' DNS resolver (UDP and TCP, on the pool's first address): a forwarder that judges every
// name by the asking sandbox's policy layers (events::network::name_verdict) before asking
// upstream. A refused name gets NXDOMAIN and is never looked up; the IPv4 addresses of an answer
// for a name on a domain allow list are opened in the packet filter for the answer's TTL (at
// least kMinOpenSeconds) before the answer is passed back, so the sandbox's first connection finds
// them open. The sandbox is known by the query's source address (the veth's rp_filter and the
// chain's source check keep it honest).
#include "runner/network.hpp"

#include <memory>

namespace runner {

class Resolver {
 public:
  static constexpr std::uint32_t kMinOpenSeconds = 5;
  explicit Resolver(Network& network);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace runner
