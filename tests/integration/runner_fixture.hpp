#pragma once
// The runner-worker as a child process against the real API, PostgreSQL and NATS (root: crun,
// btrfs, mounts), and the helpers the runner tests share.
#include "api_fixture.hpp"
#include "events/bus/relay.hpp"
#include "events/tokens.hpp"
#include "runner/crun.hpp"
#include "support/process.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>
#include <fstream>

namespace runner_testing {

namespace fs = std::filesystem;

// A runner-worker child with its own state dir; on the way out it stops the runner and
// removes everything it made: containers, their cgroups, the data image.
struct RunnerProcess {
  Api& api;
  // The relay carries the log to JetStream, where the runner's subscription reads it.
  bus::Relay relay{bus::RelaySettings{}, api.conn, *api.nats};
  std::jthread relaying{[this](std::stop_token stop) { relay.run(stop); }};
  std::string dir = testing_support::make_temp_dir("runner");
  std::string state = dir + "/state";
  testing_support::ChildProcess process;
  ::runner::Crun crun{state + "/crun"};
  int endpoint_port = testing_support::free_port();

  explicit RunnerProcess(Api& a) : api(a) { start(); }

  void start() {
    setenv("DATABASE_URL", api.conn.c_str(), 1);
    setenv("NATS_URL", api.nats_server.url().c_str(), 1);
    setenv("API_URL", ("http://127.0.0.1:" + std::to_string(api.port()) + "/api").c_str(), 1);
    setenv("ADMIN_API_KEY", api.admin_key.c_str(), 1);
    setenv("RUNNER_STATE_DIR", state.c_str(), 1);
    setenv("RUNNER_DAEMON", DAEMON_BIN, 1);
    setenv("RUNNER_DISK_GIB", "40", 1);  // sparse: room for every sandbox the tests make
    setenv("RUNNER_ENDPOINT", ("127.0.0.1:" + std::to_string(endpoint_port)).c_str(), 1);
    process = testing_support::ChildProcess({RUNNER_BIN}, "", dir + "/runner.log");
  }

  std::string id() const {
    std::ifstream in(state + "/runner-id");
    std::string id;
    in >> id;
    return id;
  }

  // `path` as the runner sees it: its data image (layers, bundles) is mounted in its own mount
  // namespace, invisible from here. Only while it runs (checked: the view's root exists).
  std::string in_runner(const std::string& path) const {
    const auto root = "/proc/" + std::to_string(process.pid()) + "/root";
    REQUIRE(fs::exists(root + state + "/data/.bundles"));
    return root + path;
  }

  std::string log() const {
    std::ifstream in(dir + "/runner.log");
    std::stringstream all;
    all << in.rdbuf();
    return all.str();
  }

  // Sandboxes keep running when the runner stops (by design); the test removes them itself.
  ~RunnerProcess() {
    const auto me = id();
    if (process.running()) process.stop(SIGTERM, 10000);
    for (const auto& c : crun.list()) testing_support::run_command({"crun", "--root", crun.root(), "delete", "-f", c});
    for (const auto* controller : {"memory", "pids", "cpu,cpuacct", "cpuset", "blkio", "devices", "freezer",
                                   "net_cls,net_prio", "perf_event", "hugetlb", "misc", "rdma", "systemd"}) {
      const auto parent = std::string("/sys/fs/cgroup/") + controller + "/sandbox-platform";
      std::error_code ec;
      if (!me.empty()) fs::remove(parent + "/" + me, ec);  // rmdir: empty cgroups only
      fs::remove(parent, ec);
    }
    testing_support::remove_tree(dir);
  }
};

using testing_support::eventually;

inline std::string state_of(Api& api, const std::string& id) {
  auto r = api.call("GET", "/api/sandbox/" + id);
  if (r.status == 404) return "gone";
  return str(parse(r), "state");
}

inline bool reaches(Api& api, const std::string& id, const std::string& state) {
  return eventually([&] { return state_of(api, id) == state; });
}

// Waits for the state; on failure the message carries the runner's log.
#define REQUIRE_REACHES(api, r, id, state)         \
  do {                                             \
    const bool reached = reaches(api, id, state);  \
    INFO("runner log:\n" << (r).log());           \
    REQUIRE(reached);                              \
  } while (false)

// Runs a shell line inside the sandbox: exit code and output.
inline std::pair<int, std::string> sh(RunnerProcess& r, const std::string& id, const std::string& line) {
  auto out = r.crun.exec(id, {"/bin/sh", "-c", line});
  REQUIRE(out);
  return *out;
}

inline std::string runner_ready(Api& api, RunnerProcess& r) {
  const bool registered = eventually([&] {
    auto listed = http_call(api.port(), "GET", "/api/runners", "", {{"Authorization", "Bearer " + api.admin_key}});
    return listed.status == 200 && !parse(listed).at("items").as_array().empty();
  });
  INFO("runner log:\n" << r.log());
  REQUIRE(registered);
  return r.id();
}

inline std::string create_started(Api& api, RunnerProcess& r, const std::string& body) {
  auto created = api.call("POST", "/api/sandbox", body);
  INFO(created.body);
  REQUIRE(created.status == 200);
  const auto id = str(parse(created), "id");
  INFO(r.log());
  REQUIRE_REACHES(api, r, id, "started");
  return id;
}

// Sends `request` through the runner's forwarding endpoint to `port` in the sandbox (with the
// forwarding key the platform derives from the admin key, unless `key` says otherwise); the reply.
inline std::string through_endpoint(int endpoint_port, const std::string& target, const std::string& request,
                                    const std::optional<std::string>& key = std::nullopt) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(endpoint_port)});
  const std::string forward = key.value_or(events::tokens::forward_key(kTestAdminKey));
  const std::string auth = forward.empty() ? std::string() : "Proxy-Authorization: Bearer " + forward + "\r\n";
  boost::asio::write(socket, boost::asio::buffer("CONNECT " + target + " HTTP/1.1\r\nHost: runner\r\n" + auth + "\r\n" + request));
  std::string reply;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    const auto n = socket.read_some(boost::asio::buffer(buf), ec);
    if (ec) break;
    reply.append(buf, n);
  }
  return reply;
}

// A JSON request to the sandbox daemon's toolbox (port 2280), through the forwarding endpoint.
inline std::string toolbox(RunnerProcess& r, const std::string& sandbox, const std::string& method, const std::string& path,
                    const std::string& body) {
  return through_endpoint(r.endpoint_port, sandbox + ":2280",
                          method + " " + path + " HTTP/1.1\r\nHost: daemon\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

}  // namespace runner_testing

using namespace runner_testing;
