#include "events/redact.hpp"

#include <boost/json.hpp>

namespace events {

std::string redacted_data(std::string_view type, const std::string& data) {
  if (type != "ApiKeyCreated") return data;
  boost::system::error_code ec;
  auto v = boost::json::parse(data, ec);
  if (ec || !v.is_object()) return "{}";
  v.as_object().erase("key_hash");
  return boost::json::serialize(v);
}

}  // namespace events
