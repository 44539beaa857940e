#pragma once
// The questions the API asks of the runners read model (src/models/runners.cpp), beside it.
#include "events/ids.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace projector::queries {

// A ready runner of a region with its load, as placement weighs it.
struct ReadyRunner {
  events::RunnerId id;
  int sandboxes = 0;
  int max_sandboxes = 0;
  int memory_used_gib = 0;
  int memory_gib = 0;
  int disk_used_gib = 0;
  int disk_gib = 0;
  std::optional<std::chrono::system_clock::time_point> heartbeat;  // none: none yet
};
std::vector<ReadyRunner> ready_runners(pqxx::transaction_base& tx, const std::string& region);

// Where a runner takes forwarded connections ("host:port"); empty when unknown.
std::string runner_endpoint(pqxx::transaction_base& tx, const events::RunnerId& id);

// A runner as an admin sees it.
struct RunnerRow {
  std::string id;
  std::string region;
  std::string endpoint;
  std::string state;
  int cpu = 0;
  int memory_gib = 0;
  int disk_gib = 0;
  int max_sandboxes = 0;
  int reported_sandboxes = 0;
  int assigned_sandboxes = 0;
  std::string last_heartbeat_at;  // ISO 8601, UTC; empty: none yet
};
std::optional<RunnerRow> runner(pqxx::transaction_base& tx, const events::RunnerId& id);
std::vector<RunnerRow> runners(pqxx::transaction_base& tx);  // by id

}  // namespace projector::queries
