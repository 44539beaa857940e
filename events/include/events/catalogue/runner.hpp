#pragma once
// Events of the runner aggregate (stream "runner-<uuid>"): a compute host.
#include "events/catalogue/sandbox.hpp"

namespace events {

enum class RunnerState { unknown, ready, cordoned, draining, removed };
BOOST_DESCRIBE_ENUM(RunnerState, unknown, ready, cordoned, draining, removed)
std::string_view to_string(RunnerState s);

struct RunnerCapacity {
  int cpu = 0;
  int memory_gib = 0;
  int disk_gib = 0;
  int max_sandboxes = 0;
  bool operator==(const RunnerCapacity&) const = default;
};
BOOST_DESCRIBE_STRUCT(RunnerCapacity, (), (cpu, memory_gib, disk_gib, max_sandboxes))

struct RunnerLoad {
  int sandboxes = 0;
  double cpu_used = 0;
  double memory_used_gib = 0;
  double disk_used_gib = 0;
  bool operator==(const RunnerLoad&) const = default;
};
BOOST_DESCRIBE_STRUCT(RunnerLoad, (), (sandboxes, cpu_used, memory_used_gib, disk_used_gib))

struct RunnerRegistered {
  static constexpr std::string_view kType = "RunnerRegistered";
  static constexpr int kVersion = 1;
  RunnerId runner_id;
  std::string region;
  std::string endpoint;  // loopback address of its forwarding endpoint
  RunnerCapacity capacity;
};
BOOST_DESCRIBE_STRUCT(RunnerRegistered, (), (runner_id, region, endpoint, capacity))

struct RunnerHeartbeat {
  static constexpr std::string_view kType = "RunnerHeartbeat";
  static constexpr int kVersion = 1;
  std::int64_t at_ms = 0;
  RunnerLoad load;
};
BOOST_DESCRIBE_STRUCT(RunnerHeartbeat, (), (at_ms, load))

struct RunnerCordoned {
  static constexpr std::string_view kType = "RunnerCordoned";
  static constexpr int kVersion = 1;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(RunnerCordoned, (), (reason))

struct RunnerUncordoned {
  static constexpr std::string_view kType = "RunnerUncordoned";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(RunnerUncordoned, (), ())

struct RunnerDraining {
  static constexpr std::string_view kType = "RunnerDraining";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(RunnerDraining, (), ())

struct RunnerRemoved {
  static constexpr std::string_view kType = "RunnerRemoved";
  static constexpr int kVersion = 1;
};
BOOST_DESCRIBE_STRUCT(RunnerRemoved, (), ())

using RunnerEvent = std::variant<RunnerRegistered, RunnerHeartbeat, RunnerCordoned,
                                 RunnerUncordoned, RunnerDraining, RunnerRemoved>;

}  // namespace events
