// libFuzzer target for everything that reads untrusted bytes in events/: bus envelopes,
// event payloads of every type and version, metadata, ids and stream names.
#include "events/catalogue.hpp"
#include "events/store/recorded_event.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

template <class Variant>
void decode_nth(std::size_t n, int version, std::string_view data) {
  std::size_t i = 0;
  boost::mp11::mp_for_each<Variant>([&](auto tag) {
    if (i++ == n % std::variant_size_v<Variant>) {
      auto decoded = events::decode<Variant>(decltype(tag)::kType, version, data);
      if (decoded) (void)events::encode(*decoded);  // what decodes must encode again
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  if (auto envelope = events::RecordedEvent::from_envelope_json(text)) {
    (void)events::decode<events::SandboxEvent>(*envelope);
    (void)events::parse_metadata(envelope->metadata);
    (void)envelope->envelope_json();
  }
  (void)events::parse_uuid(text);
  (void)events::StreamName::parse(text);
  if (size >= 2) {
    const std::string_view payload = text.substr(2);
    const int version = bytes[1] % 4;
    switch (bytes[0] % 5) {
      case 0: decode_nth<events::SandboxEvent>(bytes[0] / 5, version, payload); break;
      case 1: decode_nth<events::SnapshotEvent>(bytes[0] / 5, version, payload); break;
      case 2: decode_nth<events::VolumeEvent>(bytes[0] / 5, version, payload); break;
      case 3: decode_nth<events::RunnerEvent>(bytes[0] / 5, version, payload); break;
      default: decode_nth<events::OrganizationEvent>(bytes[0] / 5, version, payload); break;
    }
  }
  return 0;
}
