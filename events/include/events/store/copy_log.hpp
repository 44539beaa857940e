#pragma once
// The log read with one COPY, for replays: PostgreSQL streams the rows instead of answering a
// query per batch (each an index scan and a result to build).
#include "events/store/recorded_event.hpp"

#include <functional>
#include <string>
#include <vector>

namespace events {

// Hands `sink` the events with positions in (after, up_to], in position order, in batches of at
// most `batch`; `sink` returns false to stop early. Returns how many events it handed over.
Result<std::int64_t> copy_log(const std::string& pg_connection, std::int64_t after, std::int64_t up_to,
                              std::size_t batch, const std::function<bool(std::vector<RecordedEvent>&&)>& sink);

}  // namespace events
