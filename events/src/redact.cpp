#include "events/redact.hpp"

#include <boost/json.hpp>

namespace events {

namespace {

// The fields of a type that no client may see.
std::string_view secret_field(std::string_view type) {
  if (type == "ApiKeyCreated") return "key_hash";
  if (type == "SshAccessGranted") return "token_hash";
  if (type == "WebhookEndpointCreated" || type == "WebhookEndpointSecretRotated") return "secret";
  return {};
}

}  // namespace

std::string redacted_data(std::string_view type, const std::string& data) {
  const auto field = secret_field(type);
  if (field.empty()) return data;
  boost::system::error_code ec;
  auto v = boost::json::parse(data, ec);
  if (ec || !v.is_object()) return "{}";
  v.as_object().erase(field);
  return boost::json::serialize(v);
}

}  // namespace events
