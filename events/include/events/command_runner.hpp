#pragma once
// The one way a command becomes events: load the stream, decide, append with the expected
// version. On a version conflict it reloads and decides again, so a command that is still valid
// after a concurrent change goes through, and one that is not gets the decider's error.
#include "events/store/event_store.hpp"

#include <map>
#include <string>

namespace events {

template <class StateT, class EventVariant>
struct Aggregate {
  StateT state;
  std::int64_t count = 0;  // events in the stream
};

// Aggregates kept in memory, so that a command reads only the events appended since the last
// time (a long-lived sandbox has thousands of activity events). Events are immutable, so a
// cached state is always a correct prefix: load() reads the rest from `count` on, and the
// append's expected version catches anything newer. Not thread-safe: one per connection.
template <class StateT>
class AggregateCache {
 public:
  explicit AggregateCache(std::size_t capacity = 4096) : capacity_(capacity) {}
  const std::pair<StateT, std::int64_t>* find(const std::string& stream) const {
    auto it = entries_.find(stream);
    return it == entries_.end() ? nullptr : &it->second;
  }
  void put(const std::string& stream, const StateT& state, std::int64_t count) {
    if (entries_.size() >= capacity_ && !entries_.contains(stream)) entries_.clear();  // crude, bounded
    entries_[stream] = {state, count};
  }
  std::size_t size() const { return entries_.size(); }

 private:
  std::size_t capacity_;
  std::map<std::string, std::pair<StateT, std::int64_t>> entries_;
};

template <class EventVariant, class StateT, class Evolve>
Result<Aggregate<StateT, EventVariant>> load(EventStore& store, const StreamName& stream, Evolve evolve,
                                             AggregateCache<StateT>* cache = nullptr) {
  Aggregate<StateT, EventVariant> agg;
  if (cache != nullptr) {
    if (const auto* hit = cache->find(stream.str())) {
      agg.state = hit->first;
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
template <class EventVariant, class StateT, class Decide, class Evolve, class OptionsFor>
Result<Executed> execute(EventStore& store, const StreamName& stream, const Metadata& metadata,
                         Decide decide, Evolve evolve, OptionsFor options_for, int attempts = 5,
                         AggregateCache<StateT>* cache = nullptr) {
  for (int attempt = 0;; ++attempt) {
    auto agg = load<EventVariant, StateT>(store, stream, evolve, cache);
    if (!agg) return agg.error();
    auto decided = decide(agg->state);
    if (!decided) return decided.error();
    if (decided->empty()) return Executed{std::nullopt, agg->count};
    std::vector<NewEvent> batch;
    StateT after = agg->state;
    for (const auto& e : *decided) {
      batch.push_back(NewEvent{encode(e), metadata});
      after = evolve(std::move(after), e);
    }
    const AppendOptions options = options_for(agg->state, after);
    auto appended = store.append(stream, ExpectedVersion::after(agg->count), batch, options);
    if (appended) {
      if (cache != nullptr && !appended->duplicate) {
        cache->put(stream.str(), after, agg->count + static_cast<std::int64_t>(decided->size()));
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
