#pragma once
// The questions the API asks of the organizations and audit read models
// (src/models/organizations.cpp, src/models/audit_usage.cpp) and of the projector's checkpoints,
// beside them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace projector::queries {

// Whose key has this SHA-256 (hex), when it is not revoked.
struct KeyOwner {
  std::string organization_id;
  std::string key_id;
};
std::optional<KeyOwner> key_owner(pqxx::transaction_base& tx, const std::string& key_hash);

// An organization: its name and when it was made (ISO 8601, UTC).
struct OrganizationRow {
  std::string id;
  std::string name;
  std::string created_at;
};
std::optional<OrganizationRow> organization(pqxx::transaction_base& tx, const std::string& id);

// An organization's audit log after `after`, oldest first; the filters are optional. A time
// that PostgreSQL cannot read throws pqxx::data_exception.
struct AuditFilter {
  std::string organization;
  std::int64_t after = 0;
  std::optional<std::string> resource;
  std::optional<std::string> actor;
  std::optional<std::string> from;  // ISO 8601
  std::optional<std::string> to;
  int limit = 100;
};
struct AuditEntry {
  std::int64_t position = 0;
  std::string recorded_at;  // ISO 8601, UTC, microseconds
  std::string actor;
  std::string resource_type;
  std::string resource_id;
  std::string action;
  std::string correlation_id;
  std::string causation_id;
  std::string data_json;  // as stored: the caller redacts it
};
std::vector<AuditEntry> audit_entries(pqxx::transaction_base& tx, const AuditFilter& filter);

// How far a model has applied the log (0: not at all).
std::int64_t checkpoint(pqxx::transaction_base& tx, const std::string& model);

// Every model's checkpoint and the age in seconds of the oldest event it has not applied.
struct ModelLag {
  std::string model;
  std::int64_t position = 0;
  double oldest_unapplied_seconds = 0;
};
std::vector<ModelLag> model_lags(pqxx::transaction_base& tx);

}  // namespace projector::queries
