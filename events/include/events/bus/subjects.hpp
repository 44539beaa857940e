#pragma once
// How events map to NATS subjects: ev.<category>.<routing key or _>.<stream id>.<type>.
// A runner subscribes to ev.sandbox.<its id>.> and sees only its own sandboxes.
#include "events/store/event_store.hpp"

#include <string>

namespace events::bus {

inline constexpr const char* kNoRoutingKey = "_";

// NATS subject tokens may not contain '.', '*', '>' or white space; those become '_'.
std::string subject_token(std::string_view text);
std::string subject_for(const RecordedEvent& event);
// The subject filter that matches what `filter` selects in the store.
std::string filter_subject(const ReadFilter& filter);

}  // namespace events::bus
