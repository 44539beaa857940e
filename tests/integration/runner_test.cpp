// The runner-worker as a process (root: crun, btrfs, mounts) against the real API, PostgreSQL
// and NATS: lifecycle driven through events, and the isolation of what runs inside.
#include "runner_fixture.hpp"

TEST_CASE("runner: create, exec, stop, start, archive, restore and delete, driven by events", "[root]") {
  Api api;
  RunnerProcess r(api);
  const auto runner_id = runner_ready(api, r);
  const auto id = create_started(api, r, R"({"name":"life","cpu":1,"memory":1,"disk":1,"env":{"GREETING":"hello"}})");
  CHECK(str(parse(api.call("GET", "/api/sandbox/" + id)), "runnerId") == runner_id);

  auto [code, out] = sh(r, id, "echo $GREETING > /workspace/kept.txt && cat /workspace/kept.txt");
  CHECK(code == 0);
  CHECK(out == "hello\n");

  // Resized while running: the cgroup limits change at once.
  const auto cgroup = "/sys/fs/cgroup/memory/sandbox-platform/" + runner_id + "/" + id;
  auto read_limit = [&] {
    std::ifstream in(cgroup + "/memory.limit_in_bytes");
    long long v = 0;
    in >> v;
    return v;
  };
  CHECK(read_limit() == 1LL << 30);
  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/resize", R"({"memory":2,"cpu":2})").status == 200);
  CHECK(eventually([&] { return read_limit() == 2LL << 30; }, std::chrono::seconds(10)));
  CHECK(api.call("POST", "/api/sandbox/" + id + "/resize", R"({"memory":"lots"})").status == 400);

  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/stop?force=false").status == 200);
  REQUIRE_REACHES(api, r, id, "stopped");
  CHECK_FALSE(r.crun.state(id).has_value());
  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/start").status == 200);
  REQUIRE_REACHES(api, r, id, "started");
  CHECK(sh(r, id, "cat /workspace/kept.txt").second == "hello\n");  // the upper layer survived the stop

  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/stop?force=false").status == 200);
  REQUIRE_REACHES(api, r, id, "stopped");
  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/archive").status == 200);
  REQUIRE_REACHES(api, r, id, "archived");
  CHECK(fs::exists(r.dir + "/objects/" + id + ".tar"));
  CHECK_FALSE(fs::exists(r.state + "/data/" + id));  // the host is freed

  REQUIRE(api.call("POST", "/api/sandbox/" + id + "/start").status == 200);
  REQUIRE_REACHES(api, r, id, "started");
  CHECK(sh(r, id, "cat /workspace/kept.txt").second == "hello\n");  // restored from the archive
  CHECK_FALSE(fs::exists(r.dir + "/objects/" + id + ".tar"));

  // The audit trail has the runner's reports in order.
  auto audit = parse(api.call("GET", "/api/audit?resource=" + id + "&limit=100"));
  std::string types;
  for (const auto& item : audit.at("items").as_array()) types += str(item.as_object(), "action") + " ";
  CHECK_THAT(types, Catch::Contains("SandboxArchiving SandboxArchived"));
  CHECK_THAT(types, Catch::Contains("SandboxRestoring SandboxStarting SandboxStarted"));

  REQUIRE(api.call("DELETE", "/api/sandbox/" + id).status == 200);
  REQUIRE(eventually([&] { return state_of(api, id) == "gone" || state_of(api, id) == "destroyed"; }));
  CHECK(eventually([&] { return !r.crun.state(id) && !fs::exists(r.in_runner(r.state + "/data/" + id)) &&
                           !fs::exists(r.in_runner(r.state + "/data/.bundles/" + id)); }));
}

TEST_CASE("runner: what runs inside is isolated, and the sandbox still works after each check", "[root]") {
  Api api;
  RunnerProcess r(api);
  runner_ready(api, r);
  // A service on the host's loopback that no sandbox may reach.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor host_service(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto host_port = std::to_string(host_service.local_endpoint().port());
  const auto id = create_started(api, r, R"({"name":"jail","cpu":1,"memory":1,"disk":1})");
  const auto other = create_started(api, r, R"({"name":"neighbour","cpu":1,"memory":1,"disk":1})");
  REQUIRE(sh(r, other, "echo private > /root/secret && sleep 300 >/dev/null 2>&1 &").first == 0);
  auto works = [&] { return sh(r, id, "echo ok").second == "ok\n"; };

  SECTION("other processes are invisible; PID 1 is the daemon") {
    auto [code, out] = sh(r, id, "ls /proc | grep -c '^[0-9]'");
    CHECK(std::stoi(out) <= 4);  // PID 1, the shell, ls, grep
    CHECK(sh(r, id, "cat /proc/1/cmdline").second.find("/.platform/daemon") == 0);
    CHECK(sh(r, id, "pgrep -f 'slee[p] 300' || echo none").second == "none\n");  // the neighbour's
  }
  SECTION("the userland is read-only and mount is refused") {
    auto usr = sh(r, id, "touch /usr/x 2>&1");
    CHECK(usr.first != 0);
    CHECK_THAT(usr.second, Catch::Contains("Read-only file system"));
    auto m = sh(r, id, "mount -t tmpfs x /mnt 2>&1");
    CHECK(m.first != 0);
    CHECK_THAT(m.second, Catch::Contains("ermission denied"));
  }
  SECTION("only lo, and neither the host's loopback services nor the platform's ports are reachable") {
    CHECK(sh(r, id, "ls /sys/class/net").second == "lo\n");
    CHECK(sh(r, id, "timeout 3 bash -c 'echo > /dev/tcp/127.0.0.1/" + host_port + "' 2>/dev/null").first != 0);
    CHECK(sh(r, id, "timeout 3 bash -c 'echo > /dev/tcp/127.0.0.1/" + std::to_string(api.port()) +
                        "' 2>/dev/null").first != 0);
  }
  SECTION("root inside is an unprivileged range outside, with Docker's capabilities") {
    CHECK(sh(r, id, "cat /proc/self/uid_map").second.find("0     100000      65536") != std::string::npos);
    CHECK(sh(r, id, "grep CapEff /proc/self/status").second == "CapEff:\t00000000a80425fb\n");
    CHECK(sh(r, id, "grep NoNewPrivs /proc/self/status").second == "NoNewPrivs:\t1\n");
    CHECK(sh(r, id, "cat /etc/shadow 2>&1").first != 0);
  }
  SECTION("keyctl, bpf, unshare and ptrace are refused") {
    const std::string probe =
        "python3 -c 'import ctypes,sys; libc=ctypes.CDLL(None, use_errno=True); "
        "r=libc.syscall(int(sys.argv[1]), 0, 0, 0, 0); print(r, ctypes.get_errno())' ";
    CHECK(sh(r, id, probe + "250").second == "-1 1\n");  // keyctl: EPERM
    CHECK(sh(r, id, probe + "321").second == "-1 1\n");  // bpf: EPERM
    CHECK(sh(r, id, "unshare -U true 2>&1").first != 0);
    CHECK(sh(r, id, probe + "101").second == "-1 1\n");  // ptrace: EPERM
  }
  SECTION("a fork bomb is held at the pids limit and dies with its process group") {
    // timeout kills the bomb's whole process group; the daemon (PID 1) reaps the orphans, so
    // no zombie keeps counting against the limit.
    auto bomb = sh(r, id, "timeout -s KILL 5 bash -c ':(){ :|:& };:' 2>/dev/null; echo survived");
    CHECK(bomb.second.find("survived") != std::string::npos);
    const auto pids = "/sys/fs/cgroup/pids/sandbox-platform/" + r.id() + "/" + id;
    long long max_seen = 0;
    std::ifstream(pids + "/pids.max") >> max_seen;
    CHECK(max_seen == 1024);
    CHECK(eventually([&] {
      long long current = 0;
      std::ifstream(pids + "/pids.current") >> current;
      return current > 0 && current < 10;
    }, std::chrono::seconds(15)));
  }
  SECTION("a disk fill stops at the sandbox's disk size") {
    auto fill = sh(r, id, "dd if=/dev/zero of=/workspace/big bs=1M count=1500 2>&1");
    CHECK(fill.first != 0);
    CHECK_THAT(fill.second, Catch::Contains("quota exceeded"));
    CHECK(sh(r, id, "rm /workspace/big && echo freed").second == "freed\n");
  }
  SECTION("a memory hog is killed at its limit, the kill becomes an event, and the sandbox lives on") {
    auto hog = sh(r, id, "python3 -c 'a = bytearray(1536 << 20)'");
    CHECK(hog.first == 137);
    CHECK(eventually([&] {
      auto audit = parse(api.call("GET", "/api/audit?resource=" + id + "&limit=100"));
      for (const auto& item : audit.at("items").as_array()) {
        if (str(item.as_object(), "action") == "SandboxOomKilled") return true;
      }
      return false;
    }, std::chrono::seconds(10)));
    CHECK(state_of(api, id) == "started");
  }
  SECTION("another sandbox's files are invisible") {
    CHECK(sh(r, id, "cat /root/secret 2>&1").first != 0);
    CHECK(sh(r, other, "cat /root/secret").second == "private\n");
  }
  CHECK(works());
}

TEST_CASE("runner: killed with -9 while 20 sandboxes are created; after a restart each is as its log demands", "[root]") {
  Api api;
  RunnerProcess r(api);
  runner_ready(api, r);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto created = api.call("POST", "/api/sandbox", R"({"name":"crash-)" + std::to_string(i) + R"(","disk":1})");
    REQUIRE(created.status == 200);
    ids.push_back(str(parse(created), "id"));
  }
  // Wait until it is busy with them, then kill it in the middle.
  REQUIRE(eventually([&] { return state_of(api, ids[2]) == "started"; }));
  r.process.stop(SIGKILL);
  // One of them is deleted while the runner is down: after the restart it must go.
  REQUIRE(api.call("DELETE", "/api/sandbox/" + ids[0]).status == 200);
  r.start();
  INFO(r.log());
  for (std::size_t i = 1; i < ids.size(); ++i) {
    REQUIRE_REACHES(api, r, ids[i], "started");
    CHECK(sh(r, ids[i], "echo alive").second == "alive\n");
  }
  CHECK(eventually([&] { return state_of(api, ids[0]) == "gone" || state_of(api, ids[0]) == "destroyed"; }));
  CHECK(eventually([&] { return !r.crun.state(ids[0]) && !fs::exists(r.state + "/data/" + ids[0]); }));
}

TEST_CASE("runner: the forwarding endpoint carries a connection into a sandbox port, and nowhere else", "[root]") {
  Api api;
  RunnerProcess r(api);
  runner_ready(api, r);
  const auto id = create_started(api, r, R"({"name":"web","disk":1})");
  const auto port = std::to_string(testing_support::free_port());  // free on the host, too
  REQUIRE(sh(r, id, "mkdir -p /workspace/site && echo 'hello from inside' > /workspace/site/index.html && "
                    "cd /workspace/site && (python3 -m http.server " + port + " --bind 127.0.0.1 >/dev/null 2>&1 &) && sleep 1")
              .first == 0);
  REQUIRE(eventually([&] { return sh(r, id, "python3 -c \"import socket; socket.create_connection(('127.0.0.1', " + port + "))\" && echo up").second == "up\n"; }));
  const auto page = through_endpoint(r.endpoint_port, id + ":" + port, "GET /index.html HTTP/1.0\r\n\r\n");
  CHECK_THAT(page, Catch::StartsWith("HTTP/1.1 200 Connection established"));
  CHECK_THAT(page, Catch::Contains("hello from inside"));
  CHECK_THAT(through_endpoint(r.endpoint_port, id + ":9", ""), Catch::StartsWith("HTTP/1.1 502"));
  CHECK_THAT(through_endpoint(r.endpoint_port, SandboxId::generate().str() + ":8080", ""), Catch::StartsWith("HTTP/1.1 404"));
  CHECK_THAT(through_endpoint(r.endpoint_port, "nonsense", ""), Catch::StartsWith("HTTP/1.1 400"));
  // The port is not reachable from the host's loopback.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket direct(io);
  boost::system::error_code ec;
  direct.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port))}, ec);
  CHECK(ec);
}

TEST_CASE("runner: a toolbox process that is still running counts as activity (auto-stop waits)", "[root]") {
  Api api;
  RunnerProcess r(api);
  runner_ready(api, r);
  const auto busy = create_started(api, r, R"({"name":"busy","disk":1,"autoStopInterval":1})");
  const auto idle = create_started(api, r, R"({"name":"idle","disk":1,"autoStopInterval":1})");
  // Activity in the log: SandboxActivityRecorded events of the sandbox (the audit trail).
  auto activity_events = [&](const std::string& id) {
    const auto audit = parse(api.call("GET", "/api/audit?resource=" + id + "&limit=100"));
    int n = 0;
    for (const auto& item : audit.at("items").as_array()) n += str(item.as_object(), "action") == "SandboxActivityRecorded";
    return n;
  };
  CHECK(activity_events(busy) == 0);
  CHECK_THAT(toolbox(r, busy, "POST", "/process/session", R"({"sessionId":"agent"})"),
             Catch::StartsWith("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 201"));
  CHECK_THAT(toolbox(r, busy, "POST", "/process/session/agent/exec", R"({"command":"sleep 40","runAsync":true})"),
             Catch::Contains("HTTP/1.1 202"));
  // The daemon marks it within 10 s, the runner reports within 5 s more.
  CHECK(eventually([&] { return activity_events(busy) > 0; }, std::chrono::seconds(30)));
  CHECK_FALSE(str(parse(api.call("GET", "/api/sandbox/" + busy)), "lastActivityAt").empty());
  CHECK(sh(r, busy, "test -e /.platform/activity").first == 0);
  CHECK(sh(r, idle, "test -e /.platform/activity").first != 0);  // nothing ran there through the toolbox
  CHECK(activity_events(idle) == 0);
}
