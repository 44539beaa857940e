#pragma once
// Helpers shared by the models.
#include "events/catalogue.hpp"
#include "projector/read_model.hpp"

#include <pqxx/pqxx>

namespace projector::models {

inline std::string json_text(const events::StringMap& m) {
  return boost::json::serialize(boost::json::value_from(m));
}

template <class T>
std::string json_of(const T& v) {
  return boost::json::serialize(boost::json::value_from(v));
}

// Organization of an event: from its metadata (commands record it there).
inline std::string organization_of(const events::RecordedEvent& e) {
  auto meta = events::parse_metadata(e.metadata);
  return meta ? meta->organization_id : std::string();
}

inline std::optional<std::string> optional_text(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

}  // namespace projector::models
