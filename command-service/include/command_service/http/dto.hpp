#pragma once
// What the API's routes take and answer, as described structs (events/http/dto.hpp): the handlers
// write these, and the OpenAPI document shows their schemas (Router::openapi), so a client
// generated from the document reads what the routes send. Names are the wire's (Daytona's DTOs,
// shared/daytona-api-compat.md §2).
#include "events/http/dto.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace command_service::dto {

using events::http::Nullable;
using StringMap = std::map<std::string, std::string>;

// The error body of every route: {statusCode, message, error, code?}.
struct Error {
  int statusCode = 0;
  std::string message;
  std::string error;
  std::optional<std::string> code;
};
BOOST_DESCRIBE_STRUCT(Error, (), (statusCode, message, error, code))

struct SandboxVolume {
  std::string volumeId;
  std::string mountPath;
  std::optional<std::string> subpath;
};
BOOST_DESCRIBE_STRUCT(SandboxVolume, (), (volumeId, mountPath, subpath))

struct Sandbox {
  std::string id;
  std::string name;
  std::string organizationId;
  std::string user;
  std::string target;
  std::string snapshot;
  std::string state;
  std::string desiredState;
  StringMap labels;
  bool public_ = false;
  bool networkBlockAll = false;
  std::optional<std::string> networkAllowList;  // comma-separated IPv4 CIDRs (Daytona's form)
  std::optional<std::string> domainAllowList;   // comma-separated names and *. wildcards
  std::optional<std::string> networkDenyList;   // comma-separated CIDRs and names
  std::optional<std::string> outboundProxyUrl;
  int cpu = 0;
  int gpu = 0;
  int memory = 0;  // GiB
  int disk = 0;    // GiB
  int autoStopInterval = 0;
  int autoArchiveInterval = 0;
  int autoDeleteInterval = 0;
  bool recoverable = false;
  std::string toolboxProxyUrl;
  std::string sandboxClass;
  std::string createdAt;
  std::string updatedAt;
  std::optional<std::string> errorReason;
  std::optional<std::string> runnerId;
  std::optional<std::string> lastActivityAt;
  std::optional<StringMap> env;                        // not in lists
  std::optional<std::vector<SandboxVolume>> volumes;  // not in lists
};
BOOST_DESCRIBE_STRUCT(Sandbox, (),
                      (id, name, organizationId, user, target, snapshot, state, desiredState, labels, public_,
                       networkBlockAll, networkAllowList, domainAllowList, networkDenyList, outboundProxyUrl,
                       cpu, gpu, memory, disk, autoStopInterval, autoArchiveInterval,
                       autoDeleteInterval, recoverable, toolboxProxyUrl, sandboxClass, createdAt, updatedAt,
                       errorReason, runnerId, lastActivityAt, env, volumes))

struct SandboxPage {
  std::vector<Sandbox> items;
  Nullable<std::string> nextCursor;
};
BOOST_DESCRIBE_STRUCT(SandboxPage, (), (items, nextCursor))

struct BuildInfo {
  std::optional<std::string> dockerfileContent;
};
BOOST_DESCRIBE_STRUCT(BuildInfo, (), (dockerfileContent))

// The body of POST /api/sandbox: every field may be left out. (parse_create_sandbox reads it and
// names the field of any problem; a unit test keeps the two in step.)
struct CreateSandbox {
  std::optional<std::string> name;
  std::optional<std::string> snapshot;
  std::optional<std::string> user;
  std::optional<std::string> target;
  std::optional<int> cpu;
  std::optional<int> gpu;
  std::optional<int> memory;
  std::optional<int> disk;
  std::optional<int> autoStopInterval;
  std::optional<int> autoArchiveInterval;
  std::optional<int> autoDeleteInterval;
  std::optional<bool> public_;
  std::optional<bool> networkBlockAll;
  std::optional<std::string> networkAllowList;
  std::optional<std::string> domainAllowList;
  std::optional<std::string> networkDenyList;
  std::optional<std::string> outboundProxyUrl;
  std::optional<bool> ephemeral;
  std::optional<StringMap> env;
  std::optional<StringMap> labels;
  std::optional<std::vector<SandboxVolume>> volumes;
  std::optional<BuildInfo> buildInfo;
};
BOOST_DESCRIBE_STRUCT(CreateSandbox, (),
                      (name, snapshot, user, target, cpu, gpu, memory, disk, autoStopInterval, autoArchiveInterval,
                       autoDeleteInterval, public_, networkBlockAll, networkAllowList, domainAllowList, networkDenyList,
                       outboundProxyUrl, ephemeral, env, labels, volumes, buildInfo))

// POST /api/sandbox/{id}/network-settings (Daytona's UpdateSandboxNetworkSettings, plus the deny
// list). Lists are comma-separated; an array of strings is taken too.
struct NetworkSettings {
  std::optional<bool> networkBlockAll;
  std::optional<std::string> networkAllowList;
  std::optional<std::string> domainAllowList;
  std::optional<std::string> networkDenyList;
};
BOOST_DESCRIBE_STRUCT(NetworkSettings, (), (networkBlockAll, networkAllowList, domainAllowList, networkDenyList))

// An egress policy as the admin routes show it.
struct NetworkPolicyBody {
  bool networkBlockAll = false;
  std::vector<std::string> networkAllowList;
  std::vector<std::string> domainAllowList;
  std::vector<std::string> networkDenyList;
};
BOOST_DESCRIBE_STRUCT(NetworkPolicyBody, (), (networkBlockAll, networkAllowList, domainAllowList, networkDenyList))

// PUT/GET /api/admin/organizations/{id}/network: the defaults of new sandboxes and the limit
// enforced beside every sandbox's own policy; null: none.
struct OrganizationNetwork {
  std::optional<NetworkPolicyBody> defaults;
  std::optional<NetworkPolicyBody> limit;
};
BOOST_DESCRIBE_STRUCT(OrganizationNetwork, (), (defaults, limit))

struct Labels {
  StringMap labels;
};
BOOST_DESCRIBE_STRUCT(Labels, (), (labels))

struct Volume {
  std::string id;
  std::string name;
  std::string organizationId;
  std::string state;
  std::string createdAt;
  std::string updatedAt;
  Nullable<std::string> lastUsedAt;
  Nullable<std::string> errorReason;
};
BOOST_DESCRIBE_STRUCT(Volume, (), (id, name, organizationId, state, createdAt, updatedAt, lastUsedAt, errorReason))

struct Snapshot {
  std::string id;
  Nullable<std::string> organizationId;
  bool general = false;
  std::string name;
  std::string imageName;
  std::string state;
  Nullable<double> size;  // GiB
  std::vector<std::string> entrypoint;
  int cpu = 0;
  int gpu = 0;
  int mem = 0;
  int disk = 0;
  Nullable<std::string> errorReason;
  std::string createdAt;
  std::string updatedAt;
  Nullable<std::string> lastUsedAt;
};
BOOST_DESCRIBE_STRUCT(Snapshot, (),
                      (id, organizationId, general, name, imageName, state, size, entrypoint, cpu, gpu, mem, disk,
                       errorReason, createdAt, updatedAt, lastUsedAt))

// A body of just a name (create a volume, an organization).
struct Named {
  std::string name;
};
BOOST_DESCRIBE_STRUCT(Named, (), (name))

struct SnapshotPage {
  std::vector<Snapshot> items;
  std::int64_t total = 0;
  int page = 0;
  std::int64_t totalPages = 0;
};
BOOST_DESCRIBE_STRUCT(SnapshotPage, (), (items, total, page, totalPages))

struct CreateSnapshot {
  std::string name;
  std::string imageName;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<int> cpu;
  std::optional<int> gpu;
  std::optional<int> memory;
  std::optional<int> disk;
};
BOOST_DESCRIBE_STRUCT(CreateSnapshot, (), (name, imageName, entrypoint, cpu, gpu, memory, disk))

// What a delete answers when it has nothing else to show.
struct Removed {
  std::string id;
};
BOOST_DESCRIBE_STRUCT(Removed, (), (id))

// GET .../ports/{port}/preview-url (getPreviewLink): the URL and the token that opens this port.
struct PreviewUrl {
  std::string sandboxId;
  std::string url;
  std::string token;
};
BOOST_DESCRIBE_STRUCT(PreviewUrl, (), (sandboxId, url, token))

// GET .../ports/{port}/signed-preview-url: a URL carrying its own token.
struct SignedPreviewUrl {
  std::string sandboxId;
  int port = 0;
  std::string token;
  std::string url;
};
BOOST_DESCRIBE_STRUCT(SignedPreviewUrl, (), (sandboxId, port, token, url))

struct Url {
  std::string url;
};
BOOST_DESCRIBE_STRUCT(Url, (), (url))

// Admin: an organization and its first key (the key is shown this once).
struct NewOrganization {
  std::string id;
  std::string name;
  std::string apiKey;
  std::string keyId;
};
BOOST_DESCRIBE_STRUCT(NewOrganization, (), (id, name, apiKey, keyId))

struct NamedRequest {
  std::optional<std::string> name;
};
BOOST_DESCRIBE_STRUCT(NamedRequest, (), (name))

struct NewApiKey {
  std::string keyId;
  std::string apiKey;
  std::string prefix;
};
BOOST_DESCRIBE_STRUCT(NewApiKey, (), (keyId, apiKey, prefix))

struct RevokedApiKey {
  std::string keyId;
  bool revoked = false;
};
BOOST_DESCRIBE_STRUCT(RevokedApiKey, (), (keyId, revoked))

// The audit log: entries after a position, and where the next page starts.
struct AuditEntry {
  std::int64_t position = 0;
  std::string recordedAt;
  std::string actor;
  std::string resourceType;
  std::string resourceId;
  std::string action;
  std::string correlationId;
  std::string causationId;
  boost::json::value data;  // the event's payload, redacted
};
BOOST_DESCRIBE_STRUCT(AuditEntry, (),
                      (position, recordedAt, actor, resourceType, resourceId, action, correlationId, causationId, data))

struct AuditPage {
  std::vector<AuditEntry> items;
  std::int64_t nextAfter = 0;
};
BOOST_DESCRIBE_STRUCT(AuditPage, (), (items, nextAfter))

// Admin: a warm pool and its members.
struct WarmPool {
  std::string id;
  std::string snapshot;
  std::string region;
  int cpu = 0;
  int gpu = 0;
  int memory = 0;
  int disk = 0;
  int size = 0;
  int ready = 0;
  int starting = 0;
  int claimed = 0;
};
BOOST_DESCRIBE_STRUCT(WarmPool, (), (id, snapshot, region, cpu, gpu, memory, disk, size, ready, starting, claimed))

struct WarmPoolList {
  std::vector<WarmPool> items;
};
BOOST_DESCRIBE_STRUCT(WarmPoolList, (), (items))

// Admin: a runner, its capacity and load.
struct RunnerCapacity {
  int cpu = 0;
  int memory_gib = 0;
  int disk_gib = 0;
  int max_sandboxes = 0;
};
BOOST_DESCRIBE_STRUCT(RunnerCapacity, (), (cpu, memory_gib, disk_gib, max_sandboxes))

struct Runner {
  std::string id;
  std::string region;
  std::string endpoint;
  std::string state;
  RunnerCapacity capacity;
  int reportedSandboxes = 0;
  int assignedSandboxes = 0;
  std::string lastHeartbeatAt;  // empty: none yet
};
BOOST_DESCRIBE_STRUCT(Runner, (),
                      (id, region, endpoint, state, capacity, reportedSandboxes, assignedSandboxes, lastHeartbeatAt))

struct RunnerList {
  std::vector<Runner> items;
};
BOOST_DESCRIBE_STRUCT(RunnerList, (), (items))

}  // namespace command_service::dto
