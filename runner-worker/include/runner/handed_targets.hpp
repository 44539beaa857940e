#pragma once
// Targets the API handed this runner over the bus right after an append (events/bus/
// runner_targets.hpp), kept until the reconcile of that sandbox takes one. A reconcile that an
// event started takes a target at least as new as the newest event seen of the sandbox: with
// one, it needs no look-up. When none has come yet it waits a moment (the hand-off and the
// event leave the API at about the same time), then asks the API as before. A reconcile that no
// event started (start-up, a PID 1 that died) takes a hand-off only if one is there, and asks
// otherwise.
#include "events/wire/runner_target.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

namespace runner {

class HandedTargets {
 public:
  using Clock = std::chrono::steady_clock;
  explicit HandedTargets(std::chrono::milliseconds wait = std::chrono::milliseconds(20),
                         std::chrono::milliseconds keep = std::chrono::seconds(5));

  // The subscriber saw event `version` of `sandbox`, or a report of ours was appended as it.
  void saw(const std::string& sandbox, std::int64_t version);
  // A hand-off arrived (libnats' thread). An older one than what is kept is dropped, and so is one
  // whose target names another sandbox than the hand-off.
  void take(events::wire::TargetHandOff handed);

  // For a reconcile of `sandbox`: the hand-off that answers for the newest event seen of it, if
  // one came (its target may be empty: no longer this runner's); nullopt: ask the API.
  std::optional<events::wire::TargetHandOff> claim(const std::string& sandbox, const std::stop_token& stop);

 private:
  struct Entry {
    std::int64_t seen = -1;  // the newest event of it seen or reported; -1: none since the last claim
    std::optional<events::wire::TargetHandOff> handed;
    Clock::time_point at;  // when `handed` came
  };
  void forget_old(Clock::time_point now);  // under mutex_

  std::chrono::milliseconds wait_;
  std::chrono::milliseconds keep_;
  std::mutex mutex_;
  std::condition_variable_any arrived_;
  std::map<std::string, Entry> entries_;
};

}  // namespace runner
