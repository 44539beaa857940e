#include "events/text.hpp"

#include <cstdint>

namespace events::text {

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length (0 when invalid) and the code point.
std::size_t decode(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t n = 0;
  std::uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

std::optional<std::string> problem(std::string_view s, bool multiline) {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const auto n = decode(s, i, cp);
    if (n == 0) return std::string("is not valid UTF-8");
    if (cp == 0) return std::string("contains a NUL character");
    const bool allowed_space = multiline && (cp == '\t' || cp == '\n' || cp == '\r');
    if ((cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) && !allowed_space) {
      return std::string("contains a control character");
    }
    if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
      return std::string("contains a bidirectional override character");
    }
    i += n;
  }
  return std::nullopt;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const auto n = decode(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::optional<std::string> line_problem(std::string_view s) { return problem(s, false); }

bool plain_name(std::string_view s, std::size_t max, std::string_view extra) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    const bool letter_or_digit = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!letter_or_digit && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}
std::optional<std::string> multiline_problem(std::string_view s) { return problem(s, true); }

}  // namespace events::text
