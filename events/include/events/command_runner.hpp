#pragma once
// The one way a command becomes events: load the stream, decide, append with the expected
// version. On a version conflict it reloads and decides again, so a command that is still valid
// after a concurrent change goes through, and one that is not gets the decider's error.
#include "events/store/event_store.hpp"

namespace events {

template <class StateT, class EventVariant>
struct Aggregate {
  StateT state;
  std::int64_t count = 0;  // events in the stream
};

template <class EventVariant, class StateT, class Evolve>
Result<Aggregate<StateT, EventVariant>> load(EventStore& store, const StreamName& stream, Evolve evolve) {
  auto recorded = store.read_stream(stream);
  if (!recorded) return recorded.error();
  Aggregate<StateT, EventVariant> agg;
  for (const auto& r : *recorded) {
    auto e = decode<EventVariant>(r);
    if (!e) return e.error();
    agg.state = evolve(std::move(agg.state), *e);
    ++agg.count;
  }
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
                         Decide decide, Evolve evolve, OptionsFor options_for, int attempts = 5) {
  for (int attempt = 0;; ++attempt) {
    auto agg = load<EventVariant, StateT>(store, stream, evolve);
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
    if (appended) return Executed{*appended, appended->version.value() + 1};
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
