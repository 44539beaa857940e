#pragma once
// From internal events to public ones (contract.hpp): one pure function per aggregate, given the
// resource as it was before the event (its decider's state, plus the reason of the last request,
// which a state update names). Every internal event type has its case; there is no catch-all, so
// a new internal event does not compile until it is given one (tests/unit/published_test.cpp
// walks the whole catalogue). Aggregates outside the contract (runners, organizations, names,
// warm pools) give none; nor does a warm-pool member until a create claims it, when its owner
// sees it created.
#include "events/deciders/sandbox.hpp"
#include "events/deciders/snapshot.hpp"
#include "events/deciders/volume.hpp"
#include "events/published/contract.hpp"
#include "events/store/recorded_event.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace events::published {

// Where an internal event sits in the log: what every public event made from it carries.
struct Origin {
  std::int64_t position = 0;
  std::string time;  // contract_time of the log entry
};

template <class State>
struct Tracked {
  State state;
  std::string created_at;  // contract time of the resource's first event
  std::string reason;      // why the next state update happens (the last request's reason)
};
using SandboxTrack = Tracked<sandbox::State>;
using SnapshotTrack = Tracked<snapshot::State>;
using VolumeTrack = Tracked<volume::State>;

// The public events of one internal event, and the resource as it is after it.
template <class Track>
struct Mapped {
  std::vector<PublicEvent> events;
  Track after;
};
Mapped<SandboxTrack> map_event(const SandboxTrack& before, const SandboxEvent& e, const Origin& at);
Mapped<SnapshotTrack> map_event(const SnapshotTrack& before, const SnapshotEvent& e, const Origin& at);
Mapped<VolumeTrack> map_event(const VolumeTrack& before, const VolumeEvent& e, const Origin& at);

// The mapping over the log: keeps each resource's track, fed its stream's events in order.
// A stream first met in the middle (a stream resumed from a position) needs its earlier events
// first: `needs_history` says so, `absorb` takes them without making public events.
class Publisher {
 public:
  // The public events of a log entry. Entries it cannot decode give none (and are counted).
  std::vector<PublicEvent> publish(const RecordedEvent& e);
  // The same, reading the stream's earlier events with `read` first when it needs them.
  using ReadStream = std::function<Result<std::vector<RecordedEvent>>(const StreamName& stream)>;
  std::vector<PublicEvent> publish(const RecordedEvent& e, const ReadStream& read);
  bool needs_history(const RecordedEvent& e) const;
  void absorb(const RecordedEvent& e);
  std::size_t undecodable() const { return undecodable_; }

 private:
  std::vector<PublicEvent> feed(const RecordedEvent& e, bool emit);
  std::map<std::string, SandboxTrack> sandboxes_;
  std::map<std::string, SnapshotTrack> snapshots_;
  std::map<std::string, VolumeTrack> volumes_;
  std::size_t undecodable_ = 0;
};

// Which categories of streams carry public events ("sandbox", "snapshot", "volume").
bool is_published_category(std::string_view category);

}  // namespace events::published
