#include "projector/queries/organizations_audit.hpp"

#include "columns.hpp"

#include "events/store/sql.hpp"

#include <pqxx/pqxx>

namespace projector::queries {

using events::exec_cached;

std::optional<KeyOwner> key_owner(pqxx::transaction_base& tx, const std::string& key_hash) {
  const auto rows = exec_cached(
      tx, "select organization_id::text, key_id::text from api_keys where key_hash = $1 and not revoked", key_hash);
  if (rows.empty()) return std::nullopt;
  return KeyOwner{rows[0][0].as<std::string>(), rows[0][1].as<std::string>()};
}

std::optional<OrganizationRow> organization(pqxx::transaction_base& tx, const std::string& id) {
  const auto rows = exec_cached(tx, "select id::text, name, " PROJECTOR_ISO("created_at") " from organizations where id::text = $1", id);
  if (rows.empty()) return std::nullopt;
  return OrganizationRow{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(), rows[0][2].as<std::string>()};
}

std::vector<AuditEntry> audit_entries(pqxx::transaction_base& tx, const AuditFilter& f) {
  const auto rows = exec_cached(
      tx,
      "select position, to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor, "
      "resource_type, resource_id, action, correlation_id, causation_id, data::text from audit_log "
      "where organization_id = $1 and position > $2 and ($3::text is null or resource_id = $3) "
      "and ($4::text is null or actor = $4) and ($5::timestamptz is null or recorded_at >= $5::timestamptz) "
      "and ($6::timestamptz is null or recorded_at <= $6::timestamptz) order by position limit $7",
      f.organization, f.after, f.resource, f.actor, f.from, f.to, f.limit);
  std::vector<AuditEntry> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::int64_t>(), r[1].c_str(), r[2].c_str(), r[3].c_str(), r[4].c_str(), r[5].c_str(),
                   r[6].c_str(), r[7].c_str(), r[8].c_str()});
  }
  return out;
}

std::int64_t checkpoint(pqxx::transaction_base& tx, const std::string& model) {
  const auto rows = exec_cached(tx, "select position from projection_checkpoints where model = $1", model);
  return rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
}

std::vector<ModelLag> model_lags(pqxx::transaction_base& tx) {
  const auto rows = exec_cached(
      tx,
      "select c.model, c.position, coalesce((select extract(epoch from now() - e.recorded_at) from events e "
      "where e.position > c.position order by e.position limit 1), 0) from projection_checkpoints c order by c.model");
  std::vector<ModelLag> out;
  for (const auto& r : rows) out.push_back({r[0].c_str(), r[1].as<std::int64_t>(), r[2].as<double>()});
  return out;
}

}  // namespace projector::queries
