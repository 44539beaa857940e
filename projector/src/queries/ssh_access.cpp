#include "projector/queries/ssh_access.hpp"

#include "events/store/sql.hpp"

#include <pqxx/pqxx>

namespace projector::queries {

using events::exec_cached;

std::optional<SshAccessRow> ssh_access_by_hash(pqxx::transaction_base& tx, const std::string& token_hash) {
  const auto rows = exec_cached(tx,
                                "select access_id::text, sandbox_id::text, organization_id::text, status, "
                                "(extract(epoch from created_at) * 1000)::bigint, (extract(epoch from expires_at) * 1000)::bigint "
                                "from ssh_access where token_hash = $1",
                                token_hash);
  if (rows.empty()) return std::nullopt;
  const auto& r = rows[0];
  return SshAccessRow{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                      r[4].as<std::int64_t>(), r[5].as<std::int64_t>()};
}

std::vector<SshExpiry> ssh_access_to_expire(pqxx::transaction_base& tx, std::int64_t now_ms, int limit) {
  const auto rows = exec_cached(tx,
                                "select distinct sandbox_id::text, organization_id::text from ssh_access "
                                "where status = 'active' and expires_at <= to_timestamp($1 / 1000.0) limit $2",
                                now_ms, limit);
  std::vector<SshExpiry> out;
  for (const auto& r : rows) out.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
  return out;
}

}  // namespace projector::queries
