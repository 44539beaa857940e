#pragma once
// Route patterns, one way for every server (the API's router, the sandbox daemon's): a pattern is
// a path whose "{name}" segments are parameters ("/api/sandbox/{sandboxIdOrName}/start"). Empty
// segments count for nothing ("//a/" is "/a"). Pure; fuzzed with the API's input.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace events::http {

struct PathMatch {
  std::map<std::string, std::string> params;  // percent-decoded (events/url.hpp)
  // The first parameter whose escapes are malformed (its value is then the raw segment); empty
  // when all decoded. A server answers 400 naming it, or takes the raw text: its choice.
  std::string malformed;
};

// The parameters when `path` fits `pattern`; nothing when it does not.
std::optional<PathMatch> match_path(std::string_view pattern, std::string_view path);

// The parameter names of a pattern, in order (for the OpenAPI document).
std::vector<std::string> path_parameters(std::string_view pattern);

}  // namespace events::http
