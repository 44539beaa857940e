#include "events/ids.hpp"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <cctype>

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

std::string new_uuid() {
  thread_local boost::uuids::random_generator generator;
  return boost::uuids::to_string(generator());
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
