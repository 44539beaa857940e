// What the runner notices and cleans up on its own: a sandbox whose PID 1 died, a started
// sandbox that answers its toolbox at once, output written at PID 1's stdout, and an archived
// sandbox deleted while on no runner.
#include "runner_fixture.hpp"

#include <csignal>

TEST_CASE("runner: a sandbox whose PID 1 dies is reported within seconds, stays stopped, and starts again", "[root]") {
  Api api;
  RunnerProcess r(api);
  runner_ready(api, r);
  const auto id = create_started(api, r, R"({"name":"fragile","memory":1,"disk":1})");
  // A started sandbox answers its toolbox at once: no retry here.
  CHECK_THAT(toolbox(r, id, "GET", "/version", ""), Catch::StartsWith("HTTP/1.1 200"));

  // Code inside writes to PID 1's stdout: it goes nowhere on the host (was: the bundle's init.log,
  // outside the sandbox's disk quota).
  const auto log = r.in_runner(r.state + "/data/.bundles/" + id + "/init.log");
  REQUIRE(fs::exists(log));
  const auto log_size = fs::file_size(log);
  CHECK(sh(r, id, "head -c 20000000 /dev/zero > /proc/1/fd/1; echo $?").second == "0\n");
  CHECK(fs::file_size(log) == log_size);

  // PID 1 killed from outside (as the kernel's OOM killer or a crash would).
  const auto state = r.crun.state(id);
  REQUIRE(state);
  const auto killed_at = std::chrono::steady_clock::now();
  REQUIRE(::kill(state->pid, SIGKILL) == 0);
  REQUIRE(eventually([&] { return state_of(api, id) == "error"; }, std::chrono::seconds(15)));
  CHECK(std::chrono::steady_clock::now() - killed_at < std::chrono::seconds(5));
  const auto dto = parse(api.call("GET", "/api/sandbox/" + id));
  CHECK_THAT(str(dto, "errorReason"), Catch::Contains("main process (PID 1, its daemon) exited"));
  // Not restarted behind the user's back.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(state_of(api, id) == "error");
  const auto after_death = r.crun.state(id);
  CHECK_FALSE((after_death && after_death->status == "running"));
  // A start brings it back, with its files.
  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/start").status == 200);
  REQUIRE_REACHES(api, r, id, "started");
  CHECK_THAT(toolbox(r, id, "GET", "/version", ""), Catch::StartsWith("HTTP/1.1 200"));
  REQUIRE(api.call("DELETE", "/api/sandbox/" + id).status == 200);
  CHECK(eventually([&] { return !r.crun.state(id).has_value(); }));
}

TEST_CASE("runner: deleting an archived sandbox removes its archive and what the host kept of it", "[root]") {
  Api api;
  RunnerProcess r(api);
  runner_ready(api, r);
  const auto id = create_started(api, r, R"({"name":"shelved","disk":1})");
  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/stop?force=false").status == 200);
  REQUIRE_REACHES(api, r, id, "stopped");
  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/archive").status == 200);
  REQUIRE_REACHES(api, r, id, "archived");
  const auto archive = r.dir + "/objects/" + id + ".tar";
  CHECK(fs::exists(archive));
  CHECK(eventually([&] { return !fs::exists(r.in_runner(r.state + "/data/.bundles/" + id)); }, std::chrono::seconds(10)));
  REQUIRE(api.call("DELETE", "/api/sandbox/" + id).status == 200);
  CHECK(eventually([&] { return !fs::exists(archive); }, std::chrono::seconds(20)));
  CHECK_FALSE(fs::exists(r.in_runner(r.state + "/data/" + id)));
}

TEST_CASE("runner: the forwarding endpoint serves only the platform (its key), not any local process", "[root]") {
  Api api;
  RunnerProcess r(api);
  runner_ready(api, r);
  const auto id = create_started(api, r, R"({"name":"guarded","disk":1})");
  const std::string request = "GET /version HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";
  CHECK_THAT(through_endpoint(r.endpoint_port, id + ":2280", request, std::string()),
             Catch::StartsWith("HTTP/1.1 407"));
  CHECK_THAT(through_endpoint(r.endpoint_port, id + ":2280", request, std::string("not-the-key")),
             Catch::StartsWith("HTTP/1.1 407"));
  CHECK_THAT(through_endpoint(r.endpoint_port, id + ":2280", request), Catch::Contains("HTTP/1.1 200"));
  REQUIRE(api.call("DELETE", "/api/sandbox/" + id).status == 200);
  CHECK(eventually([&] { return !r.crun.state(id).has_value(); }));
}
