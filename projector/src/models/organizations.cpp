// organizations and api_keys: who may call the API (keys by their SHA-256, never in clear).
#include "common.hpp"

namespace projector::models {
namespace {

using namespace events;

class Organizations final : public ReadModel {
 public:
  std::string name() const override { return "organizations"; }
  std::vector<Table> tables() const override {
    return {{"organizations", "id"}, {"api_keys", "key_id"}};
  }
  std::string ddl() const override {
    return R"(create table if not exists organizations (
      id uuid primary key, name text not null, created_at timestamptz not null);
    create table if not exists api_keys (
      key_id uuid primary key, organization_id uuid not null, name text not null,
      key_hash text not null unique, key_prefix text not null, revoked boolean not null,
      created_at timestamptz not null, revoked_at timestamptz);)";
  }
  void prepare(pqxx::connection_base& c) const override {
    c.prepare("org_insert", "insert into organizations (id, name, created_at) values ($1, $2, $3::timestamptz) "
                            "on conflict (id) do nothing");
    c.prepare("key_insert",
              "insert into api_keys (key_id, organization_id, name, key_hash, key_prefix, revoked, created_at) "
              "values ($1, $2, $3, $4, $5, false, $6::timestamptz) on conflict (key_id) do nothing");
    c.prepare("key_revoke", "update api_keys set revoked = true, revoked_at = $2::timestamptz where key_id = $1");
  }
  bool wants(const RecordedEvent& e) const override { return e.category() == "organization"; }
  Result<void> apply(pqxx::transaction_base& tx, const RecordedEvent& e) const override {
    if (!wants(e)) return {};
    auto decoded = decode<OrganizationEvent>(e);
    if (!decoded) return decoded.error();
    const auto org = e.stream_id();
    std::visit(
        [&](const auto& ev) {
          using T = std::decay_t<decltype(ev)>;
          if constexpr (std::is_same_v<T, OrganizationCreated>) {
            tx.exec_prepared("org_insert", org, ev.name, e.recorded_at);
          } else if constexpr (std::is_same_v<T, ApiKeyCreated>) {
            tx.exec_prepared("key_insert", ev.key_id.str(), org, ev.name, ev.key_hash, ev.key_prefix, e.recorded_at);
          } else if constexpr (std::is_same_v<T, ApiKeyRevoked>) {
            tx.exec_prepared("key_revoke", ev.key_id.str(), e.recorded_at);
          }
        },
        *decoded);
    return {};
  }
};

}  // namespace

std::unique_ptr<ReadModel> make_organizations() { return std::make_unique<Organizations>(); }

}  // namespace projector::models
