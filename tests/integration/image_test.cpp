// Snapshots from images: an image the test builds from busybox-static, imported from an OCI
// layout and from a docker save tarball (pending → pulling → active), sandboxes started from
// it, and the errors a person can act on when an image cannot be imported.
#include "runner_fixture.hpp"

namespace {

std::string snapshot_state(Api& api, const std::string& name) {
  auto r = api.call("GET", "/api/snapshots/" + name);
  if (r.status == 404) return "gone";
  return str(parse(r), "state");
}

// Waits until the snapshot leaves pending/pulling; returns its DTO.
boost::json::object settled(Api& api, RunnerProcess& r, const std::string& name) {
  const bool done = eventually([&] {
    const auto s = snapshot_state(api, name);
    return s != "pending" && s != "pulling";
  }, std::chrono::seconds(60));
  INFO("runner log:\n" << r.log());
  REQUIRE(done);
  return parse(api.call("GET", "/api/snapshots/" + name));
}

std::size_t unpacked_layers(const RunnerProcess& r) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(r.state + "/layers")) {
    if (e.path().filename().string().rfind(".partial", 0) != 0) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("runner: images imported into snapshots, and sandboxes started from them", "[root]") {
  Api api;
  RunnerProcess r(api);
  runner_ready(api, r);
  const auto image = r.dir + "/image";
  fs::create_directories(image);
  REQUIRE(testing_support::run_command({"python3", PROJECT_SOURCE_DIR "/tests/images/make_busybox_image.py", image}) == 0);

  auto create_snapshot = [&](const std::string& name, const std::string& image_name) {
    auto created = api.call("POST", "/api/snapshots",
                            boost::json::serialize(boost::json::object{{"name", name}, {"imageName", image_name}}));
    INFO(created.body);
    REQUIRE(created.status == 200);
    CHECK(str(parse(created), "state") == "pending");
  };
  create_snapshot("busybox-oci", "oci:" + image + "/oci:latest");
  create_snapshot("busybox-docker", "docker-archive:" + image + "/busybox.tar");
  create_snapshot("from-the-internet", "python:3.12");
  create_snapshot("not-there", "/nonexistent/image");

  const auto oci = settled(api, r, "busybox-oci");
  CHECK(str(oci, "state") == "active");
  CHECK(oci.at("size").as_double() > 0);
  CHECK(str(settled(api, r, "busybox-docker"), "state") == "active");
  const auto remote = settled(api, r, "from-the-internet");
  CHECK(str(remote, "state") == "error");
  CHECK_THAT(str(remote, "errorReason"), Catch::Contains("does not reach public registries"));
  const auto missing = settled(api, r, "not-there");
  CHECK(str(missing, "state") == "error");
  CHECK_THAT(str(missing, "errorReason"), Catch::Contains("neither an OCI layout directory"));
  // The same layers, whichever the form they came in: unpacked once (keyed by uncompressed digest).
  CHECK(unpacked_layers(r) == 2);
  // The audit trail has the import's transitions.
  const auto oci_id = str(oci, "id");
  std::string types;
  const auto audit = parse(api.call("GET", "/api/audit?resource=" + oci_id + "&limit=10"));
  for (const auto& item : audit.at("items").as_array()) {
    types += str(item.as_object(), "action") + " ";
  }
  CHECK_THAT(types, Catch::Contains("SnapshotCreated SnapshotPulling SnapshotActivated"));

  SECTION("a sandbox from an unknown or failed snapshot is refused, and nothing is created") {
    auto unknown = api.call("POST", "/api/sandbox", R"({"snapshot":"no-such-snapshot"})");
    CHECK(unknown.status == 404);
    CHECK_THAT(unknown.body, Catch::Contains("Snapshot no-such-snapshot not found"));
    auto failed = api.call("POST", "/api/sandbox", R"({"snapshot":"from-the-internet"})");
    CHECK(failed.status == 400);
    CHECK_THAT(failed.body, Catch::Contains("is error, not active"));
    CHECK(parse(api.call("GET", "/api/sandbox")).at("items").as_array().empty());
  }

  SECTION("a sandbox runs the image: its files, whiteouts, env, working dir and entrypoint; no host userland") {
    const auto id = create_started(api, r, R"({"name":"bb","snapshot":"busybox-oci","disk":1})");
    CHECK(sh(r, id, "cat /etc/greeting").second == "hello from the image\n");
    CHECK(sh(r, id, "test -e /etc/gone").first != 0);       // whited out by the second layer
    CHECK(sh(r, id, "ls /opt/old").second == "b\n");        // opaque: the first layer's a is hidden
    CHECK(sh(r, id, "echo $IMAGE_VAR").second == "from-image\n");
    CHECK(sh(r, id, "stat -c %u /home/user/file").second == "1000\n");
    CHECK(sh(r, id, "stat -c %u /bin/busybox").second == "0\n");  // the image's root is the sandbox's
    CHECK(sh(r, id, "test -e /usr/bin/python3").first != 0);       // not the host's userland
    REQUIRE(eventually([&] { return sh(r, id, "cat /tmp/entrypoint.txt").second == "/opt from-image\n"; }));
    // The entrypoint is the toolbox's "entrypoint" session; SIGUSR1 to PID 1 is passed on to it
    // (it execs sleep, which SIGUSR1 ends: 128 + 10).
    CHECK_THAT(toolbox(r, id, "GET", "/process/session/entrypoint", ""), Catch::Contains("\"command\":\"/bin/sh -c echo"));
    REQUIRE(testing_support::run_command({"crun", "--root", r.crun.root(), "kill", id, "SIGUSR1"}) == 0);
    CHECK(eventually([&] {
      return toolbox(r, id, "GET", "/process/session/entrypoint", "").find("\"exitCode\":138") != std::string::npos;
    }));
    CHECK(sh(r, id, "echo still here").second == "still here\n");  // PID 1 itself carries on
    // Writable over the image; the change stays in this sandbox's upper layer.
    CHECK(sh(r, id, "echo changed > /etc/greeting && cat /etc/greeting").second == "changed\n");
    const auto other = create_started(api, r, R"({"name":"bb2","snapshot":"busybox-docker","disk":1})");
    CHECK(sh(r, other, "cat /etc/greeting").second == "hello from the image\n");
    CHECK(unpacked_layers(r) == 2);

    REQUIRE(api.call("POST", "/api/sandbox/" + id + "/stop?force=false").status == 200);
    REQUIRE_REACHES(api, r, id, "stopped");
    REQUIRE(api.call("POST", "/api/sandbox/" + id + "/start").status == 200);
    REQUIRE_REACHES(api, r, id, "started");
    CHECK(sh(r, id, "cat /etc/greeting").second == "changed\n");
    for (const auto& s : {id, other}) REQUIRE(api.call("DELETE", "/api/sandbox/" + s).status == 200);
    CHECK(eventually([&] { return !r.crun.state(id) && !r.crun.state(other); }));
  }

  SECTION("removing a snapshot removes its image from the object store") {
    const auto dir = r.dir + "/objects/images/" + oci_id;
    CHECK(fs::exists(dir + "/image.json"));
    REQUIRE(api.call("DELETE", "/api/snapshots/" + oci_id).status == 200);
    CHECK(eventually([&] { return snapshot_state(api, "busybox-oci") == "gone" || snapshot_state(api, "busybox-oci") == "removed"; }));
    CHECK(eventually([&] { return !fs::exists(dir); }));
  }
}
