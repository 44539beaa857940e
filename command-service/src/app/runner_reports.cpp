#include "command_service/app/runner_reports.hpp"
#include "command_service/http/route_support.hpp"

#include "events/catalogue.hpp"
#include "events/command_runner.hpp"

#include <spdlog/spdlog.h>

namespace command_service {

using namespace events;
using bus::ReportReply;
using bus::RunnerReport;

namespace {

std::optional<sandbox::Reported> reported_state(std::string_view s) {
  using R = sandbox::Reported;
  static const std::pair<std::string_view, R> kStates[] = {
      {"pulling_snapshot", R::pulling_snapshot}, {"building_snapshot", R::building_snapshot},
      {"starting", R::starting},                 {"started", R::started},
      {"stopping", R::stopping},                 {"stopped", R::stopped},
      {"archiving", R::archiving},               {"archived", R::archived},
      {"restoring", R::restoring},               {"destroying", R::destroying},
      {"destroyed", R::destroyed}};
  for (const auto& [name, value] : kStates) {
    if (name == s) return value;
  }
  return std::nullopt;
}

ReportReply rejected(const Error& e) { return ReportReply{false, 0, std::string(to_string(e.code)), e.message}; }
ReportReply accepted(const Executed& executed) {
  if (!executed.appended) return ReportReply{true, 0, "", ""};
  return ReportReply{true, executed.appended->last.value(), "", "", executed.appended->version.value()};
}

}  // namespace

Result<sandbox::Command> command_of(const RunnerId& runner, const RunnerReport& r) {
  if (r.kind == "state") {
    const auto state = reported_state(r.state);
    if (!state) return make_error(ErrorCode::invalid_argument, "state '" + r.state + "' is not a state a runner reports");
    return sandbox::Command{sandbox::Report{runner, *state, r.archive_ref}};
  }
  if (r.kind == "error") {
    if (r.reason.empty()) return make_error(ErrorCode::invalid_argument, "an error report needs a reason");
    return sandbox::Command{sandbox::ReportError{runner, r.reason, r.recoverable}};
  }
  if (r.kind == "build_failed") {
    if (r.reason.empty()) return make_error(ErrorCode::invalid_argument, "a build_failed report needs a reason");
    return sandbox::Command{sandbox::ReportBuildFailed{runner, r.reason}};
  }
  if (r.kind == "oom_killed") {
    return sandbox::Command{sandbox::ReportOomKilled{runner, r.memory_limit_bytes, r.process}};
  }
  return make_error(ErrorCode::invalid_argument,
                    "kind '" + r.kind + "' is not one of state, error, build_failed, oom_killed");
}

Result<snapshot::Command> snapshot_command_of(const RunnerId& runner, const RunnerReport& r) {
  if (r.kind == "snapshot_pulling") return snapshot::Command{snapshot::ReportPulling{runner}};
  if (r.kind == "snapshot_active") {
    if (r.layers.empty() && r.size_bytes == 0) {
      return make_error(ErrorCode::invalid_argument, "a snapshot_active report needs the layers");
    }
    return snapshot::Command{snapshot::ReportActive{r.size_bytes, r.layers}};
  }
  if (r.kind == "snapshot_failed") {
    if (r.reason.empty()) return make_error(ErrorCode::invalid_argument, "a snapshot_failed report needs a reason");
    return snapshot::Command{snapshot::ReportFailed{r.reason}};
  }
  if (r.kind == "snapshot_removed") return snapshot::Command{snapshot::ReportRemoved{}};
  return make_error(ErrorCode::invalid_argument, "kind '" + r.kind +
                                                     "' is not one of snapshot_pulling, snapshot_active, "
                                                     "snapshot_failed, snapshot_removed");
}

namespace {

Metadata report_metadata(const RunnerId& runner, const RunnerReport& r) {
  Metadata meta;
  meta.event_id = new_uuid();
  meta.correlation_id = r.correlation_id.empty() ? new_uuid() : r.correlation_id;
  meta.actor = "runner:" + runner.str();
  return meta;
}

ReportReply apply_snapshot_report(DbContext& db, const RunnerId& runner, const RunnerReport& report) {
  const auto id = SnapshotId::parse(report.snapshot_id);
  if (!id) return rejected(make_error(ErrorCode::invalid_argument, "snapshot_id '" + report.snapshot_id + "' is not a UUID"));
  auto command = snapshot_command_of(runner, report);
  if (!command) return rejected(command.error());
  auto meta = report_metadata(runner, report);
  auto executed = execute<SnapshotEvent, snapshot::State>(
      db.store, StreamName::of("snapshot", *id), meta,
      [&](const snapshot::State& s) -> Result<snapshot::Events> {
        if (!s.exists) return make_error(ErrorCode::not_found, "snapshot " + id->str() + " does not exist");
        if (s.spec.organization_id) meta.organization_id = s.spec.organization_id->str();
        return snapshot::decide(*command, s);
      },
      [](snapshot::State s, const SnapshotEvent& e) { return snapshot::evolve(std::move(s), e); });
  if (!executed) return rejected(executed.error());
  return accepted(*executed);
}

}  // namespace

ReportReply apply_report(DbContext& db, const RunnerId& runner, std::string_view body) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  if (ec) return rejected(make_error(ErrorCode::invalid_argument, "report is not JSON: " + ec.message()));
  auto report = from_json<RunnerReport>(parsed, "report");
  if (!report) return rejected(make_error(ErrorCode::invalid_argument, report.error().message));
  if (!report->snapshot_id.empty()) return apply_snapshot_report(db, runner, *report);
  const auto id = SandboxId::parse(report->sandbox_id);
  if (!id) return rejected(make_error(ErrorCode::invalid_argument, "sandbox_id '" + report->sandbox_id + "' is not a UUID"));
  auto command = command_of(runner, *report);
  if (!command) return rejected(command.error());

  auto meta = report_metadata(runner, *report);
  auto executed = execute_sandbox(db, *id, meta, [&](const sandbox::State& s) -> Result<sandbox::Events> {
    if (!s.exists) return make_error(ErrorCode::not_found, "sandbox " + id->str() + " does not exist");
    // A runner speaks only for the sandboxes assigned to it (events/access.hpp).
    if (!access::authorize(access::RunnerCaller{runner}, access::Action::report, resource_of(s))) {
      return make_error(ErrorCode::wrong_runner, "sandbox " + id->str() + " is not assigned to runner " + runner.str());
    }
    meta.organization_id = s.organization_id.str();  // the events belong to the sandbox's organization
    return sandbox::decide(*command, s);
  });
  if (!executed) return rejected(executed.error());
  return accepted(*executed);
}

std::string answer_report(Db& db, const std::string& subject, std::string_view body) {
  ReportReply reply;
  const auto runner = RunnerId::parse(subject.substr(subject.rfind('.') + 1));
  if (!runner) {
    reply = rejected(make_error(ErrorCode::invalid_argument, "subject " + subject + " does not name a runner"));
  } else {
    try {
      reply = db.run_blocking([&](DbContext& ctx) { return apply_report(ctx, *runner, body); });
    } catch (const std::exception& e) {
      reply = rejected(make_error(ErrorCode::unavailable, e.what()));
    }
  }
  if (!reply.ok && reply.code != "duplicate_report") {
    spdlog::warn("runner report rejected ({}: {}): {}", reply.code, reply.message, body);
  }
  return to_json_text(reply);
}

ReportListener::ReportListener(bus::Requests& bus, Db& db) {
  for (int i = 0; i < kMembers; ++i) {
    auto served = bus.serve(bus::kReportSubjects, "command-service", [&db](const std::string& subject, std::string_view body) {
      return answer_report(db, subject, body);
    });
    if (!served) return;
    services_.push_back(std::move(*served));
  }
}

}  // namespace command_service
