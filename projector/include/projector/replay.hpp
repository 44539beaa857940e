#pragma once
// Audit replay: rebuild read models from the log into another schema, as of now or as of a
// position or time, and compare a rebuild with the live models.
#include "projector/projector.hpp"
#include "projector/read_model.hpp"

#include <functional>
#include <optional>

namespace projector {

struct ReplayResult {
  std::int64_t events = 0;   // log events replayed (each model reads them all)
  std::int64_t position = 0; // the last position included
  double seconds = 0;
};

// How a replay's projectors run into `schema`: batches of 5000 events, writes sent at once
// (thousands of rows a batch: bound parameters, not SQL literals), no dead letters (the live
// projector recorded them).
Settings replay_settings(const std::string& schema);

// Resolves "as of": a position, or the last position recorded at or before an ISO time.
events::Result<std::int64_t> position_as_of(const std::string& pg_connection, const std::string& position_or_time);

// Called now and then during a replay: events applied so far, and the position reached.
using ReplayProgress = std::function<void(std::int64_t events, std::int64_t position)>;

// Builds every model into `schema` (which must not exist yet) from position 0 up to `up_to`.
events::Result<ReplayResult> replay_into(const std::string& pg_connection, const std::string& schema,
                                         std::int64_t up_to, const ReplayProgress& progress = {});

struct SwapResult {
  ReplayResult replay;   // the rebuild, up to the log's head when it began
  std::int64_t caught_up = 0;  // events applied after it, up to the swap (the last one under the lock)
  int attempts = 0;      // tries at the live tables' locks (another holder makes one give up and retry)
  double locked_ms = 0;  // how long readers and the live projector waited on the swap
};

// Rebuilds every model from the whole log into a new schema and puts it in place of `live`
// while the live projector keeps running (`projector replay --swap`). The rebuild and a first
// catch-up run beside the live models; then, holding every live table's lock (readers and the
// live projector wait), the new schema takes the events appended meanwhile, is renamed to
// `live`, and the old one is dropped, in one transaction. The live projector then finds its
// checkpoints moved (projection_advance), stands down and leads again from the new ones. A
// live schema holding a table that is no model's is refused, since the swap would drop it.
events::Result<SwapResult> rebuild_and_swap(const std::string& pg_connection, const std::string& live,
                                            const ReplayProgress& progress = {});

struct VerifyResult {
  bool equal = true;
  std::string summary;  // one line
  std::string diff;     // rows that differ, when any
  ReplayResult replay;
};

// Rebuilds each model into a scratch schema up to the live model's own checkpoint and compares
// every table row by row with the live schema. The scratch schema is dropped afterwards.
events::Result<VerifyResult> verify(const std::string& pg_connection, const std::string& live_schema);

}  // namespace projector
