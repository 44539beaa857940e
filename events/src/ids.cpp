#include "events/ids.hpp"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <cctype>
#include <chrono>
#include <cstdint>

namespace events {

Result<std::string> parse_uuid(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorCode::invalid_argument,
                      "'" + std::string(text.substr(0, 64)) + "' is not a UUID");
  };
  if (text.size() != 36) return bad();
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_here) {
      if (out[i] != '-') return bad();
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(out[i]))) return bad();
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  }
  return out;
}

// UUID version 7: 48 bits of Unix milliseconds, then random bits. New ids sort by creation
// time, so the (stream, version) index of the log grows at its right edge instead of taking
// random page writes (which, with full_page_writes, also multiply the WAL).
std::string new_uuid() {
  thread_local boost::uuids::random_generator generator;
  boost::uuids::uuid u = generator();
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  for (int i = 0; i < 6; ++i) u.data[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  u.data[6] = static_cast<std::uint8_t>(0x70 | (u.data[6] & 0x0F));  // version 7
  u.data[8] = static_cast<std::uint8_t>(0x80 | (u.data[8] & 0x3F));  // RFC 4122 variant
  return boost::uuids::to_string(u);
}

Result<StreamName> StreamName::parse(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == text.size()) {
    return make_error(ErrorCode::invalid_argument,
                      "stream name '" + std::string(text) + "' is not <category>-<id>");
  }
  for (char c : text.substr(0, dash)) {
    if (!std::islower(static_cast<unsigned char>(c))) {
      return make_error(ErrorCode::invalid_argument,
                        "stream category in '" + std::string(text) + "' must be lowercase letters");
    }
  }
  for (char c : text.substr(dash + 1)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return make_error(ErrorCode::invalid_argument,
                        "stream id in '" + std::string(text) + "' has a character other than [A-Za-z0-9_-]");
    }
  }
  return StreamName{std::string(text)};
}

std::string_view StreamName::category() const {
  return std::string_view(name_).substr(0, name_.find('-'));
}

std::string_view StreamName::id() const {
  return std::string_view(name_).substr(name_.find('-') + 1);
}

}  // namespace events
