#pragma once
// The questions the API asks of the sandboxes read model, beside the model that fills the table
// (src/models/sandboxes.cpp): the table's columns and SQL are known here and nowhere else, so a
// change of the model and of its readers is one change. Each runs in the caller's transaction.
#include "events/deciders/sandbox.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace projector::queries {

// One sandbox as the table holds it: the decider's state and what only the table keeps.
struct SandboxRow {
  events::sandbox::State state;
  std::string region;
  std::string user;
  std::string created_at;        // ISO 8601, UTC, milliseconds
  std::string updated_at;
  std::string last_activity_at;  // empty: none yet
};

std::optional<SandboxRow> sandbox(pqxx::transaction_base& tx, const events::SandboxId& id);

// The organization's newest not destroyed sandbox with that name.
std::optional<events::SandboxId> live_sandbox_named(pqxx::transaction_base& tx, const std::string& organization,
                                                   const std::string& name);

// What a command's answer shows beside the decider's state.
struct SandboxOrigin {
  std::string region;
  std::string user;
  std::string created_at;
};
std::optional<SandboxOrigin> sandbox_origin(pqxx::transaction_base& tx, const events::SandboxId& id);

// A sandbox together with how far the model and the sandbox's stream are, in one round trip:
// `row` is set when the model has passed the stream's last event (`stream_last`, 0 when there
// is no such stream).
struct SandboxAsOf {
  std::int64_t stream_last = 0;
  std::optional<SandboxRow> row;
};
SandboxAsOf sandbox_if_current(pqxx::transaction_base& tx, const events::SandboxId& id);

// A page of an organization's sandboxes, newest id first.
struct SandboxFilter {
  std::string organization;
  std::string labels_json = "{}";        // rows whose labels contain these
  std::optional<std::string> before_id;  // the cursor: ids below it
  std::optional<std::string> name;
  std::vector<std::string> states;       // empty: every state but destroyed
  int limit = 100;
};
std::vector<SandboxRow> sandboxes(pqxx::transaction_base& tx, const SandboxFilter& filter);

// The organization's sandboxes among `ids`.
std::vector<SandboxRow> sandboxes_with_ids(pqxx::transaction_base& tx, const std::set<std::string>& ids,
                                           const std::string& organization);

// A runner's sandboxes that are not destroyed, by id; or one of them.
std::vector<SandboxRow> sandboxes_on_runner(pqxx::transaction_base& tx, const events::RunnerId& runner);
std::optional<SandboxRow> sandbox_on_runner(pqxx::transaction_base& tx, const events::RunnerId& runner,
                                            const events::SandboxId& id);

using Time = std::chrono::system_clock::time_point;

// Sandboxes whose lifecycle timers could be due at `now` (the platform's timer policy decides
// which are): settled in started or stopped with a timer set, unchanged for a minute or more (or
// stopped with delete-at-stop), the longest unchanged first.
struct TimerCandidate {
  events::SandboxId id;
  std::string organization;
  events::SandboxState state = events::SandboxState::unknown;
  int auto_stop_minutes = 0;
  int auto_archive_minutes = 0;
  int auto_delete_minutes = 0;
  Time changed_at;
  std::optional<Time> last_activity;
};
std::vector<TimerCandidate> timer_candidates(pqxx::transaction_base& tx, Time now, int limit = 1000);

// Sandboxes that want to run and have no runner yet, the longest waiting first.
struct WaitingSandbox {
  events::SandboxId id;
  std::string organization;
  std::string region;
  int memory_gib = 0;
  int disk_gib = 0;
  Time waiting_since;
};
std::vector<WaitingSandbox> waiting_for_runner(pqxx::transaction_base& tx, int limit = 100);

}  // namespace projector::queries
