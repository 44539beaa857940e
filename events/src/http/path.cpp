#include "events/http/path.hpp"

#include "events/url.hpp"

namespace events::http {

namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    if (!part.empty()) out.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::optional<std::string_view> parameter_name(std::string_view segment) {
  if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
    return segment.substr(1, segment.size() - 2);
  }
  return std::nullopt;
}

}  // namespace

std::optional<PathMatch> match_path(std::string_view pattern, std::string_view path) {
  const auto want = segments(pattern);
  const auto got = segments(path);
  if (want.size() != got.size()) return std::nullopt;
  PathMatch out;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (const auto name = parameter_name(want[i])) {
      auto decoded = url::decode(got[i]);
      if (!decoded && out.malformed.empty()) out.malformed = std::string(*name);
      out.params[std::string(*name)] = decoded ? std::move(*decoded) : std::string(got[i]);
    } else if (want[i] != got[i]) {
      return std::nullopt;
    }
  }
  return out;
}

std::vector<std::string> path_parameters(std::string_view pattern) {
  std::vector<std::string> out;
  for (const auto segment : segments(pattern)) {
    if (const auto name = parameter_name(segment)) out.emplace_back(*name);
  }
  return out;
}

}  // namespace events::http
