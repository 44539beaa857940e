#include "events/deciders/warm_pool.hpp"

#include "events/api_keys.hpp"
#include "events/deciders/validate.hpp"

namespace events {

WarmPoolId warm_pool_id(std::string_view snapshot, std::string_view region, const Resources& r) {
  return *WarmPoolId::parse(uuid_of_text("warmpool/" + std::string(snapshot) + "/" + std::string(region) + "/" +
                                         std::to_string(r.cpu) + "/" + std::to_string(r.gpu) + "/" +
                                         std::to_string(r.memory_gib) + "/" + std::to_string(r.disk_gib)));
}

OrganizationId warm_pool_organization() { return *OrganizationId::parse("00000000-0000-0000-0000-000000000000"); }

namespace warm_pool {

Result<Events> decide(const Command& command, const State& state) {
  const auto& c = std::get<SetSize>(command);
  if (c.snapshot.empty()) return make_error(ErrorCode::invalid_argument, "snapshot must be set");
  if (c.region.empty()) return make_error(ErrorCode::invalid_argument, "region must be set");
  if (auto bad = validate::resources(c.resources)) return *bad;
  if (c.size < 0 || c.size > kMaxSize) {
    return make_error(ErrorCode::invalid_argument,
                      "size must be between 0 and " + std::to_string(kMaxSize) + ", got " + std::to_string(c.size));
  }
  if (state.exists && state.pool.size == c.size) return Events{};
  return Events{WarmPoolSized{warm_pool_id(c.snapshot, c.region, c.resources), c.snapshot, c.region, c.resources, c.size}};
}

State evolve(State state, const WarmPoolEvent& event) {
  state.exists = true;
  state.pool = std::get<WarmPoolSized>(event);
  return state;
}

}  // namespace warm_pool
}  // namespace events
