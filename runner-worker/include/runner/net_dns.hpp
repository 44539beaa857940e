#pragma once
// The little of DNS the resolver needs (net_resolver.cpp), parsed by ldns: a query's name, and an
// answer's IPv4 addresses with the smallest TTL; and a refusal (NXDOMAIN) for a query. Messages
// come from the sandbox and from upstream alike, so anything malformed is simply not understood.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runner::net {

struct Question {
  std::string name;  // normalized (lowercase, no trailing dot)
  std::uint16_t type = 0;
};

// The first question of a query; none when the bytes are not one DNS query.
std::optional<Question> read_query(std::string_view message);

struct Answer {
  std::vector<std::uint32_t> addresses;  // A records, host order
  std::uint32_t ttl = 0;                 // the smallest among them
};
std::optional<Answer> read_answer(std::string_view message);

// The query answered with NXDOMAIN (the same id and question); empty when it cannot be read.
std::string refusal(std::string_view query);

}  // namespace runner::net
