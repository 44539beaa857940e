#pragma once
// Runner reports (events/bus/reports.hpp) become sandbox commands through the same decider as
// the API's commands; a report that does not fit (wrong runner, late, duplicate) is rejected,
// logged with the reason, and the runner is told why.
#include "command_service/pg/db.hpp"
#include "events/bus/requests.hpp"
#include "events/bus/reports.hpp"
#include "events/deciders/sandbox.hpp"
#include "events/deciders/snapshot.hpp"

namespace command_service {

// The decider command a report stands for (pure; names the field that is wrong).
events::Result<events::sandbox::Command> command_of(const events::RunnerId& runner, const events::bus::RunnerReport& r);
// A report that names a snapshot (the runner importing its image).
events::Result<events::snapshot::Command> snapshot_command_of(const events::RunnerId& runner,
                                                              const events::bus::RunnerReport& r);

// Applies one report (its JSON text) from `runner`: the reply to send back.
events::bus::ReportReply apply_report(DbContext& db, const events::RunnerId& runner, std::string_view body);

// Answers reports on runner.reports.* (queue group "command-service", so several instances
// share them) while it lives. Reports are applied one at a time, in arrival order.
// One report as the API answers it: the reply's JSON (ReportReply).
std::string answer_report(Db& db, const std::string& subject, std::string_view body);

// Answers the runners' reports (bus::kReportSubjects, queue group "command-service") while held.
// Several members of the queue group, each on its own delivery thread, answer reports about
// different sandboxes at once, so that their appends share a group commit (one WAL flush) instead
// of each waiting for the one before (a burst of creates reports a `started` per sandbox). A
// runner waits for the answer to one report of a sandbox before it sends the next, so a
// sandbox's reports still come in order.
class ReportListener {
 public:
  static constexpr int kMembers = 4;
  ReportListener(events::bus::Requests& bus, Db& db);
  bool ok() const { return services_.size() == kMembers; }

 private:
  std::vector<std::unique_ptr<events::bus::Requests::Serving>> services_;
};

}  // namespace command_service
