// warm_pools: each pool's snapshot, region, resource class and size (its members are rows of
// sandboxes with warm_pool set; the admin list counts them there).
#include "common.hpp"

namespace projector::models {
namespace {

using namespace events;

class WarmPools final : public ReadModel {
 public:
  std::string name() const override { return "warm_pools"; }
  std::vector<Table> tables() const override { return {{"warm_pools", "id"}}; }
  std::string ddl() const override {
    return R"(create table if not exists warm_pools (
      id uuid primary key, snapshot text not null, region text not null, cpu int not null,
      gpu int not null, memory int not null, disk int not null, size int not null,
      updated_at timestamptz not null);)";
  }
  void prepare(pqxx::connection_base& c) const override {
    c.prepare("pool_upsert",
              "insert into warm_pools (id, snapshot, region, cpu, gpu, memory, disk, size, updated_at) "
              "values ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz) on conflict (id) do update set "
              "size = excluded.size, updated_at = excluded.updated_at");
  }
  bool wants(const RecordedEvent& e) const override { return e.category() == "warmpool"; }
  Result<void> apply(pqxx::transaction_base& tx, const RecordedEvent& e) const override {
    if (!wants(e)) return {};
    auto decoded = decode<WarmPoolEvent>(e);
    if (!decoded) return decoded.error();
    const auto& p = std::get<WarmPoolSized>(*decoded);
    tx.exec_prepared("pool_upsert", p.pool_id.str(), p.snapshot, p.region, p.resources.cpu, p.resources.gpu,
                     p.resources.memory_gib, p.resources.disk_gib, p.size, e.recorded_at);
    return {};
  }
};

}  // namespace

std::unique_ptr<ReadModel> make_warm_pools() { return std::make_unique<WarmPools>(); }

}  // namespace projector::models
