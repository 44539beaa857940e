#pragma once
// What the query files share: a timestamp column read as the API shows times, and an epoch read
// back as a time point.
#include <pqxx/pqxx>

#include <chrono>

// "to_char(<column> ...)": ISO 8601, UTC, milliseconds. A macro so that it joins string literals.
#define PROJECTOR_ISO(column) "to_char(" column " at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

namespace projector::queries {

// A column read as `extract(epoch from ...)`.
inline std::chrono::system_clock::time_point at_epoch(const pqxx::field& f) {
  return std::chrono::system_clock::time_point{std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::duration<double>(f.as<double>()))};
}

}  // namespace projector::queries
