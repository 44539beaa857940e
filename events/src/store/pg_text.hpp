#pragma once
// PostgreSQL's text forms, as the store reads them (private to src/store).
#include <string>
#include <string_view>

namespace events::pg_text {

// The log's columns as a RecordedEvent takes them, in its order. recorded_at comes as
// PostgreSQL's own text of a UTC timestamp (the store's connections set DateStyle ISO):
// to_char() with a format cost PostgreSQL about 1 µs a row, a third of a replay's read.
inline constexpr const char* kEventColumns =
    "position, stream, version, type, schema_version, data::text, metadata::text, routing_key, "
    "recorded_at at time zone 'UTC'";

// "2026-12-02 10:22:08.1234" (trailing zeros of the fraction left out, none when whole) →
// "2026-12-02T10:22:08.123400Z", the form every event carries.
std::string iso_utc(std::string_view pg);

}  // namespace events::pg_text
