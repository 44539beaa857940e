#include "command_service/sandbox_view.hpp"
#include "command_service/dto.hpp"

#include <pqxx/pqxx>

namespace command_service {

using events::DesiredState;
using events::SandboxState;

const char* const kSandboxColumns =
    "id::text, organization_id::text, name, snapshot, region, os_user, state, desired_state, runner_id::text, "
    "cpu, gpu, memory, disk, env::text, labels::text, public, network_block_all, volumes::text, "
    "auto_stop_interval, auto_archive_interval, auto_delete_interval, coalesce(error_reason, ''), recoverable, "
    "to_char(created_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "coalesce(to_char(last_activity_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')";

SandboxView view_from_row(const pqxx::row& r) {
  SandboxView v;
  auto& s = v.state;
  s.exists = true;
  s.id = events::SandboxId{r[0].as<std::string>()};
  s.organization_id = events::OrganizationId{r[1].as<std::string>()};
  s.name = r[2].as<std::string>();
  s.snapshot = r[3].as<std::string>();
  v.region = r[4].as<std::string>();
  s.region = v.region;
  v.user = r[5].as<std::string>();
  boost::describe::enum_from_string(r[6].c_str(), s.actual);
  boost::describe::enum_from_string(r[7].c_str(), s.desired);
  if (!r[8].is_null()) s.runner = events::RunnerId{r[8].as<std::string>()};
  s.resources = {r[9].as<int>(), r[10].as<int>(), r[11].as<int>(), r[12].as<int>()};
  s.env = boost::json::value_to<events::StringMap>(boost::json::parse(r[13].as<std::string>()));
  s.labels = boost::json::value_to<events::StringMap>(boost::json::parse(r[14].as<std::string>()));
  s.is_public = r[15].as<bool>();
  s.network_block_all = r[16].as<bool>();
  s.volumes = boost::json::value_to<std::vector<events::VolumeMount>>(boost::json::parse(r[17].as<std::string>()));
  s.auto_stop_minutes = r[18].as<int>();
  s.auto_archive_minutes = r[19].as<int>();
  s.auto_delete_minutes = r[20].as<int>();
  s.error_reason = r[21].as<std::string>();
  s.recoverable = r[22].as<bool>();
  v.created_at = r[23].as<std::string>();
  v.updated_at = r[24].as<std::string>();
  v.last_activity_at = r[25].as<std::string>();
  return v;
}

std::string api_state(const events::sandbox::State& s) {
  const auto a = s.actual;
  switch (s.desired) {
    case DesiredState::destroyed:
      if (a != SandboxState::destroyed && a != SandboxState::destroying) return "destroying";
      break;
    case DesiredState::stopped:
      if (a == SandboxState::started) return "stopping";
      break;
    case DesiredState::archived:
      if (a == SandboxState::stopped) return "archiving";
      break;
    case DesiredState::started:
      if (a == SandboxState::stopped) return "starting";
      if (a == SandboxState::archived) return "restoring";
      break;
    default:
      break;
  }
  return std::string(events::to_string(a));
}

boost::json::object sandbox_dto(const SandboxView& v, const std::string& proxy_url, bool with_details) {
  const auto& s = v.state;
  dto::Sandbox out;
  out.id = s.id.str();
  out.name = s.name;
  out.organizationId = s.organization_id.str();
  out.user = v.user;
  out.target = v.region;
  out.snapshot = s.snapshot;
  out.state = api_state(s);
  out.desiredState = std::string(events::to_string(s.desired));
  out.labels = {s.labels.begin(), s.labels.end()};
  out.public_ = s.is_public;
  out.networkBlockAll = s.network_block_all;
  out.cpu = s.resources.cpu;
  out.gpu = s.resources.gpu;
  out.memory = s.resources.memory_gib;
  out.disk = s.resources.disk_gib;
  out.autoStopInterval = s.auto_stop_minutes;
  out.autoArchiveInterval = s.auto_archive_minutes;
  out.autoDeleteInterval = s.auto_delete_minutes;
  out.recoverable = s.recoverable;
  out.toolboxProxyUrl = proxy_url + "/toolbox";
  out.sandboxClass = "container";
  out.createdAt = v.created_at;
  out.updatedAt = v.updated_at;
  if (!s.error_reason.empty()) out.errorReason = s.error_reason;
  if (s.runner) out.runnerId = s.runner->str();
  if (!v.last_activity_at.empty()) out.lastActivityAt = v.last_activity_at;
  if (with_details) {
    out.env = dto::StringMap{s.env.begin(), s.env.end()};
    out.volumes.emplace();
    for (const auto& m : s.volumes) {
      out.volumes->push_back({m.volume_id.str(), m.mount_path,
                              m.subpath.empty() ? std::nullopt : std::optional<std::string>(m.subpath)});
    }
  }
  return events::http::to_json(out).as_object();
}

}  // namespace command_service
