#pragma once
// The log's interface. PgEventStore is the real one; unit tests of callers may fake it.
#include "events/store/recorded_event.hpp"

#include <span>
#include <vector>

namespace events {

struct AppendOptions {
  std::string routing_key;                      // e.g. the runner that should see the events
  std::optional<std::string> idempotency_key;   // scoped by the caller (e.g. "org/<id>/<key>")
  std::string request_hash;                     // what the key promised; a different one conflicts
};

struct AppendResult {
  GlobalPosition first;
  GlobalPosition last;
  StreamVersion version;  // the stream's version after the append
  bool duplicate = false; // the idempotency key was seen: this is the first append's result
};

// One stream's part of an append_together.
struct StreamAppend {
  StreamName stream;
  ExpectedVersion expected;
  std::vector<NewEvent> events;
  AppendOptions options = {};
};

// A ReadFilter routing key that selects the events appended without one (the subject token the
// bus gives them, bus::kNoRoutingKey).
inline constexpr const char* kUnrouted = "_";

// Only events of one category, and optionally one routing key (empty = any; kUnrouted = none).
struct ReadFilter {
  std::string category;
  std::string routing_key;
};

class EventStore {
 public:
  virtual ~EventStore() = default;
  // Appends atomically when the stream is at `expected`; a mismatch is a version_conflict
  // error and nothing is written.
  virtual Result<AppendResult> append(const StreamName& stream, ExpectedVersion expected,
                                      std::span<const NewEvent> events,
                                      const AppendOptions& options = {}) = 0;
  // Appends to several streams in one transaction: all of them, or (on any conflict) none.
  virtual Result<std::vector<AppendResult>> append_together(std::span<const StreamAppend> appends) = 0;
  virtual Result<std::vector<RecordedEvent>> read_stream(const StreamName& stream,
                                                         StreamVersion from = StreamVersion{0}) = 0;
  // Events after `after`, in position order, never past the safe head (see the schema), so a
  // reader that resumes from the last position it saw never skips one.
  virtual Result<std::vector<RecordedEvent>> read_all(GlobalPosition after, std::size_t max,
                                                      const ReadFilter& filter = {}) = 0;
  // The highest position below which every event is committed and final.
  virtual Result<GlobalPosition> safe_head() = 0;
};

}  // namespace events
