#pragma once
// The questions the API asks of the ssh_access read model (src/models/ssh_access.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace projector::queries {

struct SshAccessRow {
  std::string access_id;
  std::string sandbox_id;
  std::string organization_id;
  std::string status;  // active, revoked, expired
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;
};
// The token with this hash (SHA-256 hex), whatever its status.
std::optional<SshAccessRow> ssh_access_by_hash(pqxx::transaction_base& tx, const std::string& token_hash);

// Sandboxes with an active token whose time has passed at `now_ms`, at most `limit`.
struct SshExpiry {
  std::string sandbox_id;
  std::string organization_id;
};
std::vector<SshExpiry> ssh_access_to_expire(pqxx::transaction_base& tx, std::int64_t now_ms, int limit);

}  // namespace projector::queries
