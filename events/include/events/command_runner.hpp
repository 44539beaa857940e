#pragma once
// The one way a command becomes events: load the stream, decide, append with the expected
// version. On a version conflict it reloads and decides again, so a command that is still valid
// after a concurrent change goes through, and one that is not gets the decider's error.
#include "events/store/event_store.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace events {

template <class StateT, class EventVariant>
struct Aggregate {
  StateT state;
  std::int64_t count = 0;  // events in the stream
};

// Aggregates kept in memory, so that a command reads only the events appended since the last
// time (a long-lived sandbox has thousands of activity events), or none at all (execute()).
// Events are immutable, so a cached state is always a correct prefix: load() reads the rest from
// `count` on, and the append's expected version catches anything newer. One per process, shared
// by its threads: a cache per thread would be stale whenever requests for one aggregate land on
// different threads, and every stale entry costs a conflict.
template <class StateT>
class AggregateCache {
 public:
  explicit AggregateCache(std::size_t capacity = 4096) : capacity_(capacity) {}
  std::optional<std::pair<StateT, std::int64_t>> find(const std::string& stream) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(stream);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  // Keeps the longer of what is cached and `count`: a thread that read less must not undo one
  // that read more.
  void put(const std::string& stream, const StateT& state, std::int64_t count) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= capacity_ && !entries_.contains(stream)) entries_.clear();  // crude, bounded
    auto& entry = entries_[stream];
    if (entry.second > count) return;
    entry = {state, count};
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, std::pair<StateT, std::int64_t>> entries_;
};

template <class EventVariant, class StateT, class Evolve>
Result<Aggregate<StateT, EventVariant>> load(EventStore& store, const StreamName& stream, Evolve evolve,
                                             AggregateCache<StateT>* cache = nullptr) {
  Aggregate<StateT, EventVariant> agg;
  if (cache != nullptr) {
    if (auto hit = cache->find(stream.str())) {
      agg.state = std::move(hit->first);
      agg.count = hit->second;
    }
  }
  auto recorded = store.read_stream(stream, StreamVersion{agg.count});
  if (!recorded) return recorded.error();
  for (const auto& r : *recorded) {
    auto e = decode<EventVariant>(r);
    if (!e) return e.error();
    agg.state = evolve(std::move(agg.state), *e);
    ++agg.count;
  }
  if (cache != nullptr && !recorded->empty()) cache->put(stream.str(), agg.state, agg.count);
  return agg;
}

struct Executed {
  std::optional<AppendResult> appended;  // empty when the command changed nothing
  std::int64_t stream_count = 0;         // events in the stream afterwards
};

// `decide(state) -> Result<std::vector<EventVariant>>`; `options_for(state_before, state_after)`
// gives the append options (routing key, idempotency) once the events are known.
// With a cache, a command first decides on the cached aggregate without reading the stream at
// all: the append's expected version is the check, and a conflict reads what is new and decides
// again. A refusal or a decision to do nothing appends nothing to check, so those are decided
// again on the stream as it is before they are answered.
template <class EventVariant, class StateT, class Decide, class Evolve, class OptionsFor>
Result<Executed> execute(EventStore& store, const StreamName& stream, const Metadata& metadata,
                         Decide decide, Evolve evolve, OptionsFor options_for, int attempts = 5,
                         AggregateCache<StateT>* cache = nullptr) {
  auto cached = cache != nullptr ? cache->find(stream.str()) : std::nullopt;
  for (int attempt = 0;; ++attempt) {
    Aggregate<StateT, EventVariant> agg;
    const bool unread = cached.has_value();  // decided on the cache alone
    if (unread) {
      agg.state = std::move(cached->first);
      agg.count = cached->second;
      cached.reset();
    } else {
      auto loaded = load<EventVariant, StateT>(store, stream, evolve, cache);
      if (!loaded) return loaded.error();
      agg = std::move(*loaded);
    }
    auto decided = decide(agg.state);
    if (unread && (!decided || decided->empty())) {
      --attempt;  // not an attempt: decide again on the stream as it is
      continue;
    }
    if (!decided) return decided.error();
    if (decided->empty()) return Executed{std::nullopt, agg.count};
    std::vector<NewEvent> batch;
    StateT after = agg.state;
    for (const auto& e : *decided) {
      batch.push_back(NewEvent{encode(e), metadata});
      after = evolve(std::move(after), e);
    }
    const AppendOptions options = options_for(agg.state, after);
    auto appended = store.append(stream, ExpectedVersion::after(agg.count), batch, options);
    if (appended) {
      if (cache != nullptr && !appended->duplicate) {
        cache->put(stream.str(), after, agg.count + static_cast<std::int64_t>(decided->size()));
      }
      return Executed{*appended, appended->version.value() + 1};
    }
    if (appended.error().code != ErrorCode::version_conflict || attempt + 1 >= attempts) {
      return appended.error();
    }
  }
}

template <class EventVariant, class StateT, class Decide, class Evolve>
Result<Executed> execute(EventStore& store, const StreamName& stream, const Metadata& metadata,
                         Decide decide, Evolve evolve) {
  return execute<EventVariant, StateT>(store, stream, metadata, std::move(decide), std::move(evolve),
                                       [](const StateT&, const StateT&) { return AppendOptions{}; });
}

}  // namespace events
