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

// Snapshots ever created (the runner's reports about earlier ones do not count).
std::int64_t created_snapshots(Api& api) {
  pqxx::connection c(api.conn);
  pqxx::nontransaction tx(c);
  return tx.exec("select count(*) from events where type = 'SnapshotCreated'")[0][0].as<std::int64_t>();
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
  // Host paths are read only inside the directories the operator allows (API and runner alike).
  const auto allowed = testing_support::make_temp_dir("images");
  setenv("SNAPSHOT_IMPORT_DIRS", allowed.c_str(), 1);
  Api api;
  api.services.settings.snapshot_import_dirs = {allowed};
  RunnerProcess r(api);
  unsetenv("SNAPSHOT_IMPORT_DIRS");
  runner_ready(api, r);
  const auto image = allowed + "/image";
  fs::create_directories(image);
  REQUIRE(testing_support::run_command({"python3", PROJECT_SOURCE_DIR "/tests/images/make_busybox_image.py", image}) == 0);
  // A symlink inside the allowed directory that points out of it is refused by the runner.
  const auto outside = r.dir + "/outside";
  fs::create_directories(outside + "/image");
  REQUIRE(testing_support::run_command({"python3", PROJECT_SOURCE_DIR "/tests/images/make_busybox_image.py",
                                        outside + "/image"}) == 0);
  fs::create_directory_symlink(outside, allowed + "/escape");
  struct Cleanup {
    std::string dir;
    ~Cleanup() { testing_support::remove_tree(dir); }
  } cleanup{allowed};

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
  create_snapshot("not-there", allowed + "/nonexistent");
  create_snapshot("escaped", "oci:" + allowed + "/escape/image/oci:latest");

  // Refused at once, with nothing appended: host paths outside the allowed directories (whether
  // they exist or not: the answer is the same), transports that read the host, another
  // organization's snapshot.
  const auto before = created_snapshots(api);
  for (const auto* refused : {"/etc/shadow", "/nonexistent/image", "docker-archive:/etc/shadow",
                              "oci:/var/lib/x:latest", "dir:/etc", "containers-storage:busybox",
                              "oci:/tmp/../etc"}) {
    auto made = api.call("POST", "/api/snapshots",
                         boost::json::serialize(boost::json::object{{"name", "refused"}, {"imageName", refused}}));
    INFO(refused << " -> " << made.body);
    CHECK(made.status == 400);
  }
  auto shadow = api.call("POST", "/api/snapshots", R"({"name":"x","imageName":"docker-archive:/etc/shadow"})");
  auto absent = api.call("POST", "/api/snapshots", R"({"name":"x","imageName":"docker-archive:/etc/no-such-file"})");
  CHECK(shadow.body.substr(shadow.body.find("SNAPSHOT_IMPORT_DIRS")) ==
        absent.body.substr(absent.body.find("SNAPSHOT_IMPORT_DIRS")));
  CHECK(created_snapshots(api) == before);

  const auto oci = settled(api, r, "busybox-oci");
  CHECK(str(oci, "state") == "active");
  CHECK(oci.at("size").as_double() > 0);
  CHECK(str(settled(api, r, "busybox-docker"), "state") == "active");
  const auto remote = settled(api, r, "from-the-internet");
  CHECK(str(remote, "state") == "error");
  CHECK_THAT(str(remote, "errorReason"), Catch::Contains("does not reach public registries"));
  const auto missing = settled(api, r, "not-there");
  CHECK(str(missing, "state") == "error");
  CHECK_THAT(str(missing, "errorReason"), Catch::Contains("cannot read"));
  const auto escaped = settled(api, r, "escaped");
  CHECK(str(escaped, "state") == "error");
  CHECK_THAT(str(escaped, "errorReason"), Catch::Contains("resolves outside"));
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

  SECTION("a snapshot from another snapshot's image; another organization cannot name it") {
    auto copy = api.call("POST", "/api/snapshots", R"({"name":"bb-copy","imageName":"snapshot:busybox-oci"})");
    INFO(copy.body);
    REQUIRE(copy.status == 200);
    CHECK(str(parse(copy), "imageName") == "snapshot:" + oci_id);
    CHECK(str(settled(api, r, "bb-copy"), "state") == "active");
    const auto before_b = created_snapshots(api);
    auto theirs = api.call("POST", "/api/snapshots", R"({"name":"stolen","imageName":"snapshot:busybox-oci"})", api.key_b);
    CHECK(theirs.status == 404);
    auto by_id = api.call("POST", "/api/snapshots",
                          R"({"name":"stolen","imageName":"snapshot:)" + oci_id + R"("})", api.key_b);
    CHECK(by_id.status == 404);
    auto none = api.call("POST", "/api/snapshots", R"({"name":"stolen","imageName":"snapshot:no-such"})", api.key_b);
    CHECK(none.status == 404);
    CHECK(theirs.body.substr(theirs.body.find("not found")) == none.body.substr(none.body.find("not found")));
    CHECK(created_snapshots(api) == before_b);
  }

  SECTION("removing a snapshot removes its image from the object store") {
    const auto dir = r.dir + "/objects/images/" + oci_id;
    CHECK(fs::exists(dir + "/image.json"));
    REQUIRE(api.call("DELETE", "/api/snapshots/" + oci_id).status == 200);
    CHECK(eventually([&] { return snapshot_state(api, "busybox-oci") == "gone" || snapshot_state(api, "busybox-oci") == "removed"; }));
    CHECK(eventually([&] { return !fs::exists(dir); }));
  }
}
