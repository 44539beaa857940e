#pragma once
// Reading fields of the JSON the runner gets (the API's DTOs, image configs): a missing or
// mistyped field is the fallback, not an exception.
#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace runner {

inline std::string text(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline int number(const boost::json::object& o, std::string_view key, int fallback) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_int64() ? static_cast<int>(v->as_int64()) : fallback;
}

inline std::vector<std::string> strings(const boost::json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* v = o.if_contains(key); v != nullptr && v->is_array()) {
    for (const auto& s : v->as_array()) {
      if (s.is_string()) out.emplace_back(s.as_string());
    }
  }
  return out;
}

}  // namespace runner
