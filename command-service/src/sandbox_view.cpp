#include "command_service/sandbox_view.hpp"

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
  boost::json::object labels;
  for (const auto& [k, val] : s.labels) labels[k] = val;
  boost::json::object dto{
      {"id", s.id.str()},
      {"name", s.name},
      {"organizationId", s.organization_id.str()},
      {"user", v.user},
      {"target", v.region},
      {"snapshot", s.snapshot},
      {"state", api_state(s)},
      {"desiredState", std::string(events::to_string(s.desired))},
      {"labels", std::move(labels)},
      {"public", s.is_public},
      {"networkBlockAll", s.network_block_all},
      {"cpu", s.resources.cpu},
      {"gpu", s.resources.gpu},
      {"memory", s.resources.memory_gib},
      {"disk", s.resources.disk_gib},
      {"autoStopInterval", s.auto_stop_minutes},
      {"autoArchiveInterval", s.auto_archive_minutes},
      {"autoDeleteInterval", s.auto_delete_minutes},
      {"recoverable", s.recoverable},
      {"toolboxProxyUrl", proxy_url + "/toolbox"},
      {"sandboxClass", "container"},
      {"createdAt", v.created_at},
      {"updatedAt", v.updated_at},
  };
  if (!s.error_reason.empty()) dto["errorReason"] = s.error_reason;
  if (s.runner) dto["runnerId"] = s.runner->str();
  if (!v.last_activity_at.empty()) dto["lastActivityAt"] = v.last_activity_at;
  if (with_details) {
    boost::json::object env;
    for (const auto& [k, val] : s.env) env[k] = val;
    dto["env"] = std::move(env);
    boost::json::array volumes;
    for (const auto& m : s.volumes) {
      boost::json::object vol{{"volumeId", m.volume_id.str()}, {"mountPath", m.mount_path}};
      if (!m.subpath.empty()) vol["subpath"] = m.subpath;
      volumes.push_back(std::move(vol));
    }
    dto["volumes"] = std::move(volumes);
  }
  return dto;
}

}  // namespace command_service
