#pragma once
// Group commit: appends from many threads of one process, sent together. Whoever appends while
// no group is in flight becomes the leader: it takes every append waiting (its own first) and
// sends them as one call of append_many in one transaction, so a group costs one round trip and
// one WAL flush however many commands are in it. Appends that arrive meanwhile wait for the
// next group, whose leader is one of them. Alone, an append is sent at once on its own thread:
// no hand-off, no timer. (Two groups in flight on two connections were measured: smaller
// groups, and fewer commands per second, since the append lock lets one commit at a time.)
//
// Each append keeps the answer it would get alone: a conflict or an idempotency match in the
// group writes nothing for that append and the others still commit. Appends that must commit
// together (append_together: a create's name claim and its sandbox) join a group as a unit,
// written all or none (infra/schema/0003_group_units.sql). A group that fails as a
// whole (a race with another process on a stream's version, data PostgreSQL refuses) rolled
// back, and its appends are sent again one by one for their own answers. A lost connection is
// `unavailable` for every append of the group, as it is for one append alone: a commit that
// may have happened is not sent again.
#include "events/store/event_store.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>
#include <vector>

namespace events {

class PgEventStore;

// One append of a group, as append_many takes it.
struct GroupedAppend {
  StreamName stream;
  ExpectedVersion expected;
  std::string events_json;  // the array append_events takes
  AppendOptions options;
  int unit = 0;  // in a group: appends with the same unit > 0 commit all or none (set by GroupCommit)
};

// The JSON array of `events` as append_events takes it.
std::string events_json(std::span<const NewEvent> events);

class GroupCommit {
 public:
  // Connects on first use, and again after a lost connection.
  explicit GroupCommit(std::string connection_string, std::size_t max_group = 64);
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Called after each group that wrote events (e.g. bus::append_hint).
  void on_append(std::function<void()> hook);

  // Thread-safe; blocks until the group with this append has committed or failed.
  Result<AppendResult> append(GroupedAppend request);
  // The same for appends that commit all or none: an answer for each, or the first refusal.
  Result<std::vector<AppendResult>> append_together(std::vector<GroupedAppend> unit);

  // Groups sent and the appends in them, by every GroupCommit in this process (a metric; their
  // ratio is the mean group size).
  struct Counts {
    std::uint64_t groups = 0;
    std::uint64_t appends = 0;
  };
  static Counts counts();

 private:
  struct Waiting {
    std::vector<GroupedAppend> requests;  // one append, or a unit
    std::optional<Result<std::vector<AppendResult>>> answer;
    std::binary_semaphore woken{0};
  };
  Result<std::vector<AppendResult>> join(std::vector<GroupedAppend> requests);
  void send(std::vector<Waiting*>& group);

  std::string connection_string_;
  std::size_t max_group_;
  std::function<void()> on_append_;
  std::unique_ptr<PgEventStore> store_;  // used only by the leader of the moment

  std::mutex mutex_;
  bool in_flight_ = false;  // a leader is sending; the others wait to be woken
  std::deque<Waiting*> waiting_;
};

}  // namespace events
