// Runners (registration over HTTP, reports over NATS), names under concurrency, the live
// streams (SSE, Socket.IO with the real socket.io-client) and the metrics.
#include "api_fixture.hpp"
#include "node_scripts.hpp"
#include "support/process.hpp"
#include "events/wire/proxy.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <fstream>
#include <sstream>

namespace {

std::map<std::string, std::string> admin(const Api& api) { return {{"Authorization", "Bearer " + api.admin_key}}; }

std::string register_runner(Api& api, const std::string& region = "local") {
  auto r = http_call(api.port(), "POST", "/api/runners",
                     R"({"region":")" + region + R"(","endpoint":"127.0.0.1:4100","capacity":{"cpu":4,"memory_gib":8,"disk_gib":50,"max_sandboxes":10}})",
                     admin(api));
  INFO(r.body);
  REQUIRE(r.status == 200);
  return str(parse(r), "id");
}

// Sends one report as the runner would (a NATS request) and returns the reply.
json::object report(Api& api, const std::string& runner, const std::string& sandbox, const std::string& kind,
                    const std::string& state, const std::string& reason = "") {
  bus::RunnerReport r{sandbox, kind, state, reason, true, "", 0, "", ""};
  const auto text = to_json_text(r);
  auto reply = api.nats->request("runner.reports." + runner, text, std::chrono::milliseconds(5000));
  REQUIRE(reply);
  const auto& body = *reply;
  INFO(body);
  auto v = json::parse(body);
  REQUIRE(v.is_object());
  return v.as_object();
}

// Another organization's sandbox (key B), started on `runner`: what a client of A must never hear of.
std::string started_sandbox_of_b(Api& api, const std::string& runner) {
  auto theirs = api.call("POST", "/api/sandbox", R"({"name":"not-yours"})", api.key_b);
  REQUIRE(theirs.status == 200);
  const auto id = str(parse(theirs), "id");
  CHECK(report(api, runner, id, "state", "started").at("ok").as_bool());
  return id;
}

std::string state_of(Api& api, const std::string& id) { return str(parse(api.call("GET", "/api/sandbox/" + id)), "state"); }

// A raw connection reading a server-sent event stream.
struct SseClient {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket{io};
  std::string received;

  SseClient(int port, const std::string& target, const std::string& key, const std::string& last_event_id = "") {
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key + "\r\n";
    if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
    boost::asio::write(socket, boost::asio::buffer(req + "\r\n"));
    timeval tv{0, 200 * 1000};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  // Reads until `text` has arrived or `seconds` have passed.
  bool wait_for(const std::string& text, int seconds = 10) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    char buf[4096];
    while (received.find(text) == std::string::npos && std::chrono::steady_clock::now() < until) {
      const auto n = ::recv(socket.native_handle(), buf, sizeof buf, 0);
      if (n > 0) received.append(buf, static_cast<std::size_t>(n));
      if (n == 0) break;
    }
    return received.find(text) != std::string::npos;
  }
};

// What a node client printed to its log file.
std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

// Waits up to 10 s for `text` to appear in the file.
bool file_shows(const std::string& path, const std::string& text) {
  for (int i = 0; i < 200; ++i) {
    if (file_text(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("runners: registration, heartbeat, drain and removal take the admin key and name bad fields") {
  Api api;
  const auto id = register_runner(api);
  CHECK(RunnerId::parse(id));
  auto listed = http_call(api.port(), "GET", "/api/runners", "", admin(api));
  REQUIRE(listed.status == 200);
  const auto items = parse(listed).at("items").as_array();
  REQUIRE(items.size() == 1);
  CHECK(str(items[0].as_object(), "state") == "ready");
  CHECK(items[0].as_object().at("capacity").as_object().at("max_sandboxes").as_int64() == 10);

  // Re-registering after a restart is accepted and changes nothing.
  const auto events_before = api.event_count();
  auto again = http_call(api.port(), "POST", "/api/runners",
                         R"({"id":")" + id + R"(","region":"local","endpoint":"127.0.0.1:4100","capacity":{"cpu":4,"memory_gib":8,"disk_gib":50,"max_sandboxes":10}})",
                         admin(api));
  CHECK(again.status == 200);
  CHECK(api.event_count() == events_before);

  auto beat = http_call(api.port(), "POST", "/api/runners/" + id + "/heartbeat",
                        R"({"load":{"sandboxes":2,"cpu_used":1.5,"memory_used_gib":3,"disk_used_gib":4}})", admin(api));
  REQUIRE(beat.status == 200);
  CHECK(parse(beat).at("reportedSandboxes").as_int64() == 2);
  CHECK_FALSE(str(parse(beat), "lastHeartbeatAt").empty());

  struct Bad {
    std::string body;
    std::string says;
  };
  for (const auto& b : std::vector<Bad>{
           {R"({"region":"local","endpoint":"x"})", "capacity must be an object"},
           {R"({"region":"local","endpoint":"x","capacity":{"cpu":4,"memory_gib":8,"disk_gib":50}})", "capacity.max_sandboxes is required"},
           {R"({"region":"local","endpoint":"x","capacity":{"cpu":"4","memory_gib":8,"disk_gib":50,"max_sandboxes":1}})", "capacity.cpu must be a number"},
           {R"({"region":"local","endpoint":"x","capacity":{"cpu":0,"memory_gib":8,"disk_gib":50,"max_sandboxes":1}})", "must all be positive"},
           {R"({"id":"nope","region":"local","endpoint":"x","capacity":{"cpu":1,"memory_gib":1,"disk_gib":1,"max_sandboxes":1}})", "'nope' is not a UUID"},
           {R"({"endpoint":"x","capacity":{"cpu":1,"memory_gib":1,"disk_gib":1,"max_sandboxes":1}})", "region is required"},
       }) {
    auto r = http_call(api.port(), "POST", "/api/runners", b.body, admin(api));
    INFO(b.body << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK_THAT(str(parse(r), "message"), Catch::Contains(b.says));
  }
  CHECK(api.event_count() == events_before + 1);  // only the heartbeat
  CHECK(http_call(api.port(), "POST", "/api/runners", R"({})", {{"Authorization", "Bearer " + api.key_a}}).status == 401);
  CHECK(http_call(api.port(), "POST", "/api/runners/" + RunnerId::generate().str() + "/drain", "", admin(api)).status == 404);

  auto drained = http_call(api.port(), "POST", "/api/runners/" + id + "/drain", "", admin(api));
  REQUIRE(drained.status == 200);
  CHECK(str(parse(drained), "state") == "draining");
  // A draining runner takes no new sandbox.
  auto created = api.call("POST", "/api/sandbox", R"({"name":"after-drain"})");
  REQUIRE(created.status == 200);
  CHECK(str(parse(created), "runnerId").empty());
  auto removed = http_call(api.port(), "DELETE", "/api/runners/" + id, "", admin(api));
  REQUIRE(removed.status == 200);
  CHECK(str(parse(removed), "state") == "removed");
}

TEST_CASE("runners: reports over NATS drive the sandbox through the decider; misfits are refused") {
  Api api;
  const auto runner = register_runner(api);
  auto created = api.call("POST", "/api/sandbox", R"({"name":"reported"})");
  REQUIRE(created.status == 200);
  const auto id = str(parse(created), "id");
  REQUIRE(str(parse(created), "runnerId") == runner);

  auto listed = http_call(api.port(), "GET", "/api/runners/" + runner + "/sandboxes", "", admin(api));
  REQUIRE(listed.status == 200);
  REQUIRE(parse(listed).at("items").as_array().size() == 1);
  CHECK(str(parse(listed).at("items").as_array()[0].as_object(), "desired") == "started");

  CHECK(report(api, runner, id, "state", "starting").at("ok").as_bool());
  auto started = report(api, runner, id, "state", "started");
  CHECK(started.at("ok").as_bool());
  CHECK(started.at("position").as_int64() > 0);
  CHECK(state_of(api, id) == "started");

  const auto before = api.event_count();
  auto stranger = report(api, RunnerId::generate().str(), id, "state", "stopped");
  CHECK_FALSE(stranger.at("ok").as_bool());
  CHECK(str(stranger, "code") == "wrong_runner");
  auto twice = report(api, runner, id, "state", "started");
  CHECK_FALSE(twice.at("ok").as_bool());
  CHECK(str(twice, "code") == "duplicate_report");
  auto late = report(api, runner, id, "state", "starting");
  CHECK_FALSE(late.at("ok").as_bool());
  CHECK(str(late, "code") == "late_report");
  auto nonsense = report(api, runner, id, "state", "flying");
  CHECK_FALSE(nonsense.at("ok").as_bool());
  CHECK_THAT(str(nonsense, "message"), Catch::Contains("'flying'"));
  auto unknown = report(api, runner, SandboxId::generate().str(), "state", "started");
  CHECK(str(unknown, "code") == "not_found");
  CHECK(api.event_count() == before);

  // An error report with a reason a person can act on reaches the API's DTO.
  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/stop?force=false").status == 200);
  CHECK(report(api, runner, id, "error", "", "crun: cannot allocate memory for the cgroup").at("ok").as_bool());
  auto got = parse(api.call("GET", "/api/sandbox/" + id));
  CHECK(str(got, "state") == "error");
  CHECK_THAT(str(got, "errorReason"), Catch::Contains("cannot allocate memory"));
}

TEST_CASE("names: of concurrent creates with one name exactly one wins; a deleted sandbox frees its name") {
  Api api;
  std::atomic<int> won{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      // No Catch macros in these threads: Catch2 is not thread-safe.
      auto r = api.call("POST", "/api/sandbox", R"({"name":"contested"})");
      if (r.status == 200) {
        ++won;
      } else if (r.status == 409 && r.body.find("already exists") != std::string::npos) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(won == 1);
  CHECK(refused == 7);
  CHECK(other == 0);
  auto list = parse(api.call("GET", "/api/sandbox?name=contested"));
  REQUIRE(list.at("items").as_array().size() == 1);
  // Another organization may use the same name.
  CHECK(api.call("POST", "/api/sandbox", R"({"name":"contested"})", api.key_b).status == 200);
  // Deleted, the name is free again.
  const auto id = str(list.at("items").as_array()[0].as_object(), "id");
  REQUIRE(api.call("DELETE", "/api/sandbox/" + id).status == 200);
  CHECK(api.call("POST", "/api/sandbox", R"({"name":"contested"})").status == 200);
}

namespace {

// The data: lines of a stream's whole frames, as JSON (CloudEvents), in order.
std::vector<json::object> sse_events(const std::string& received) {
  std::vector<json::object> out;
  std::size_t start = 0;
  for (auto end = received.find('\n'); end != std::string::npos; start = end + 1, end = received.find('\n', start)) {
    const auto line = received.substr(start, end - start);
    if (line.rfind("data: ", 0) == 0) out.push_back(json::parse(line.substr(6)).as_object());
  }
  return out;
}

// Waits for `text` and for the end of the frame that holds it.
bool wait_for_frame(SseClient& sse, const std::string& text) {
  if (!sse.wait_for(text)) return false;
  const auto at = sse.received.find(text);
  for (int i = 0; i < 50 && sse.received.find("\n\n", at) == std::string::npos; ++i) sse.wait_for("\n\n", 1);
  return sse.received.find("\n\n", at) != std::string::npos;
}

}  // namespace

TEST_CASE("events: the SSE stream sends the organization's public events as CloudEvents, live and resumable") {
  Api api;
  const auto runner = register_runner(api);
  SseClient sse(api.port(), "/api/events", api.key_a);
  REQUIRE(sse.wait_for("following the public events"));
  CHECK(sse.received.find("Content-Type: text/event-stream") != std::string::npos);
  auto mine = api.call("POST", "/api/sandbox", R"({"name":"streamed","env":{"SECRET_TOKEN":"hunter2"}})");
  auto theirs = api.call("POST", "/api/sandbox", R"({"name":"secret"})", api.key_b);
  REQUIRE(mine.status == 200);
  REQUIRE(theirs.status == 200);
  const auto mine_id = str(parse(mine), "id");
  REQUIRE(report(api, runner, mine_id, "state", "starting").at("ok").as_bool());
  REQUIRE(report(api, runner, mine_id, "state", "started").at("ok").as_bool());
  REQUIRE(api.call("POST", "/api/sandbox/" + mine_id + "/stop").status == 200);
  REQUIRE(report(api, runner, mine_id, "state", "stopping").at("ok").as_bool());
  REQUIRE(wait_for_frame(sse, "\"newState\":\"stopping\""));

  const auto events = sse_events(sse.received);
  std::vector<std::string> seen;
  for (const auto& e : events) {
    CHECK(e.at("specversion") == "1.0");
    CHECK(e.at("subject").as_string() == mine_id);  // never the other organization's sandbox
    CHECK(e.at("datacontenttype") == "application/json");
    seen.push_back(std::string(e.at("type").as_string()) + (e.at("data").as_object().contains("newState")
                                                                ? ":" + std::string(e.at("data").at("newState").as_string())
                                                                : ""));
  }
  CHECK(seen == std::vector<std::string>{"sandbox.created", "sandbox.state.updated:starting",
                                         "sandbox.state.updated:started", "sandbox.state.updated:stopping"});
  const auto& created = events.at(0).at("data").as_object();
  CHECK(created.at("event") == "sandbox.created");
  CHECK(created.at("organizationId") == parse(mine).at("organizationId"));
  CHECK(created.at("state") == "creating");
  CHECK(events.at(3).at("data").at("oldState") == "started");
  CHECK(events.at(3).at("data").at("reason") == "stop requested by the user");
  CHECK(sse.received.find("event: sandbox.state.updated") != std::string::npos);
  // Nothing internal: no internal event names, env values or runner ids.
  CHECK(sse.received.find("SandboxCreated") == std::string::npos);
  CHECK(sse.received.find("hunter2") == std::string::npos);
  CHECK(sse.received.find(runner) == std::string::npos);

  // Resume after the second event (Last-Event-ID is the event's id): the rest comes again, from
  // a stream read from its middle, with the old state and reason right.
  const std::string second_id(events.at(1).at("id").as_string());
  SseClient resumed(api.port(), "/api/events?types=sandbox.state.updated", api.key_a, second_id);
  REQUIRE(wait_for_frame(resumed, "\"newState\":\"stopping\""));
  const auto again = sse_events(resumed.received);
  REQUIRE(again.size() == 2);
  CHECK(again[0].at("id") == events.at(2).at("id"));
  CHECK(again[1].at("data").at("reason") == "stop requested by the user");

  // Only the types asked for.
  SseClient created_only(api.port(), "/api/events?types=sandbox.created&after=0", api.key_a);
  REQUIRE(wait_for_frame(created_only, mine_id));
  const auto only = sse_events(created_only.received);
  REQUIRE_FALSE(only.empty());
  for (const auto& e : only) CHECK(e.at("type") == "sandbox.created");

  auto unknown = api.call("GET", "/api/events?types=sandbox.created,SandboxStarted");
  CHECK(unknown.status == 400);
  CHECK(unknown.body.find("'SandboxStarted' is not a public event type") != std::string::npos);
  CHECK(api.call("GET", "/api/events?after=minus").status == 400);
  CHECK(http_call(api.port(), "GET", "/api/events").status == 401);
}

TEST_CASE("metrics: requests, latencies, conflicts and projection lag in Prometheus text") {
  Api api;
  REQUIRE(api.call("POST", "/api/sandbox", R"({"name":"counted"})").status == 200);
  REQUIRE(api.call("GET", "/api/sandbox/counted").status == 200);
  auto m = http_call(api.port(), "GET", "/metrics");
  REQUIRE(m.status == 200);
  CHECK_THAT(m.body, Catch::Contains(R"(api_requests_total{method="POST",route="/api/sandbox",status="200"} 1)"));
  CHECK_THAT(m.body, Catch::Contains(R"(api_request_duration_seconds_bucket{route="/api/sandbox/{sandboxIdOrName}")"));
  CHECK_THAT(m.body, Catch::Contains("event_append_conflicts_total"));
  CHECK_THAT(m.body, Catch::Contains(R"(projection_lag_events{model="sandboxes"})"));
  CHECK_THAT(m.body, Catch::Contains("event_log_head_position"));
}

namespace {

// A node script of tests/e2e/ against `api` with organization A's key and the admin key (API_ORIGIN,
// API_KEY, ADMIN_KEY), its output in `log`; the npm package it needs must be installed
// (infra/npm-deps).
testing_support::ChildProcess node_client(const Api& api, const std::string& script, const std::string& package,
                                          const std::string& log) {
  return start_node(script, {package},
                    {{"API_ORIGIN", "http://127.0.0.1:" + std::to_string(api.port())},
                     {"API_KEY", api.key_a},
                     {"ADMIN_KEY", api.admin_key}},
                    log);
}

// The real socket.io-client (tests/e2e/socketio_client.cjs) for organization A: it prints every
// sandbox event it hears, one line each, into a file of its own.
struct SocketIoClient {
  std::string dir;
  std::string log = dir + "/client.log";
  testing_support::ChildProcess process;

  SocketIoClient(const Api& api, const std::string& name)
      : dir(testing_support::make_temp_dir(name)), process(node_client(api, "socketio_client.cjs", "socket.io-client", log)) {}
  ~SocketIoClient() { testing_support::remove_tree(dir); }
  SocketIoClient(const SocketIoClient&) = delete;
  SocketIoClient& operator=(const SocketIoClient&) = delete;

  bool shows(const std::string& text) const { return file_shows(log, text); }
  bool never_showed(const std::string& text) const { return file_text(log).find(text) == std::string::npos; }
  bool exits_on_sigterm() { return WIFEXITED(process.stop(SIGTERM, 5000)); }
};

}  // namespace

TEST_CASE("socket.io: the real socket.io-client connects with the key and hears state changes") {
  Api api;
  const auto runner = register_runner(api);
  SocketIoClient client(api, "socketio");
  REQUIRE(client.shows("rejected: invalid or revoked API key"));  // a wrong key first
  REQUIRE(client.shows("connected"));
  // Another organization's sandbox, created and started first: never pushed to this client.
  const auto their_id = started_sandbox_of_b(api, runner);
  auto created = api.call("POST", "/api/sandbox", R"({"name":"pushed"})");
  REQUIRE(created.status == 200);
  const auto id = str(parse(created), "id");
  CHECK(report(api, runner, id, "state", "starting").at("ok").as_bool());
  CHECK(report(api, runner, id, "state", "started").at("ok").as_bool());
  CHECK(client.shows("sandbox.created " + id));
  CHECK(client.shows("->started"));
  CHECK(client.shows("sandbox.state.updated " + id));
  CHECK(client.never_showed(their_id));
  CHECK(client.exits_on_sigterm());
}

// With the projector stopped nothing new reaches the read model: the proxy's placement, the
// runner's target and the Socket.IO pushes still answer, from the sandbox's stream, and still
// only to whom they belong.
TEST_CASE("read-your-writes: placement, runner target and Socket.IO answer from the stream with the projector stopped") {
  Api api;
  const auto runner = register_runner(api);
  SocketIoClient client(api, "socketio-stream");
  REQUIRE(client.shows("connected"));
  api.wait_projected();  // the runner's row (its endpoint) is in the read model
  api.projecting.request_stop();
  api.projecting.join();

  const auto their_id = started_sandbox_of_b(api, runner);
  auto created = api.call("POST", "/api/sandbox", R"({"name":"unprojected"})");
  REQUIRE(created.status == 200);
  const auto id = str(parse(created), "id");
  const auto org = str(parse(created), "organizationId");

  auto placed = http_call(api.port(), "GET", "/api/proxy/sandboxes/" + id, "", admin(api));
  INFO(placed.body);
  REQUIRE(placed.status == 200);
  auto placement = from_json_text<wire::SandboxPlacement>(placed.body, "placement");
  REQUIRE(placement);
  CHECK(placement->organization_id.str() == org);
  CHECK(placement->runner_id.has_value());
  CHECK(placement->runner_endpoint == "127.0.0.1:4100");
  CHECK(http_call(api.port(), "GET", "/api/proxy/sandboxes/" + SandboxId::generate().str(), "", admin(api)).status == 404);
  CHECK(http_call(api.port(), "GET", "/api/proxy/sandboxes/" + id, "", {{"Authorization", "Bearer " + api.key_a}}).status == 401);  // an organization key is not the admin key

  auto target = http_call(api.port(), "GET", "/api/runners/" + runner + "/sandboxes/" + id, "", admin(api));
  INFO(target.body);
  REQUIRE(target.status == 200);
  CHECK(str(parse(target), "id") == id);
  CHECK(http_call(api.port(), "GET", "/api/runners/" + runner + "/sandboxes/" + id, "", {{"Authorization", "Bearer " + api.key_a}}).status == 401);
  CHECK(http_call(api.port(), "GET", "/api/runners/" + runner + "/sandboxes/" + id, "", {}).status == 401);
  const auto other_runner = RunnerId::generate().str();
  CHECK(http_call(api.port(), "GET", "/api/runners/" + other_runner + "/sandboxes/" + id, "", admin(api)).status == 404);

  CHECK(report(api, runner, id, "state", "starting").at("ok").as_bool());
  CHECK(report(api, runner, id, "state", "started").at("ok").as_bool());
  CHECK(client.shows("sandbox.created " + id));
  CHECK(client.shows("sandbox.state.updated " + id));
  CHECK(client.never_showed(their_id));
  pqxx::connection c(api.conn);
  CHECK(pqxx::nontransaction(c).exec_params("select count(*) from read.sandboxes where id = $1", id)[0][0].as<int>() == 0);
  CHECK(client.exits_on_sigterm());
}

// The OpenAPI document is enough to drive the API: a client generated from it at run time
// (openapi-client-axios, one call per operationId) creates, reads, relabels and deletes, and
// every answer matches the schema the document declares for it (tests/e2e/openapi_client.cjs).
TEST_CASE("openapi: a client generated from the document works, and the answers match its schemas") {
  Api api;
  const auto run = run_node("openapi_client.cjs", {"openapi-client-axios"},
                            {{"API_ORIGIN", "http://127.0.0.1:" + std::to_string(api.port())},
                             {"API_KEY", api.key_a},
                             {"ADMIN_KEY", api.admin_key}});
  INFO(run.output);
  CHECK(run.ok());
  CHECK_THAT(run.output, Catch::Contains("document valid"));
  CHECK_THAT(run.output, Catch::Contains("post /sandbox 200 matches its schema"));
  CHECK_THAT(run.output, Catch::Contains("delete /sandbox/{sandboxIdOrName} 200 matches its schema"));
  CHECK_THAT(run.output, Catch::Contains("\nok"));
}

TEST_CASE("timers: auto-stop after no activity, auto-delete when stopped, each a command with its reason") {
  Api api;
  const auto runner = register_runner(api);
  auto a = api.call("POST", "/api/sandbox", R"({"name":"idle","autoStopInterval":1})");
  auto b = api.call("POST", "/api/sandbox", R"({"name":"busy","autoStopInterval":1})");
  auto c = api.call("POST", "/api/sandbox", R"({"name":"ephemeral","autoStopInterval":0,"autoDeleteInterval":0})");
  REQUIRE(a.status == 200);
  REQUIRE(b.status == 200);
  REQUIRE(c.status == 200);
  const auto idle = str(parse(a), "id");
  const auto busy = str(parse(b), "id");
  const auto ephemeral = str(parse(c), "id");
  for (const auto& id : {idle, busy, ephemeral}) {
    REQUIRE(report(api, runner, id, "state", "started").at("ok").as_bool());
  }
  REQUIRE(state_of(api, busy) == "started");
  // Two minutes pass, by the platform's clock (the Clock port: no sleep, no tampering with the
  // read model); then `busy` reports activity.
  const auto later = std::chrono::system_clock::now() + std::chrono::minutes(2);
  api.services.clock = [later] { return later; };
  REQUIRE(api.call("POST", "/api/sandbox/" + busy + "/last-activity").status == 201);
  api.wait_projected();
  CHECK(api.db.run_blocking([&](DbContext& db) { return apply_timers(db, later); }) == 1);
  auto got = parse(api.call("GET", "/api/sandbox/" + idle));
  CHECK(str(got, "state") == "stopping");
  CHECK(state_of(api, busy) == "started");
  auto audit = parse(api.call("GET", "/api/audit?resource=" + idle + "&limit=100"));
  bool reasoned = false;
  for (const auto& item : audit.at("items").as_array()) {
    const auto text = json::serialize(item);
    if (text.find("SandboxStopRequested") != std::string::npos && text.find("auto-stop: no activity for 1 minutes") != std::string::npos) {
      reasoned = text.find("\"timer\"") != std::string::npos;
    }
  }
  CHECK(reasoned);
  // Stopped, the ephemeral one is deleted at once.
  REQUIRE(api.call("POST", "/api/sandbox/" + ephemeral + "/stop?force=false").status == 200);
  REQUIRE(report(api, runner, ephemeral, "state", "stopped").at("ok").as_bool());
  api.wait_projected();
  CHECK(api.db.run_blocking([&](DbContext& db) { return apply_timers(db, later); }) == 1);
  CHECK(api.call("GET", "/api/sandbox/" + ephemeral).status == 404);  // deleted: gone for a get at once
  // The list still shows it on its way out.
  const auto listed = parse(api.call("GET", "/api/sandbox"));
  std::string listed_state;
  for (const auto& item : listed.at("items").as_array()) {
    if (str(item.as_object(), "id") == ephemeral) listed_state = str(item.as_object(), "state");
  }
  CHECK(listed_state == "destroying");
}
