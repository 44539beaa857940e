#include "command_service/http/sandbox_view.hpp"
#include "command_service/http/dto.hpp"

namespace command_service {

using events::DesiredState;
using events::SandboxState;

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
  if (!s.network.allow_list.empty()) out.networkAllowList = events::network::joined(s.network.allow_list);
  if (!s.network.domain_allow_list.empty()) out.domainAllowList = events::network::joined(s.network.domain_allow_list);
  if (!s.network.deny_list.empty()) out.networkDenyList = events::network::joined(s.network.deny_list);
  if (!s.outbound_proxy_url.empty()) out.outboundProxyUrl = s.outbound_proxy_url;
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
  return events::http::to_object(out);
}

}  // namespace command_service
