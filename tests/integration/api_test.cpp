// The command service over real HTTP, against real PostgreSQL, NATS and projector.
#include "api_fixture.hpp"

TEST_CASE("api: health and the generated OpenAPI document") {
  Api api;
  auto health = http_call(api.port(), "GET", "/api/health");
  CHECK(health.status == 200);
  CHECK(str(parse(health).at("info").as_object(), "postgres") == "up");
  auto doc = http_call(api.port(), "GET", "/api/openapi.json");
  REQUIRE(doc.status == 200);
  const auto paths = parse(doc).at("paths").as_object();
  CHECK(paths.contains("/sandbox"));
  CHECK(paths.at("/sandbox").as_object().contains("post"));
  CHECK(paths.at("/sandbox").as_object().contains("get"));
  CHECK(paths.contains("/sandbox/{sandboxIdOrName}/stop"));
  CHECK(http_call(api.port(), "GET", "/api/nope").status == 404);
}

TEST_CASE("api: authentication and organization isolation") {
  Api api;
  auto none = http_call(api.port(), "GET", "/api/sandbox");
  CHECK(none.status == 401);
  CHECK(parse(none).at("statusCode").as_int64() == 401);
  CHECK(api.call("GET", "/api/sandbox", "", "dtn_wrong").status == 401);

  auto created = api.call("POST", "/api/sandbox", R"({"name":"mine","labels":{"code-toolbox-language":"python"}})");
  REQUIRE(created.status == 200);
  const auto id = str(parse(created), "id");
  CHECK(api.call("GET", "/api/sandbox/" + id).status == 200);
  auto other = api.call("GET", "/api/sandbox/" + id, "", api.key_b);
  CHECK(other.status == 404);
  CHECK_THAT(str(parse(other), "message"), Catch::Contains("not found"));
  CHECK(api.call("POST", "/api/sandbox/" + id + "/stop?force=false", "", api.key_b).status == 404);
  CHECK(api.call("DELETE", "/api/sandbox/" + id, "", api.key_b).status == 404);
  CHECK(parse(api.call("GET", "/api/sandbox", "", api.key_b)).at("items").as_array().empty());
}

TEST_CASE("api: create answers at once and a read right after sees it") {
  Api api;
  const auto before = api.event_count();
  auto created = api.call("POST", "/api/sandbox",
                          R"({"name":"box","env":{"A":"1"},"labels":{"team":"ml","code-toolbox-language":"python"},"cpu":2,"memory":2,"disk":5,"autoStopInterval":30})");
  REQUIRE(created.status == 200);
  CHECK(std::stoll(created.headers.at("X-Event-Position")) > 0);
  const auto dto = parse(created);
  CHECK(SandboxId::parse(str(dto, "id")));
  CHECK(str(dto, "state") == "creating");
  CHECK(str(dto, "name") == "box");
  CHECK(str(dto, "toolboxProxyUrl") == "http://127.0.0.1:4000/toolbox");
  CHECK(dto.at("labels").as_object().at("code-toolbox-language").as_string() == "python");
  CHECK(dto.at("env").as_object().at("A").as_string() == "1");
  CHECK(dto.at("cpu").as_int64() == 2);
  CHECK(dto.at("autoStopInterval").as_int64() == 30);
  CHECK(api.event_count() == before + 2);  // the name's claim and the sandbox; no runner registered, so not assigned

  auto got = api.call("GET", "/api/sandbox/" + str(dto, "id"));
  REQUIRE(got.status == 200);
  CHECK(str(parse(got), "name") == "box");
  auto by_name = api.call("GET", "/api/sandbox/box");
  REQUIRE(by_name.status == 200);
  CHECK(str(parse(by_name), "id") == str(dto, "id"));

  // Under load: 16 clients each create and read back at once.
  std::atomic<int> seen{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      // No Catch macros in these threads: Catch2 is not thread-safe.
      auto c = api.call("POST", "/api/sandbox", R"({"name":"load-)" + std::to_string(i) + R"("})");
      if (c.status != 200) return;
      boost::system::error_code ec;
      const auto body = json::parse(c.body, ec);
      if (ec || !body.is_object()) return;
      auto g = api.call("GET", "/api/sandbox/" + str(body.as_object(), "id"));
      if (g.status == 200) ++seen;
    });
  }
  for (auto& t : clients) t.join();
  CHECK(seen == 16);
}

TEST_CASE("api: a read right after a command sees it with the projector stopped (from the stream, not the read model)") {
  Api api;
  auto created = api.call("POST", "/api/sandbox", R"({"name":"ryw","labels":{"v":"1"}})");
  REQUIRE(created.status == 200);
  const auto id = str(parse(created), "id");
  api.wait_projected();
  api.projecting.request_stop();
  api.projecting.join();

  auto labelled = api.call("PUT", "/api/sandbox/" + id + "/labels", R"({"labels":{"v":"2"}})");
  REQUIRE(labelled.status == 200);
  for (const auto& target : {"/api/sandbox/" + id, std::string("/api/sandbox/ryw")}) {
    auto got = api.call("GET", target);
    REQUIRE(got.status == 200);
    const auto dto = parse(got);
    CHECK(str(dto, "id") == id);
    CHECK(str(dto, "name") == "ryw");
    CHECK(dto.at("labels").as_object().at("v").as_string() == "2");  // the read model still says "1"
    CHECK_FALSE(str(dto, "createdAt").empty());
  }
  pqxx::connection c(api.conn);
  CHECK(pqxx::nontransaction(c).exec_params("select labels->>'v' from read.sandboxes where id = $1", id)[0][0].as<std::string>() == "1");
  // Another organization still sees nothing of it.
  CHECK(api.call("GET", "/api/sandbox/" + id, "", api.key_b).status == 404);
  auto deleted = api.call("DELETE", "/api/sandbox/" + id);
  REQUIRE(deleted.status == 200);
  CHECK(api.call("GET", "/api/sandbox/" + id).status == 404);  // gone at once, projector or not
}

TEST_CASE("api: bad input gets a clear 4xx and appends nothing") {
  Api api;
  const auto before = api.event_count();
  struct Case {
    std::string body;
    int status;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {"{not json", 400, "not valid JSON"},
           {"[1,2]", 400, "JSON object"},
           {R"({"cpu":"two"})", 400, "cpu must be an integer"},
           {R"({"cpu":0})", 400, "cpu must be between"},
           {R"({"labels":{"code-toolbox-language":"cobol"}})", 400, "code-toolbox-language"},
           {R"({"env":{"1X":"a"}})", 400, "1X"},
           {R"({"env":{"A":1}})", 400, "env.A must be a string"},
           {R"({"volumes":[{"volumeId":"nope","mountPath":"/d"}]})", 400, "volumeId"},
           {R"({"public":"yes"})", 400, "public must be true or false"},
           {R"({"autoDeleteInterval":-5})", 400, "auto_delete"},
       }) {
    auto r = api.call("POST", "/api/sandbox", c.body);
    INFO(c.body << " -> " << r.body);
    CHECK(r.status == c.status);
    CHECK_THAT(str(parse(r), "message"), Catch::Contains(c.says));
  }
  auto big = api.call("POST", "/api/sandbox", R"({"name":")" + std::string(100 * 1024, 'x') + R"("})");
  CHECK(big.status == 413);
  CHECK(api.call("GET", "/api/sandbox/not-a-sandbox").status == 404);
  CHECK(api.call("POST", "/api/sandbox/x/autostop/ten").status == 400);
  CHECK(api.call("GET", "/api/sandbox?states=sleeping").status == 400);
  CHECK(api.call("GET", "/api/sandbox?limit=0").status == 400);
  CHECK(api.event_count() == before);
}

TEST_CASE("api: lifecycle commands check the state; labels, timers, delete") {
  Api api;
  auto created = api.call("POST", "/api/sandbox", R"({"name":"life"})");
  const auto id = str(parse(created), "id");
  const auto before = api.event_count();
  auto stop = api.call("POST", "/api/sandbox/" + id + "/stop?force=false");
  CHECK(stop.status == 409);
  CHECK_THAT(str(parse(stop), "message"), Catch::Contains("creating"));
  CHECK(api.call("POST", "/api/sandbox/" + id + "/archive").status == 409);
  CHECK(api.event_count() == before);
  CHECK(api.call("POST", "/api/sandbox/" + id + "/start").status == 200);  // already wanted started: no-op
  CHECK(api.event_count() == before);

  auto labels = api.call("PUT", "/api/sandbox/" + id + "/labels", R"({"labels":{"env":"prod"}})");
  REQUIRE(labels.status == 200);
  CHECK(parse(labels).at("labels").as_object().at("env").as_string() == "prod");
  CHECK(api.call("POST", "/api/sandbox/" + id + "/autostop/0").status == 200);
  CHECK(api.call("POST", "/api/sandbox/" + id + "/autodelete/-1").status == 200);
  CHECK(api.call("POST", "/api/sandbox/" + id + "/last-activity").status == 201);
  auto got = parse(api.call("GET", "/api/sandbox/" + id));
  CHECK(got.at("labels").as_object().at("env").as_string() == "prod");
  CHECK(got.at("autoStopInterval").as_int64() == 0);

  auto deleted = api.call("DELETE", "/api/sandbox/" + id);  // on no runner: destroyed at once
  REQUIRE(deleted.status == 200);
  CHECK(str(parse(deleted), "state") == "destroyed");
  CHECK(api.call("GET", "/api/sandbox/" + id).status == 404);  // gone, as the SDK expects after a delete
  CHECK(api.call("POST", "/api/sandbox/" + id + "/start").status == 404);
}

TEST_CASE("api: list with cursor pagination and label filters") {
  Api api;
  for (int i = 0; i < 5; ++i) {
    const std::string team = i % 2 == 0 ? "red" : "blue";
    REQUIRE(api.call("POST", "/api/sandbox", R"({"name":"p)" + std::to_string(i) + R"(","labels":{"team":")" + team +
                                                 R"("}})")
                .status == 200);
  }
  std::set<std::string> names;
  std::string cursor;
  int pages = 0;
  do {
    auto page = parse(api.call("GET", "/api/sandbox?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor)));
    for (const auto& item : page.at("items").as_array()) names.insert(str(item.as_object(), "name"));
    cursor = page.at("nextCursor").is_string() ? std::string(page.at("nextCursor").as_string()) : "";
    ++pages;
  } while (!cursor.empty() && pages < 10);
  CHECK(pages == 3);
  CHECK(names.size() == 5);
  auto red = parse(api.call("GET", "/api/sandbox?labels=%7B%22team%22%3A%22red%22%7D"));
  CHECK(red.at("items").as_array().size() == 3);
  auto named = parse(api.call("GET", "/api/sandbox?name=p1"));
  REQUIRE(named.at("items").as_array().size() == 1);
  CHECK(api.call("GET", "/api/sandbox?labels=notjson").status == 400);
}

TEST_CASE("api: Idempotency-Key returns the first result and writes nothing new") {
  Api api;
  const std::map<std::string, std::string> key{{"Idempotency-Key", "create-1"}};
  auto first = api.call("POST", "/api/sandbox", R"({"name":"idem"})", "", key);
  REQUIRE(first.status == 200);
  const auto count = api.event_count();
  auto again = api.call("POST", "/api/sandbox", R"({"name":"idem"})", "", key);
  REQUIRE(again.status == 200);
  CHECK(str(parse(again), "id") == str(parse(first), "id"));
  CHECK(api.event_count() == count);
  auto different = api.call("POST", "/api/sandbox", R"({"name":"other"})", "", key);
  CHECK(different.status == 409);
}

TEST_CASE("api: a create is scheduled on the least-loaded runner with room") {
  Api api;
  const auto busy = RunnerId::generate();
  const auto idle = RunnerId::generate();
  for (const auto& r : {busy, idle}) {
    auto reg = execute<RunnerEvent, runner::State>(
        api.store, StreamName::of("runner", r), Metadata{},
        [&](const runner::State& s) {
          return runner::decide(runner::Register{RunnerRegistered{r, "local", "127.0.0.1:1", {4, 8, 100, 10}}}, s);
        },
        [](runner::State s, const RunnerEvent& e) { return runner::evolve(std::move(s), e); });
    REQUIRE(reg);
  }
  {
    pqxx::connection c(api.conn);
    for (int i = 0; i < 500; ++i) {
      pqxx::nontransaction tx(c);
      if (tx.exec("select count(*) from read.runners")[0][0].as<int>() == 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::string first_runner;
  for (int i = 0; i < 2; ++i) {
    auto c = api.call("POST", "/api/sandbox", R"({"name":"s)" + std::to_string(i) + R"("})");
    REQUIRE(c.status == 200);
    const auto runner = str(parse(c), "runnerId");
    CHECK((runner == busy.str() || runner == idle.str()));
    if (i == 0) {
      first_runner = runner;
      // Let the runners projection count it before the next create.
      pqxx::connection db(api.conn);
      for (int k = 0; k < 500; ++k) {
        pqxx::nontransaction tx(db);
        if (tx.exec("select sum(assigned_sandboxes) from read.runners")[0][0].as<int>() == 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    } else {
      CHECK(runner != first_runner);  // the other one was less loaded
    }
  }
}

TEST_CASE("api: volumes") {
  Api api;
  auto created = api.call("POST", "/api/volumes", R"({"name":"data"})");
  REQUIRE(created.status == 200);
  const auto dto = parse(created);
  const auto id = str(dto, "id");
  CHECK(str(dto, "name") == "data");
  CHECK(str(dto, "state") == "pending_create");
  CHECK(dto.at("lastUsedAt").is_null());
  CHECK(str(parse(api.call("GET", "/api/volumes/by-name/data")), "id") == id);
  CHECK(str(parse(api.call("GET", "/api/volumes/" + id)), "name") == "data");
  auto list = json::parse(api.call("GET", "/api/volumes").body);
  REQUIRE(list.is_array());
  CHECK(list.as_array().size() == 1);
  CHECK(api.call("POST", "/api/volumes", R"({"name":"data"})").status == 409);
  CHECK(api.call("POST", "/api/volumes", R"({"nom":"x"})").status == 400);
  CHECK(api.call("POST", "/api/volumes", R"({"name":"bad name!"})").status == 400);
  CHECK(api.call("GET", "/api/volumes/by-name/data", "", api.key_b).status == 404);
  CHECK(api.call("DELETE", "/api/volumes/" + id, "", api.key_b).status == 404);
  CHECK(api.call("DELETE", "/api/volumes/" + id).status == 200);
  CHECK(str(parse(api.call("GET", "/api/volumes/" + id)), "state") == "pending_delete");
}

TEST_CASE("api: snapshots") {
  Api api;
  auto created = api.call("POST", "/api/snapshots", R"({"name":"py","imageName":"python:3.12","entrypoint":["sleep","infinity"],"cpu":2})");
  REQUIRE(created.status == 200);
  const auto dto = parse(created);
  const auto id = str(dto, "id");
  CHECK(str(dto, "state") == "pending");
  CHECK(str(dto, "imageName") == "python:3.12");
  CHECK(dto.at("cpu").as_int64() == 2);
  CHECK(dto.at("entrypoint").as_array().size() == 2);
  CHECK(str(parse(api.call("GET", "/api/snapshots/py")), "id") == id);
  // The list starts with the general default snapshot (the host userland every create uses).
  auto page = parse(api.call("GET", "/api/snapshots?page=1&limit=10"));
  CHECK(page.at("total").as_int64() == 2);
  CHECK(page.at("totalPages").as_int64() == 1);
  REQUIRE(page.at("items").as_array().size() == 2);
  CHECK(str(page.at("items").as_array()[0].as_object(), "name") == "default");
  CHECK(str(page.at("items").as_array()[1].as_object(), "id") == id);
  CHECK(str(parse(api.call("GET", "/api/snapshots/default")), "state") == "active");
  auto second = parse(api.call("GET", "/api/snapshots?page=2&limit=1"));
  CHECK(str(second.at("items").as_array()[0].as_object(), "id") == id);
  CHECK(second.at("totalPages").as_int64() == 2);
  CHECK(api.call("POST", "/api/snapshots", R"({"name":"py","imageName":"x"})").status == 409);
  CHECK(api.call("POST", "/api/snapshots", R"({"name":"bad name!","imageName":"x"})").status == 400);
  CHECK(api.call("POST", "/api/snapshots", R"({"name":"n"})").status == 400);  // no image
  CHECK(api.call("POST", "/api/snapshots", R"({"name":"n","imageName":"x","entrypoint":"sh"})").status == 400);
  auto activate = api.call("POST", "/api/snapshots/" + id + "/activate");
  CHECK(activate.status == 409);  // only an inactive snapshot can be activated
  CHECK_THAT(str(parse(activate), "message"), Catch::Contains("pending"));
  CHECK(api.call("POST", "/api/snapshots/" + id + "/deactivate").status == 409);
  CHECK(api.call("GET", "/api/snapshots/py", "", api.key_b).status == 404);
  CHECK(api.call("DELETE", "/api/snapshots/" + id).status == 200);
  CHECK(api.call("GET", "/api/snapshots/py").status == 200);  // removing, not yet removed
  CHECK(api.call("GET", "/api/snapshots?page=0").status == 400);
}

TEST_CASE("api: admin creates organizations and keys; a revoked key stops working at once") {
  Api api;
  const auto port = api.port();
  const std::map<std::string, std::string> admin{{"Authorization", "Bearer " + api.admin_key}};
  CHECK(http_call(port, "POST", "/api/admin/organizations", R"({"name":"c"})").status == 401);
  CHECK(http_call(port, "POST", "/api/admin/organizations", R"({"name":"c"})", {{"Authorization", "Bearer " + api.key_a}})
            .status == 401);
  auto org = http_call(port, "POST", "/api/admin/organizations", R"({"name":"c"})", admin);
  REQUIRE(org.status == 201);
  const auto org_dto = parse(org);
  const auto key = str(org_dto, "apiKey");
  CHECK(key.rfind("dtn_", 0) == 0);
  CHECK(api.call("GET", "/api/sandbox", "", key).status == 200);  // usable right away

  auto second = http_call(port, "POST", "/api/admin/organizations/" + str(org_dto, "id") + "/api-keys",
                          R"({"name":"ci"})", admin);
  REQUIRE(second.status == 201);
  const auto second_key = str(parse(second), "apiKey");
  CHECK(api.call("GET", "/api/sandbox", "", second_key).status == 200);
  auto revoked = http_call(port, "DELETE",
                           "/api/admin/organizations/" + str(org_dto, "id") + "/api-keys/" + str(parse(second), "keyId"),
                           "", admin);
  REQUIRE(revoked.status == 200);
  CHECK(api.call("GET", "/api/sandbox", "", second_key).status == 401);  // at once
  CHECK(api.call("GET", "/api/sandbox", "", key).status == 200);         // the other key still works
}

TEST_CASE("api: the audit log says who did what, scoped to the organization") {
  Api api;
  auto created = api.call("POST", "/api/sandbox", R"({"name":"audited"})", "", {{"X-Request-Id", "req-42"}});
  const auto id = str(parse(created), "id");
  api.call("PUT", "/api/sandbox/" + id + "/labels", R"({"labels":{"a":"b"}})");
  auto log = parse(api.call("GET", "/api/audit?resource=" + id));
  const auto& items = log.at("items").as_array();
  REQUIRE(items.size() == 2);
  CHECK(str(items[0].as_object(), "action") == "SandboxCreated");
  CHECK(str(items[0].as_object(), "correlationId") == "req-42");
  CHECK(str(items[0].as_object(), "actor").rfind("apikey:", 0) == 0);
  CHECK(str(items[1].as_object(), "action") == "SandboxLabelsReplaced");
  CHECK(parse(api.call("GET", "/api/audit?resource=" + id, "", api.key_b)).at("items").as_array().empty());
  CHECK(api.call("GET", "/api/audit?from=notatime").status == 400);
  CHECK(api.call("GET", "/api/audit?limit=5000").status == 400);
}

TEST_CASE("api: rate limits answer 429 with the X-RateLimit headers") {
  RateLimitSettings limits;  // the seed's defaults...
  limits.sandbox_create = 3;  // ...with a small create limit to reach in a test
  Api api(limits);
  for (int i = 0; i < 3; ++i) {
    auto ok = api.call("POST", "/api/sandbox", R"({"name":"rl)" + std::to_string(i) + R"("})");
    REQUIRE(ok.status == 200);
    CHECK(ok.headers.at("X-RateLimit-Limit") == "3");
    CHECK(ok.headers.at("X-RateLimit-Remaining") == std::to_string(2 - i));
  }
  auto limited = api.call("POST", "/api/sandbox", R"({"name":"rl3"})");
  CHECK(limited.status == 429);
  CHECK(limited.headers.at("X-RateLimit-Remaining") == "0");
  CHECK(std::stoi(limited.headers.at("X-RateLimit-Reset")) > 0);
  CHECK_THAT(str(parse(limited), "message"), Catch::Contains("sandbox creates"));
  CHECK(api.call("GET", "/api/sandbox").status == 200);  // other requests still go through
  CHECK(api.call("POST", "/api/sandbox", R"({"name":"b0"})", api.key_b).status == 200);  // per organization

  // Five failed authentications from one address: its next failure is refused with 429, but a
  // valid key from the same address still passes (a shared address is not locked out).
  for (int i = 0; i < 5; ++i) CHECK(api.call("GET", "/api/sandbox", "", "dtn_bad").status == 401);
  auto slowed = api.call("GET", "/api/sandbox", "", "dtn_bad");
  CHECK(slowed.status == 429);
  CHECK(slowed.headers.contains("Retry-After"));
  CHECK(api.call("GET", "/api/sandbox").status == 200);
}

TEST_CASE("api: with no runner, a sandbox goes to error after the bounded wait; a late runner gets the next one") {
  Api api;
  SchedulerSettings settings;
  settings.wait = std::chrono::seconds(1);
  auto created = api.call("POST", "/api/sandbox", R"({"name":"nowhere"})");
  const auto id = str(parse(created), "id");
  api.wait_projected();  // the scheduler reads the projection
  const auto now = std::chrono::system_clock::now();
  CHECK(api.db.run_blocking([&](DbContext& db) { return schedule_once(db, settings, now); }) == 0);  // still waiting
  // A second and a half later, by the scheduler's clock: no sleep.
  CHECK(api.db.run_blocking([&](DbContext& db) { return schedule_once(db, settings, now + std::chrono::milliseconds(1500)); }) == 1);
  auto failed = parse(api.call("GET", "/api/sandbox/" + id));
  CHECK(str(failed, "state") == "error");
  CHECK_THAT(str(failed, "errorReason"), Catch::Contains("no runner with free capacity in region 'local'"));

  auto waiting = api.call("POST", "/api/sandbox", R"({"name":"later"})");
  const auto later = str(parse(waiting), "id");
  const auto runner = RunnerId::generate();
  REQUIRE(execute<RunnerEvent, runner::State>(
      api.store, StreamName::of("runner", runner), Metadata{},
      [&](const runner::State& s) {
        return runner::decide(runner::Register{RunnerRegistered{runner, "local", "127.0.0.1:1", {4, 8, 100, 10}}}, s);
      },
      [](runner::State s, const RunnerEvent& e) { return runner::evolve(std::move(s), e); }));
  bool placed = false;
  for (int i = 0; i < 200 && !placed; ++i) {
    api.db.run_blocking([&](DbContext& db) { return schedule_once(db, settings, std::chrono::system_clock::now()); });
    placed = str(parse(api.call("GET", "/api/sandbox/" + later)), "runnerId") == runner.str();
    if (!placed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(placed);
  // The failed one is placed again once it is started again.
  CHECK(api.call("POST", "/api/sandbox/" + id + "/start").status == 200);
  api.wait_projected();
  api.db.run_blocking([&](DbContext& db) { return schedule_once(db, settings, std::chrono::system_clock::now()); });
  CHECK(str(parse(api.call("GET", "/api/sandbox/" + id)), "runnerId") == runner.str());
}
