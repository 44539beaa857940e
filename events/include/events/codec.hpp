#pragma once
// Turns catalogue events into stored payloads and back. Old schema versions are upcast, one
// version step at a time, before conversion, so deciders only ever see the current shape.
#include "events/error.hpp"
#include "events/json.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/mp11/algorithm.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace events {

struct EncodedEvent {
  std::string type;
  int schema_version = 1;
  std::string data;  // JSON object text
};

template <class Event>
EncodedEvent encode_one(const Event& e) {
  return EncodedEvent{std::string(Event::kType), Event::kVersion, to_json_text(e)};
}

template <class Variant>
EncodedEvent encode(const Variant& event) {
  return std::visit([](const auto& e) { return encode_one(e); }, event);
}

template <class Variant>
std::string_view type_of(const Variant& event) {
  return std::visit([](const auto& e) -> std::string_view { return std::decay_t<decltype(e)>::kType; },
                    event);
}

// Rewrites a payload of `type` at `from_version` into `from_version + 1`. Returns false when no
// upcaster is registered for that step.
bool upcast_step(std::string_view type, int from_version, boost::json::object& payload);

// The alternatives of `Variant` as tags (mp_for_each would default-construct every event type
// on every call otherwise).
template <class Variant>
using tags_of = boost::mp11::mp_transform<boost::mp11::mp_identity, Variant>;

template <class Variant>
bool is_known_type(std::string_view type) {
  bool known = false;
  boost::mp11::mp_for_each<tags_of<Variant>>([&](auto tag) { known |= decltype(tag)::type::kType == type; });
  return known;
}

template <class Variant>
Result<Variant> decode(std::string_view type, int schema_version, std::string_view data) {
  std::optional<Result<Variant>> out;
  boost::mp11::mp_for_each<tags_of<Variant>>([&](auto tag) {
    using Event = typename decltype(tag)::type;
    if (out || Event::kType != type) return;
    const std::string what = std::string(type) + " v" + std::to_string(schema_version);
    if (schema_version > Event::kVersion) {
      out = make_error(ErrorCode::decode_failed,
                       what + " was written by a newer version (this build reads up to v" +
                           std::to_string(Event::kVersion) + ")");
      return;
    }
    // The parsed payload lives only until it is converted: its memory comes from one buffer
    // (on the stack for a usual event), not from an allocation per value.
    unsigned char buffer[4096];
    boost::json::monotonic_resource memory(buffer, sizeof buffer);
    boost::system::error_code ec;
    auto jv = boost::json::parse(data, ec, &memory);
    if (ec || !jv.is_object()) {
      out = make_error(ErrorCode::decode_failed, what + ": payload is not a JSON object");
      return;
    }
    for (int v = schema_version; v < Event::kVersion; ++v) {
      if (!upcast_step(type, v, jv.as_object())) {
        out = make_error(ErrorCode::decode_failed,
                         what + ": no upcaster from v" + std::to_string(v));
        return;
      }
    }
    auto event = from_json<Event>(jv, what);
    if (!event) {
      out = event.error();
      return;
    }
    out = Variant{std::move(*event)};
  });
  if (!out) {
    return make_error(ErrorCode::decode_failed, "unknown event type '" + std::string(type) + "'");
  }
  return std::move(*out);
}

}  // namespace events
