#include "events/published/contract.hpp"

namespace events::published {

bool is_type(std::string_view type) {
  for (auto t : kTypes) {
    if (t == type) return true;
  }
  return false;
}

std::string contract_time(std::string_view recorded_at) {
  // "YYYY-MM-DDTHH:MM:SS.ffffffZ" → milliseconds; anything else as it came.
  if (recorded_at.size() >= 24 && recorded_at[19] == '.' && recorded_at.back() == 'Z') {
    return std::string(recorded_at.substr(0, 23)) + "Z";
  }
  return std::string(recorded_at);
}

boost::json::object to_cloudevent(const PublicEvent& e, std::string_view source) {
  return boost::json::object{{"specversion", "1.0"},
                             {"id", e.id},
                             {"source", source},
                             {"type", e.type},
                             {"subject", e.subject},
                             {"time", e.time},
                             {"datacontenttype", "application/json"},
                             {"dataschema", "urn:sandbox-platform:events:v" + std::string(kVersion) + ":" + e.type},
                             {"data", e.data}};
}

Result<std::set<std::string>> parse_types(std::string_view list) {
  std::set<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = std::min(list.find(',', start), list.size());
    const auto t = list.substr(start, comma - start);
    if (!is_type(t)) {
      std::string known;
      for (auto k : kTypes) known += (known.empty() ? "" : ", ") + std::string(k);
      return make_error(ErrorCode::invalid_argument,
                        "'" + std::string(t) + "' is not a public event type (the types are " + known + ")");
    }
    out.emplace(t);
    start = comma + 1;
  }
  return out;
}

}  // namespace events::published
