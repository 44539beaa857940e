#include "projector/read_model.hpp"

namespace projector {
namespace models {
std::unique_ptr<ReadModel> make_sandboxes();
std::unique_ptr<ReadModel> make_organizations();
std::unique_ptr<ReadModel> make_runners();
std::unique_ptr<ReadModel> make_snapshots();
std::unique_ptr<ReadModel> make_volumes();
std::unique_ptr<ReadModel> make_audit();
std::unique_ptr<ReadModel> make_usage();
std::unique_ptr<ReadModel> make_warm_pools();
std::unique_ptr<ReadModel> make_webhook_endpoints();
std::unique_ptr<ReadModel> make_ssh_access();
}  // namespace models

std::vector<std::unique_ptr<ReadModel>> all_models() {
  std::vector<std::unique_ptr<ReadModel>> out;
  out.push_back(models::make_sandboxes());
  out.push_back(models::make_organizations());
  out.push_back(models::make_runners());
  out.push_back(models::make_snapshots());
  out.push_back(models::make_volumes());
  out.push_back(models::make_audit());
  out.push_back(models::make_usage());
  out.push_back(models::make_warm_pools());
  out.push_back(models::make_webhook_endpoints());
  out.push_back(models::make_ssh_access());
  return out;
}

std::vector<const ReadModel*> borrow(const std::vector<std::unique_ptr<ReadModel>>& models) {
  std::vector<const ReadModel*> out;
  for (const auto& m : models) out.push_back(m.get());
  return out;
}

}  // namespace projector
