#include "events/store/recorded_event.hpp"

namespace events {
namespace json = boost::json;

namespace {

void put_if(json::object& o, const char* key, const std::string& value) {
  if (!value.empty()) o[key] = value;
}

std::string get_string(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->as_string());
}

std::string quoted(std::string_view s) { return json::serialize(json::string_view(s.data(), s.size())); }

}  // namespace

std::string to_json_text(const Metadata& m) {
  json::object o;
  put_if(o, "event_id", m.event_id);
  put_if(o, "correlation_id", m.correlation_id);
  put_if(o, "causation_id", m.causation_id);
  put_if(o, "actor", m.actor);
  put_if(o, "organization_id", m.organization_id);
  put_if(o, "idempotency_key", m.idempotency_key);
  return json::serialize(o);
}

Result<Metadata> parse_metadata(std::string_view text) {
  boost::system::error_code ec;
  auto jv = json::parse(text, ec);
  if (ec || !jv.is_object()) return make_error(ErrorCode::decode_failed, "metadata is not a JSON object");
  const auto& o = jv.as_object();
  return Metadata{get_string(o, "event_id"),        get_string(o, "correlation_id"),
                  get_string(o, "causation_id"),    get_string(o, "actor"),
                  get_string(o, "organization_id"), get_string(o, "idempotency_key")};
}

std::string RecordedEvent::envelope_json() const {
  std::string out;
  out.reserve(data.size() + metadata.size() + stream.size() + 200);
  out += "{\"position\":";
  out += std::to_string(position.value());
  out += ",\"stream\":";
  out += quoted(stream);
  out += ",\"version\":";
  out += std::to_string(version.value());
  out += ",\"type\":";
  out += quoted(type);
  out += ",\"schema_version\":";
  out += std::to_string(schema_version);
  out += ",\"routing_key\":";
  out += quoted(routing_key);
  out += ",\"recorded_at\":";
  out += quoted(recorded_at);
  out += ",\"data\":";
  out += data;
  out += ",\"metadata\":";
  out += metadata;
  out += '}';
  return out;
}

Result<RecordedEvent> RecordedEvent::from_envelope_json(std::string_view text) {
  auto bad = [](std::string why) { return make_error(ErrorCode::decode_failed, "envelope: " + why); };
  boost::system::error_code ec;
  auto jv = json::parse(text, ec);
  if (ec) return bad("not JSON (" + ec.message() + ")");
  const auto* o = jv.if_object();
  if (o == nullptr) return bad("not a JSON object");
  const auto* position = o->if_contains("position");
  const auto* version = o->if_contains("version");
  const auto* schema_version = o->if_contains("schema_version");
  const auto* data = o->if_contains("data");
  const auto* metadata = o->if_contains("metadata");
  if (position == nullptr || !position->is_int64() || position->as_int64() < 1) {
    return bad("position missing or not a positive integer");
  }
  if (version == nullptr || !version->is_int64()) return bad("version missing");
  if (schema_version == nullptr || !schema_version->is_int64()) return bad("schema_version missing");
  if (data == nullptr || !data->is_object()) return bad("data missing or not an object");
  if (metadata == nullptr || !metadata->is_object()) return bad("metadata missing or not an object");
  RecordedEvent e;
  e.position = GlobalPosition{position->as_int64()};
  e.stream = get_string(*o, "stream");
  e.version = StreamVersion{version->as_int64()};
  e.type = get_string(*o, "type");
  e.schema_version = static_cast<int>(schema_version->as_int64());
  e.routing_key = get_string(*o, "routing_key");
  e.recorded_at = get_string(*o, "recorded_at");
  e.data = json::serialize(*data);
  e.metadata = json::serialize(*metadata);
  if (e.stream.empty() || e.type.empty()) return bad("stream or type missing");
  return e;
}

}  // namespace events
