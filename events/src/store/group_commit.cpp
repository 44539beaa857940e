#include "events/store/group_commit.hpp"
#include "events/store/pg_event_store.hpp"

#include <pqxx/except>

#include <atomic>

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
  Waiting me{std::move(request)};
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
  if (group.size() == 1) {
    group[0]->answer = store.append_alone(group[0]->request);
    return;
  }
  std::vector<GroupedAppend> requests;  // moved out of the waiters: their events are sent once
  requests.reserve(group.size());
  for (auto* w : group) requests.push_back(std::move(w->request));
  auto answers = store.append_many(requests);
  if (answers) {
    for (std::size_t i = 0; i < group.size(); ++i) group[i]->answer = std::move((*answers)[i]);
    return;
  }
  if (answers.error().code == ErrorCode::unavailable) {
    for (auto* w : group) w->answer = answers.error();
    return;
  }
  // The group rolled back as a whole: each append again alone, for its own answer.
  for (std::size_t i = 0; i < group.size(); ++i) group[i]->answer = store.append_alone(requests[i]);
}

}  // namespace events
