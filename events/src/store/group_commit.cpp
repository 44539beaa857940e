#include "events/store/group_commit.hpp"
#include "events/store/pg_event_store.hpp"

#include <pqxx/except>

#include <atomic>
#include <span>

namespace events {

namespace {
std::atomic<std::uint64_t> g_groups{0};
std::atomic<std::uint64_t> g_grouped{0};

}  // namespace

GroupCommit::GroupCommit(std::string connection_string, std::size_t max_group)
    : connection_string_(std::move(connection_string)), max_group_(max_group == 0 ? 1 : max_group) {}

GroupCommit::~GroupCommit() = default;

void GroupCommit::on_append(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  on_append_ = std::move(hook);
  if (store_) store_->on_append(on_append_);
}

GroupCommit::Counts GroupCommit::counts() {
  return Counts{g_groups.load(std::memory_order_relaxed), g_grouped.load(std::memory_order_relaxed)};
}

Result<AppendResult> GroupCommit::append(GroupedAppend request) {
  std::vector<GroupedAppend> one;
  one.push_back(std::move(request));
  auto answer = join(std::move(one));
  if (!answer) return answer.error();
  return answer->front();
}

Result<std::vector<AppendResult>> GroupCommit::append_together(std::vector<GroupedAppend> unit) {
  if (unit.empty()) return std::vector<AppendResult>{};
  return join(std::move(unit));
}

Result<std::vector<AppendResult>> GroupCommit::join(std::vector<GroupedAppend> requests) {
  Waiting me{std::move(requests)};
  std::unique_lock lock(mutex_);
  waiting_.push_back(&me);
  if (in_flight_) {
    // Woken once: answered by a leader, or made the next leader.
    lock.unlock();
    me.woken.acquire();
    if (me.answer) return std::move(*me.answer);
    lock.lock();
  }
  // Lead: this append is at the front of what waits. Take it and what follows, send them, wake
  // exactly those (not every waiter), and hand the lead to the first that came meanwhile.
  in_flight_ = true;
  std::vector<Waiting*> group;
  while (!waiting_.empty() && group.size() < max_group_) {
    group.push_back(waiting_.front());
    waiting_.pop_front();
  }
  g_groups.fetch_add(1, std::memory_order_relaxed);
  g_grouped.fetch_add(group.size(), std::memory_order_relaxed);
  lock.unlock();
  send(group);
  lock.lock();
  if (waiting_.empty()) {
    in_flight_ = false;
  } else {
    waiting_.front()->woken.release();  // still in waiting_, unanswered: it leads next
  }
  lock.unlock();
  for (auto* w : group) {
    if (w != &me) w->woken.release();  // answered; it returns and its Waiting is gone
  }
  return std::move(*me.answer);
}

// Runs on the leader's thread, with no lock held; the store is the leader's alone.
void GroupCommit::send(std::vector<Waiting*>& group) {
  if (!store_) {
    try {
      store_ = std::make_unique<PgEventStore>(connection_string_);
      store_->on_append(on_append_);
    } catch (const pqxx::failure& e) {
      for (auto* w : group) {
        w->answer = make_error(ErrorCode::unavailable, std::string("PostgreSQL connection failed: ") + e.what());
      }
      return;
    }
  }
  auto& store = *store_;
  // Alone: one append, or one unit in a transaction of its own.
  auto alone = [&](std::span<const GroupedAppend> requests) -> Result<std::vector<AppendResult>> {
    if (requests.size() > 1) return store.append_together_alone(requests);
    auto one = store.append_alone(requests.front());
    if (!one) return one.error();
    return std::vector<AppendResult>{*one};
  };
  if (group.size() == 1) {
    group[0]->answer = alone(group[0]->requests);
    return;
  }
  std::vector<GroupedAppend> requests;  // moved out of the waiters: their events are sent once
  std::vector<std::size_t> sizes;
  int units = 0;
  for (auto* w : group) {
    const bool together = w->requests.size() > 1;
    if (together) ++units;
    sizes.push_back(w->requests.size());
    for (auto& r : w->requests) {
      r.unit = together ? units : 0;
      requests.push_back(std::move(r));
    }
  }
  auto answers = store.append_many(requests);
  if (answers) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < group.size(); ++i) {
      std::vector<AppendResult> mine;
      std::optional<Error> refused;  // a unit answers with its first refusal
      for (std::size_t k = 0; k < sizes[i]; ++k, ++at) {
        auto& answer = (*answers)[at];
        if (!answer) {
          if (!refused) refused = answer.error();
        } else {
          mine.push_back(*answer);
        }
      }
      if (refused) {
        group[i]->answer = *refused;
      } else {
        group[i]->answer = std::move(mine);
      }
    }
    return;
  }
  if (answers.error().code == ErrorCode::unavailable) {
    for (auto* w : group) w->answer = answers.error();
    return;
  }
  // The group rolled back as a whole: each append or unit again alone, for its own answer.
  std::size_t at = 0;
  for (std::size_t i = 0; i < group.size(); ++i) {
    group[i]->answer = alone(std::span<const GroupedAppend>(requests).subspan(at, sizes[i]));
    at += sizes[i];
  }
}

}  // namespace events
