#include "events/codec.hpp"

#include <functional>
#include <map>
#include <utility>

namespace events {
namespace {

namespace json = boost::json;
using Step = std::function<void(json::object&)>;

// SandboxCreated v1 kept cpu/memory/disk at the top level and had neither labels nor
// network_block_all; v2 groups the resources and adds both.
void sandbox_created_v1_to_v2(json::object& o) {
  json::object resources;
  auto take = [&](const char* from, const char* to, int fallback) {
    if (auto* v = o.if_contains(from); v != nullptr && v->is_int64()) {
      resources[to] = v->as_int64();
    } else {
      resources[to] = fallback;
    }
    o.erase(from);
  };
  take("cpu", "cpu", 1);
  take("gpu", "gpu", 0);
  take("memory", "memory_gib", 1);
  take("disk", "disk_gib", 3);
  o["resources"] = std::move(resources);
  if (!o.contains("labels")) o["labels"] = json::object{};
  if (!o.contains("network_block_all")) o["network_block_all"] = false;
}

const std::map<std::pair<std::string, int>, Step, std::less<>>& registry() {
  static const std::map<std::pair<std::string, int>, Step, std::less<>> steps = {
      {{"SandboxCreated", 1}, sandbox_created_v1_to_v2},
  };
  return steps;
}

}  // namespace

bool upcast_step(std::string_view type, int from_version, json::object& payload) {
  const auto& steps = registry();
  auto it = steps.find(std::make_pair(std::string(type), from_version));
  if (it == steps.end()) return false;
  it->second(payload);
  return true;
}

}  // namespace events
