#pragma once
// What goes into the log and what comes out of it.
#include "events/codec.hpp"
#include "events/ids.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace events {

// Who and why, stored beside each event (jsonb). Empty fields are left out.
struct Metadata {
  std::string event_id;
  std::string correlation_id;
  std::string causation_id;
  std::string actor;
  std::string organization_id;
  std::string idempotency_key;
};
std::string to_json_text(const Metadata& m);
Result<Metadata> parse_metadata(std::string_view json_text);

struct NewEvent {
  EncodedEvent event;
  Metadata metadata;
};

struct RecordedEvent {
  GlobalPosition position;
  std::string stream;  // as stored; StreamName::parse when a valid name is needed
  StreamVersion version;
  std::string type;
  int schema_version = 1;
  std::string data;      // JSON object text
  std::string metadata;  // JSON object text
  std::string routing_key;
  std::string recorded_at;  // ISO-8601, UTC

  std::string category() const { return stream.substr(0, stream.find('-')); }
  // The aggregate's id: what follows the category ("sandbox-<id>"); empty without a '-'.
  std::string stream_id() const {
    const auto dash = stream.find('-');
    return dash == std::string::npos ? std::string() : stream.substr(dash + 1);
  }
  // The envelope published on the bus: every field above, data and metadata as JSON.
  std::string envelope_json() const;
  static Result<RecordedEvent> from_envelope_json(std::string_view text);
};

template <class Variant>
Result<Variant> decode(const RecordedEvent& e) {
  return decode<Variant>(e.type, e.schema_version, e.data);
}

}  // namespace events
