// ssh_access: every SSH access token by its hash (never the token), with its sandbox, its
// organization, when it expires and whether it is still active (revoked and expired ones stay,
// with when and why they ended).
#include "common.hpp"

namespace projector::models {
namespace {

using namespace events;

class SshAccess final : public ReadModel {
 public:
  std::string name() const override { return "ssh_access"; }
  std::vector<Table> tables() const override { return {{"ssh_access", "access_id"}}; }
  std::string ddl() const override {
    return R"(create table if not exists ssh_access (
      access_id uuid primary key, sandbox_id uuid not null, organization_id uuid not null,
      token_hash text not null unique, created_at timestamptz not null, expires_at timestamptz not null,
      status text not null, ended_at timestamptz, ended_reason text not null default '');
    create index if not exists ssh_access_active on ssh_access (expires_at) where status = 'active';)";
  }
  void prepare(pqxx::connection_base& c) const override {
    c.prepare("ssh_grant",
              "insert into ssh_access (access_id, sandbox_id, organization_id, token_hash, created_at, expires_at, status) "
              "values ($1, $2, $3, $4, to_timestamp($5 / 1000.0), to_timestamp($6 / 1000.0), 'active') "
              "on conflict (access_id) do nothing");
    c.prepare("ssh_end",
              "update ssh_access set status = $2, ended_at = $3::timestamptz, ended_reason = $4 "
              "where access_id = $1 and status = 'active'");
  }
  bool wants(const RecordedEvent& e) const override { return e.category() == "sshaccess"; }
  Result<void> apply(pqxx::transaction_base& tx, const RecordedEvent& e) const override {
    if (!wants(e)) return {};
    auto decoded = decode<SshAccessEvent>(e);
    if (!decoded) return decoded.error();
    std::visit(
        [&](const auto& ev) {
          using T = std::decay_t<decltype(ev)>;
          if constexpr (std::is_same_v<T, SshAccessGranted>) {
            tx.exec_prepared("ssh_grant", ev.access_id.str(), ev.sandbox_id.str(), ev.organization_id.str(), ev.token_hash,
                             ev.created_at_ms, ev.expires_at_ms);
          } else if constexpr (std::is_same_v<T, SshAccessRevoked>) {
            tx.exec_prepared("ssh_end", ev.access_id.str(), "revoked", e.recorded_at, ev.reason);
          } else {
            tx.exec_prepared("ssh_end", ev.access_id.str(), "expired", e.recorded_at, "expired");
          }
        },
        *decoded);
    return {};
  }
};

}  // namespace

std::unique_ptr<ReadModel> make_ssh_access() { return std::make_unique<SshAccess>(); }

}  // namespace projector::models
