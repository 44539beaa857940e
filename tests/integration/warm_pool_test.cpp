// Warm pools with real sandboxes: an operator sizes a pool, the refill starts its sandboxes, a
// matching create claims one (an event) and gets its env, labels and name at claim time, the
// pool refills, another organization's claim gets a fresh sandbox, and creates that do not match
// (or a pool turned off) take the cold path.
#include "runner_fixture.hpp"

#include "command_service/app/warm_pools.hpp"
#include "events/api_keys.hpp"
#include "events/bus/placements.hpp"

#include <nats/nats.h>

#include <mutex>

namespace {

using command_service::DbContext;

void refill(Api& api) {
  api.db.run_blocking([](DbContext& db) { return command_service::refill_warm_pools(db, std::chrono::system_clock::now()); });
}

HttpReply admin(Api& api, const std::string& method, const std::string& path, const std::string& body = {}) {
  return http_call(api.port(), method, path, body, {{"Authorization", "Bearer " + api.admin_key}});
}

// The pool's counts, refilling until `ready` sandboxes are ready (the scheduler's loop does
// this every second in the service).
bool pool_reaches(Api& api, int ready) {
  std::string last;
  const bool reached = eventually([&] {
    refill(api);
    const auto listed = admin(api, "GET", "/api/admin/warm-pools");
    last = listed.body;
    const auto pools = parse(listed);
    const auto& items = pools.at("items").as_array();
    return !items.empty() && items[0].as_object().at("ready").as_int64() == ready &&
           items[0].as_object().at("starting").as_int64() == 0;
  }, std::chrono::seconds(60));
  if (!reached) UNSCOPED_INFO("the pool: " << last);
  return reached;
}

std::int64_t pool_events(Api& api) {
  pqxx::connection c(api.conn);
  pqxx::nontransaction tx(c);
  return tx.exec("select count(*) from events where stream like 'warmpool-%'")[0][0].as<std::int64_t>();
}

std::vector<std::string> event_types(Api& api, const std::string& id) {
  pqxx::connection c(api.conn);
  pqxx::nontransaction tx(c);
  std::vector<std::string> types;
  for (const auto& row : tx.exec_params("select type from events where stream = $1 order by version", "sandbox-" + id)) {
    types.push_back(row[0].as<std::string>());
  }
  return types;
}

std::string claim_field(Api& api, const std::string& id, const std::string& field) {
  pqxx::connection c(api.conn);
  pqxx::nontransaction tx(c);
  const auto rows = tx.exec_params("select data->>$2 from events where stream = $1 and type = 'SandboxClaimed'",
                                   "sandbox-" + id, field);
  return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].as<std::string>();
}

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// Every placement hand-off the API publishes for the edge proxies (events/bus/placements.hpp).
class HandOffs {
 public:
  explicit HandOffs(Api& api) : listener_(*api.nats, [this](const wire::PlacementHandOff& h) {
    std::lock_guard lock(mutex_);
    seen_.push_back(h);
  }) {
    REQUIRE(listener_.ok());
    REQUIRE(natsConnection_Flush(api.nats->connection()) == NATS_OK);
  }
  // How many hand-offs of `id` were heard so far.
  std::size_t count(const std::string& id) {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(seen_.begin(), seen_.end(), [&](const auto& h) { return h.placement.id.str() == id; }));
  }
  std::optional<wire::PlacementHandOff> of(const std::string& id) {
    std::optional<wire::PlacementHandOff> found;
    eventually([&] {
      std::lock_guard lock(mutex_);
      for (const auto& h : seen_) {
        if (h.placement.id.str() == id) found = h;
      }
      return found.has_value();
    }, std::chrono::seconds(2));
    return found;
  }

 private:
  std::mutex mutex_;
  std::vector<wire::PlacementHandOff> seen_;
  bus::PlacementListener listener_;
};

std::string run(RunnerProcess& r, const std::string& id, const std::string& command) {
  return toolbox(r, id, "POST", "/process/execute", boost::json::serialize(boost::json::object{{"command", command}}));
}

}  // namespace

TEST_CASE("warm pool: claims, refill, isolation between claimers and the cold path", "[root]") {
  Api api;
  RunnerProcess r(api);
  runner_ready(api, r);
  HandOffs handed(api);

  // Bad sizes are refused with the reason, and append nothing.
  const auto before = pool_events(api);
  auto too_big = admin(api, "PUT", "/api/admin/warm-pools", R"({"size": 500})");
  CHECK(too_big.status == 400);
  CHECK_THAT(too_big.body, Catch::Contains("size must be between 0 and 100"));
  CHECK(admin(api, "PUT", "/api/admin/warm-pools", R"({"cpu": 1})").status == 400);
  CHECK(admin(api, "PUT", "/api/admin/warm-pools", R"({"snapshot": "nope", "size": 1})").status == 404);
  CHECK(admin(api, "PUT", "/api/admin/warm-pools", R"({"size": "two"})").status == 400);
  CHECK(api.call("PUT", "/api/admin/warm-pools", R"({"size": 1})").status == 401);  // an organization's key
  CHECK(pool_events(api) == before);

  auto sized = admin(api, "PUT", "/api/admin/warm-pools", R"({"snapshot": "default", "cpu": 1, "memory": 1, "disk": 3, "size": 2})");
  INFO(sized.body);
  REQUIRE(sized.status == 200);
  CHECK(parse(sized).at("size").as_int64() == 2);
  INFO("runner log:\n" << r.log());
  REQUIRE(pool_reaches(api, 2));

  // Organization a claims one: the create answers started, with a's name, labels and env.
  auto created = api.call("POST", "/api/sandbox",
                          R"({"name": "claimed-a", "env": {"WHO": "a"}, "labels": {"team": "x"}, "cpu": 1, "memory": 1, "disk": 3})");
  INFO(created.body);
  REQUIRE(created.status == 200);
  const auto a = parse(created);
  const auto a_id = str(a, "id");
  CHECK(str(a, "state") == "started");
  CHECK(str(a, "name") == "claimed-a");
  CHECK(str(a.at("labels").as_object(), "team") == "x");
  const auto a_events = event_types(api, a_id);
  CHECK(has(a_events, "SandboxJoinedWarmPool"));
  CHECK(has(a_events, "SandboxClaimed"));
  // The API gave the daemon the env through the runner's endpoint before the claim: started at once.
  CHECK(a_events.back() == "SandboxClaimed");
  CHECK(claim_field(api, a_id, "env_applied") == "true");
  // The edge proxies were told where it runs and that a's key may use its toolbox.
  const auto a_handed = handed.of(a_id);
  REQUIRE(a_handed);
  CHECK(a_handed->placement.organization_id.str() == str(a, "organizationId"));
  CHECK(a_handed->placement.state == SandboxState::started);
  CHECK(a_handed->placement.runner_endpoint == "127.0.0.1:" + std::to_string(r.endpoint_port));
  CHECK(a_handed->key_sha256 == sha256_hex(api.key_a));
  // The env is there for every toolbox command, at once.
  CHECK_THAT(run(r, a_id, "echo who=$WHO"), Catch::Contains("who=a"));
  CHECK(api.call("GET", "/api/sandbox/" + a_id, "", api.key_b).status == 404);
  CHECK(str(parse(api.call("GET", "/api/sandbox/claimed-a")), "id") == a_id);
  CHECK(sh(r, a_id, "echo private > /home/daytona/a.txt").first == 0);
  // The pool refills in the background.
  REQUIRE(pool_reaches(api, 2));

  // Organization b claims another, with the runner's endpoint unreachable from the API: the
  // runner applies the env from the claim event and reports started. Nothing of a's in it.
  {
    pqxx::connection c(api.conn);
    pqxx::nontransaction tx(c);
    tx.exec("update read.runners set endpoint = '127.0.0.1:1'");
  }
  auto b_created = api.call("POST", "/api/sandbox", R"({"name": "claimed-b", "env": {"OTHER": "b"}})", api.key_b);
  INFO(b_created.body);
  REQUIRE(b_created.status == 200);
  const auto b_id = str(parse(b_created), "id");
  CHECK(b_id != a_id);
  CHECK(has(event_types(api, b_id), "SandboxClaimed"));
  CHECK(claim_field(api, b_id, "env_applied") == "false");
  CHECK(event_types(api, b_id).back() == "SandboxStarted");
  CHECK(str(parse(b_created), "state") == "started");
  const auto b_handed = handed.of(b_id);
  REQUIRE(b_handed);
  CHECK(b_handed->key_sha256 == sha256_hex(api.key_b));
  CHECK(b_handed->placement.organization_id.str() == str(parse(b_created), "organizationId"));
  const auto b_env = run(r, b_id, "echo who=$WHO other=$OTHER; ls /home/daytona");
  CHECK_THAT(b_env, Catch::Contains("who= other=b"));
  CHECK_THAT(b_env, !Catch::Contains("a.txt"));
  // A create with no env (the SDK's default) has nothing to give the daemon: the claim leaves the
  // sandbox started without a trip to the runner (whose endpoint is still unreachable here).
  REQUIRE(pool_reaches(api, 2));
  auto bare = api.call("POST", "/api/sandbox", R"({"name": "claimed-no-env"})");
  INFO(bare.body);
  REQUIRE(bare.status == 200);
  const auto bare_id = str(parse(bare), "id");
  CHECK(str(parse(bare), "state") == "started");
  CHECK(event_types(api, bare_id).back() == "SandboxClaimed");
  CHECK(claim_field(api, bare_id, "env_applied") == "true");
  CHECK_THAT(run(r, bare_id, "echo who=$WHO other=$OTHER ok"), Catch::Contains("who= other= ok"));
  // The same name again in a: taken, and no sandbox of the pool is spent on it.
  CHECK(api.call("POST", "/api/sandbox", R"({"name": "claimed-a"})").status == 409);

  // Another resource class: the cold path (created, then started by the runner).
  auto cold = api.call("POST", "/api/sandbox", R"({"name": "cold", "cpu": 2})");
  INFO(cold.body);
  INFO(admin(api, "GET", "/api/runners").body);
  REQUIRE(cold.status == 200);
  const auto cold_id = str(parse(cold), "id");
  CHECK_FALSE(has(event_types(api, cold_id), "SandboxClaimed"));
  REQUIRE_REACHES(api, r, cold_id, "started");
  // Started after its request: the proxies hear where it runs and the creator's key once the log
  // has it started (app/started_placements.hpp), never while it is starting.
  const auto cold_handed = handed.of(cold_id);
  REQUIRE(cold_handed);
  CHECK(cold_handed->placement.state == SandboxState::started);
  CHECK(cold_handed->placement.organization_id.str() == str(parse(cold), "organizationId"));
  CHECK(cold_handed->placement.runner_endpoint == "127.0.0.1:1");  // the runners model's, as set above
  CHECK(cold_handed->key_sha256 == sha256_hex(api.key_a));
  CHECK(handed.count(cold_id) == 1);
  // Stopped, then started again: handed over again once started, and not for the stop.
  REQUIRE(api.call("POST", "/api/sandbox/" + cold_id + "/stop").status == 200);
  REQUIRE_REACHES(api, r, cold_id, "stopped");
  CHECK(handed.count(cold_id) == 1);
  REQUIRE(api.call("POST", "/api/sandbox/" + cold_id + "/start").status == 200);
  REQUIRE_REACHES(api, r, cold_id, "started");
  CHECK(eventually([&] { return handed.count(cold_id) == 2; }, std::chrono::seconds(2)));

  // Turned off: its sandboxes go, and matching creates take the cold path.
  REQUIRE(pool_reaches(api, 2));
  REQUIRE(admin(api, "PUT", "/api/admin/warm-pools", R"({"snapshot": "default", "size": 0})").status == 200);
  REQUIRE(pool_reaches(api, 0));
  auto after_off = api.call("POST", "/api/sandbox", R"({"name": "after-off"})");
  REQUIRE(after_off.status == 200);
  const auto off_id = str(parse(after_off), "id");
  CHECK_FALSE(has(event_types(api, off_id), "SandboxClaimed"));
  REQUIRE_REACHES(api, r, off_id, "started");
  // The claimed sandboxes are their organizations' own now: deleting one does not touch the pool.
  CHECK(api.call("DELETE", "/api/sandbox/" + a_id).status == 200);
  REQUIRE_REACHES(api, r, a_id, "gone");
}
