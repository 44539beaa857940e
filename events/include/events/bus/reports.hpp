#pragma once
// Runner reports on the wire: a runner-worker sends each transition it made as a NATS request
// on "runner.reports.<runnerId>"; the command-service turns it into a sandbox command through
// the decider and replies. The runner resends until it has a reply, so a report survives a
// command-service restart; a duplicate is answered as such and changes nothing.
#include "events/ids.hpp"
#include "events/json.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace events::bus {

struct RunnerReport {
  std::string sandbox_id;  // empty in a snapshot report
  std::string kind;   // "state" | "error" | "build_failed" | "oom_killed", or for snapshots
                      // "snapshot_pulling" | "snapshot_active" | "snapshot_failed" | "snapshot_removed"
  std::string state;  // with kind "state": pulling_snapshot, starting, started, stopping, stopped,
                      // archiving, archived, restoring, destroying, destroyed
  std::string reason;  // with error / build_failed: what a person can act on
  bool recoverable = true;
  std::string archive_ref;             // with state archived: where the upper layer went
  std::int64_t memory_limit_bytes = 0;  // with oom_killed
  std::string process;                  // with oom_killed
  std::string correlation_id;           // of the event that made the runner act, when known
  std::string snapshot_id;              // a snapshot report: the snapshot the runner imports
  std::int64_t size_bytes = 0;          // with snapshot_active
  std::vector<std::string> layers;      // with snapshot_active: the layers' uncompressed digests
};
BOOST_DESCRIBE_STRUCT(RunnerReport, (),
                      (sandbox_id, kind, state, reason, recoverable, archive_ref, memory_limit_bytes, process,
                       correlation_id, snapshot_id, size_bytes, layers))

// The reply: ok, or the code and message of the rejection (wrong_runner, late_report, ...).
struct ReportReply {
  bool ok = false;
  std::int64_t position = 0;  // of the last event appended; 0 when nothing changed
  std::string code;
  std::string message;
  std::int64_t version = 0;  // the sandbox's (or snapshot's) stream version after it; 0 when nothing changed
};
BOOST_DESCRIBE_STRUCT(ReportReply, (), (ok, position, code, message, version))

inline std::string report_subject(const RunnerId& runner) { return "runner.reports." + runner.str(); }
inline constexpr const char* kReportSubjects = "runner.reports.*";

}  // namespace events::bus
