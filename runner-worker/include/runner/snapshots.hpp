#pragma once
// Snapshot imports: every runner sees a new snapshot; the first to report "pulling" wins it (the
// decider refuses the others), copies the image into the shared object store, unpacks its layers
// here and reports it active with its layers — or failed, with the reason. A removal deletes the
// image's files from the object store. Redelivered events are safe: the winner goes on after a
// restart, a finished snapshot refuses a second pull.
#include "events/store/recorded_event.hpp"
#include "runner/image.hpp"
#include "runner/platform.hpp"

#include <stop_token>

namespace runner {

class SnapshotPuller {
 public:
  SnapshotPuller(ImageStore& images, Reporter& reporter) : images_(images), reporter_(reporter) {}
  // Handles one event of a snapshot stream; other event types are nothing to do.
  void handle(const events::RecordedEvent& event, const std::stop_token& stop);

 private:
  events::bus::ReportReply report(const std::string& snapshot_id, const std::string& kind, const std::stop_token& stop,
                                  const std::string& reason = {}, const ImageConfig* image = nullptr);
  ImageStore& images_;
  Reporter& reporter_;
};

}  // namespace runner
