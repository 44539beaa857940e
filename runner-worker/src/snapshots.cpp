#include "runner/snapshots.hpp"

#include "events/catalogue.hpp"
#include "events/codec.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace runner {

events::bus::ReportReply SnapshotPuller::report(const std::string& snapshot_id, const std::string& kind,
                                                const std::stop_token& stop, const std::string& reason,
                                                const ImageConfig* image) {
  events::bus::RunnerReport r;
  r.snapshot_id = snapshot_id;
  r.kind = kind;
  r.reason = reason;
  if (image != nullptr) {
    r.size_bytes = image->size_bytes;
    for (const auto& l : image->layers) r.layers.push_back(l.diff_id);
  }
  return reporter_.send(r, stop);
}

void SnapshotPuller::handle(const events::RecordedEvent& event, const std::stop_token& stop) {
  const auto id = event.stream_id();
  if (event.type == events::SnapshotRemoveRequested::kType) {
    if (auto gone = images_.remove(id); !gone) {
      spdlog::warn("snapshot {}: {}", id, gone.error().message);
      return;
    }
    report(id, "snapshot_removed", stop);  // whichever runner is first; the rest are refused
    return;
  }
  if (event.type != events::SnapshotCreated::kType) return;
  auto created = events::decode<events::SnapshotEvent>(event.type, event.schema_version, event.data);
  if (!created) {
    spdlog::warn("snapshot {}: {}", id, created.error().message);
    return;
  }
  const auto& spec = std::get<events::SnapshotCreated>(*created);
  const auto claimed = report(id, "snapshot_pulling", stop);
  if (!claimed.ok) {
    spdlog::info("snapshot {}: not pulling here ({})", id, claimed.message);
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto image = images_.import(id, spec.image_name);
  if (image) {
    // Unpacked here at once: a broken layer fails the snapshot, not the first sandbox.
    if (auto lowers = images_.lowers(id, *image); !lowers) image = lowers.error();
  }
  if (!image) {
    spdlog::warn("snapshot {} ({}): {}", id, spec.image_name, image.error().message);
    report(id, "snapshot_failed", stop, image.error().message);
    return;
  }
  const auto reply = report(id, "snapshot_active", stop, {}, &*image);
  spdlog::info("snapshot {} ({}): {} layer(s), {} bytes, imported in {} ms{}", id, spec.image_name,
               image->layers.size(), image->size_bytes,
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count(),
               reply.ok ? "" : " (report refused: " + reply.message + ")");
}

}  // namespace runner
