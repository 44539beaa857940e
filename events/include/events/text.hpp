#pragma once
// Checks of text that comes from users before it reaches PostgreSQL, a log line or a file name.
#include <optional>
#include <string>
#include <string_view>

namespace events::text {

bool valid_utf8(std::string_view s);
// What is wrong with `s` as one line of text: not UTF-8, a NUL or another control character,
// or a bidirectional override (U+202A-U+202E, U+2066-U+2069) that makes text read differently
// from what it is. Nothing when it is fine.
std::optional<std::string> line_problem(std::string_view s);
// The same for a field that may hold several lines (tab, CR and LF allowed).
std::optional<std::string> multiline_problem(std::string_view s);
// 1 to `max` characters, each an ASCII letter, a digit or one of `extra` (names, tags, references).
bool plain_name(std::string_view s, std::size_t max, std::string_view extra);

}  // namespace events::text
