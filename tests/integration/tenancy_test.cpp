// The tenancy suite: every route of the API's route table, called with organization B's key, a
// revoked key of A, no key and a preview token, against organization A's resources — and the
// same call against resources that do not exist. Each must fail, and fail alike (same status,
// same words but for the id), so that nobody learns whether A's resources exist; nothing may be
// appended for A, and A's resources are as they were afterwards.
#include "api_fixture.hpp"
#include "support/process.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <future>

namespace {

struct Owned {
  std::string org;
  std::string sandbox;
  std::string sandbox_name;
  std::string volume;
  std::string volume_name;
  std::string snapshot;
  std::string snapshot_name;
  std::string webhook;  // a webhook endpoint
};

// What fills each path parameter: A's resource, or one that does not exist.
std::string fill(const std::string& pattern, const Owned& r, bool by_name) {
  static const std::string kPort = "8080";
  std::string out;
  std::size_t at = 0;
  while (at < pattern.size()) {
    const auto open = pattern.find('{', at);
    if (open == std::string::npos) {
      out += pattern.substr(at);
      break;
    }
    const auto close = pattern.find('}', open);
    out += pattern.substr(at, open - at);
    const auto name = pattern.substr(open + 1, close - open - 1);
    if (name == "sandboxIdOrName") out += by_name ? r.sandbox_name : r.sandbox;
    else if (name == "sandboxId") out += r.sandbox;
    else if (name == "volumeId") out += r.volume;
    else if (name == "name") out += r.volume_name;
    else if (name == "snapshotIdOrName") out += by_name ? r.snapshot_name : r.snapshot;
    else if (name == "snapshotId") out += r.snapshot;
    else if (name == "organizationId" || name == "app_id") out += r.org;
    else if (name == "endpoint_id") out += r.webhook;
    else if (name == "msg_id") out += "msg_1_0";
    else if (name == "port") out += kPort;
    else if (name == "interval") out += "5";
    else out += SandboxId::generate().str();  // runnerId, keyId: admin routes
    at = close + 1;
  }
  return out;
}

// A body that names A's (or a missing) resource where the route takes one in its body.
std::string body_for(const Route& route, const Owned& r) {
  if (route.method == command_service::http::verb::post && route.pattern == "/api/sandbox") {
    return R"({"name":"b-box","volumes":[{"volumeId":")" + r.volume + R"(","mountPath":"/data"}]})";
  }
  if (route.method == command_service::http::verb::post && route.pattern == "/api/snapshots") {
    return R"({"name":"b-snap","imageName":"snapshot:)" + r.snapshot + R"("})";
  }
  if (route.pattern.ends_with("/labels")) return R"({"labels":{"b":"was here"}})";
  if (route.pattern.ends_with("/resize")) return R"({"cpu":2})";
  if (route.pattern.ends_with("/network-settings")) return R"({"networkBlockAll":true})";
  if (route.pattern.ends_with("/network")) return R"({"limit":{"networkBlockAll":true}})";
  if (route.pattern == "/api/volumes") return R"({"name":"b-volume"})";
  return "{}";
}

// Routes that name a resource, in the path or (creates) in the body.
bool names_resource(const Route& route) {
  return route.pattern.find('{') != std::string::npos ||
         (route.method == command_service::http::verb::post && (route.pattern == "/api/sandbox" || route.pattern == "/api/snapshots"));
}

// Streams take the connection over (covered by api_streams_test with two organizations).
bool is_stream(const Route& route) {
  return route.pattern == "/api/events" || route.pattern == "/api/socket.io/";
}

std::string without(std::string text, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (id.empty()) continue;
    for (auto at = text.find(id); at != std::string::npos; at = text.find(id, at)) text.replace(at, id.size(), "<ID>");
  }
  return text;
}

std::int64_t events_of(Api& api, const std::string& org) {
  pqxx::connection c(api.conn);
  pqxx::nontransaction tx(c);
  return tx.exec_params("select count(*) from events where metadata->>'organization_id' = $1", org)[0][0]
      .as<std::int64_t>();
}

}  // namespace

TEST_CASE("tenancy: every route refuses another organization, a revoked key, no key and a preview token alike") {
  Api api;
  const auto port = api.port();
  const std::map<std::string, std::string> admin{{"Authorization", "Bearer " + api.admin_key}};

  // Organization A's resources.
  auto box = api.call("POST", "/api/sandbox", R"({"name":"a-box","labels":{"owner":"a"},"public":true})");
  REQUIRE(box.status == 200);
  auto vol = api.call("POST", "/api/volumes", R"({"name":"a-vol"})");
  REQUIRE(vol.status == 200);
  auto snap = api.call("POST", "/api/snapshots", R"({"name":"a-snap","imageName":"docker://127.0.0.1:9/none:1"})");
  REQUIRE(snap.status == 200);
  const auto org_a = str(parse(box), "organizationId");
  auto hook = api.call("POST", "/api/v1/app/" + org_a + "/endpoint", R"({"url":"http://127.0.0.1:9/a-hook"})");
  REQUIRE(hook.status == 201);
  Owned a{org_a, str(parse(box), "id"), "a-box", str(parse(vol), "id"), "a-vol",
              str(parse(snap), "id"), "a-snap", str(parse(hook), "id")};
  Owned missing{OrganizationId::generate().str(), SandboxId::generate().str(), "no-such-box",
                    VolumeId::generate().str(), "no-such-vol", SnapshotId::generate().str(), "no-such-snap",
                    WebhookEndpointId::generate().str()};
  const std::vector<std::string> ids{a.org, a.sandbox, a.sandbox_name, a.volume, a.volume_name, a.snapshot,
                                     a.snapshot_name, a.webhook, missing.org, missing.sandbox, missing.sandbox_name,
                                     missing.volume, missing.volume_name, missing.snapshot, missing.snapshot_name,
                                     missing.webhook};
  auto preview = api.call("GET", "/api/sandbox/" + a.sandbox + "/ports/8080/preview-url");
  REQUIRE(preview.status == 200);
  const auto token = str(parse(preview), "token");

  // A revoked key of A.
  auto extra = http_call(port, "POST", "/api/admin/organizations/" + a.org + "/api-keys", R"({"name":"old"})", admin);
  REQUIRE(extra.status == 201);
  const auto revoked_key = str(parse(extra), "apiKey");
  REQUIRE(http_call(port, "DELETE", "/api/admin/organizations/" + a.org + "/api-keys/" + str(parse(extra), "keyId"), "",
                    admin).status == 200);

  const auto a_events = events_of(api, a.org);
  struct Credential {
    const char* name;
    std::optional<std::string> bearer;
  };
  const std::vector<Credential> credentials{{"organization B's key", api.key_b},
                                            {"A's revoked key", revoked_key},
                                            {"no key", std::nullopt},
                                            {"a preview token as a key", token}};
  int walked = 0;
  for (const auto& route : api.router.routes()) {
    if (is_stream(route)) continue;
    for (const auto& credential : credentials) {
      std::map<std::string, std::string> headers;
      if (credential.bearer) headers["Authorization"] = "Bearer " + *credential.bearer;
      for (const bool by_name : {false, true}) {
        const auto method = std::string(command_service::http::to_string(route.method));
        const auto theirs = fill(route.pattern, a, by_name);
        const auto nobodys = fill(route.pattern, missing, by_name);
        const auto on_a = http_call(port, method, theirs, body_for(route, a), headers);
        const auto on_missing = http_call(port, method, nobodys, body_for(route, missing), headers);
        INFO(credential.name << ": " << method << " " << theirs << " -> " << on_a.status << " " << on_a.body);
        INFO("the same on nothing: " << nobodys << " -> " << on_missing.status << " " << on_missing.body);
        ++walked;
        if (!route.authenticated && route.limit != LimitClass::admin) {
          // Open routes (health, the OpenAPI document, metrics) know no organization.
          CHECK(without(on_a.body, ids).find("<ID>") == std::string::npos);
          continue;
        }
        const bool is_b = credential.bearer == api.key_b;
        if (!is_b || route.limit == LimitClass::admin) {
          CHECK(on_a.status == 401);
        } else if (names_resource(route)) {
          CHECK(on_a.status >= 400);
          CHECK(on_a.status < 500);
        } else {
          CHECK(on_a.status < 500);
        }
        // Alike: what A's resource and a missing one get differs in the id at most.
        if (names_resource(route) || !is_b) {
          CHECK(on_a.status == on_missing.status);
          CHECK(without(on_a.body, ids) == without(on_missing.body, ids));
        }
        // And no answer to B shows anything of A's.
        if (is_b && on_a.status == 200) {
          for (const auto& secret : {a.sandbox, a.volume, a.snapshot, a.webhook, std::string("a-box"), std::string("a-vol"),
                                     std::string("a-hook")}) {
            CHECK(on_a.body.find(secret) == std::string::npos);
          }
        }
      }
    }
  }
  CHECK(walked > 150);
  // Nothing was appended for A, and A's things are as they were.
  CHECK(events_of(api, a.org) == a_events);
  const auto still = parse(api.call("GET", "/api/sandbox/" + a.sandbox));
  CHECK(str(still.at("labels").as_object(), "owner") == "a");
  CHECK(still.at("labels").as_object().size() == 2);  // owner and code-toolbox-language
  CHECK(api.call("GET", "/api/volumes/" + a.volume).status == 200);
  CHECK(api.call("GET", "/api/snapshots/" + a.snapshot).status == 200);
}

TEST_CASE("tenancy: preview tokens are signed, port-scoped and never derived from ids") {
  Api api;
  auto box = api.call("POST", "/api/sandbox", R"({"name":"tokens"})");
  REQUIRE(box.status == 200);
  const auto id = str(parse(box), "id");
  const auto first = parse(api.call("GET", "/api/sandbox/" + id + "/ports/8080/preview-url"));
  const auto other_port = parse(api.call("GET", "/api/sandbox/" + id + "/ports/8081/preview-url"));
  CHECK(str(first, "token") != str(other_port, "token"));
  CHECK(str(first, "token").find(id) == std::string::npos);
  const auto ring = tokens::preview_keys("", api.admin_key).value();
  const auto now = tokens::unix_now();
  CHECK(tokens::verify_preview(ring, str(first, "token"), SandboxId{id}, 8080, now));
  CHECK_FALSE(tokens::verify_preview(ring, str(first, "token"), SandboxId{id}, 8081, now));
  // The toolbox port has no preview; another organization gets none; a signed URL expires.
  CHECK(api.call("GET", "/api/sandbox/" + id + "/ports/2280/preview-url").status == 400);
  CHECK(api.call("GET", "/api/sandbox/" + id + "/ports/8080/preview-url", "", api.key_b).status == 404);
  auto signed_url = api.call("GET", "/api/sandbox/" + id + "/ports/3000/signed-preview-url?expiresInSeconds=30");
  REQUIRE(signed_url.status == 200);
  const auto s = parse(signed_url);
  CHECK(s.at("port").as_int64() == 3000);
  CHECK_THAT(str(s, "url"), Catch::Contains("DAYTONA_SANDBOX_AUTH_KEY=" + str(s, "token")));
  const auto expires = tokens::verify_preview(ring, str(s, "token"), SandboxId{id}, 3000, now);
  REQUIRE(expires);
  CHECK(*expires <= now + 31);
  CHECK_FALSE(tokens::verify_preview(ring, str(s, "token"), SandboxId{id}, 3000, now + 60));
  CHECK(api.call("GET", "/api/sandbox/" + id + "/ports/3000/signed-preview-url?expiresInSeconds=0").status == 400);
  CHECK(api.call("GET", "/api/sandbox/" + id + "/ports/3000/signed-preview-url?expiresInSeconds=x").status == 400);
}

TEST_CASE("tenancy: volumes of another organization, or none, cannot be mounted") {
  Api api;
  auto vol = api.call("POST", "/api/volumes", R"({"name":"a-data"})");
  REQUIRE(vol.status == 200);
  const auto volume = str(parse(vol), "id");
  const auto before = api.event_count("sandbox");
  auto theirs = api.call("POST", "/api/sandbox", R"({"volumes":[{"volumeId":")" + volume + R"(","mountPath":"/d"}]})",
                         api.key_b);
  CHECK(theirs.status == 404);
  CHECK_THAT(theirs.body, Catch::Contains("Volume " + volume + " not found"));
  const auto unknown = VolumeId::generate().str();
  auto nobodys = api.call("POST", "/api/sandbox", R"({"volumes":[{"volumeId":")" + unknown + R"(","mountPath":"/d"}]})");
  CHECK(nobodys.status == 404);
  CHECK(api.event_count("sandbox") == before);
  // The owner mounts it; a deleted one is gone for everyone.
  CHECK(api.call("POST", "/api/sandbox", R"({"volumes":[{"volumeId":")" + volume + R"(","mountPath":"/d"}]})").status == 200);
  REQUIRE(api.call("DELETE", "/api/volumes/" + volume).status == 200);
  CHECK(api.call("POST", "/api/sandbox", R"({"volumes":[{"volumeId":")" + volume + R"(","mountPath":"/e"}]})").status == 404);
}

TEST_CASE("tenancy: a source that failed to authenticate still lets valid keys through") {
  Api api(RateLimitSettings{0, 0, 3, 0, 0});
  for (int i = 0; i < 5; ++i) api.call("GET", "/api/sandbox", "", "dtn_wrong");
  auto blocked = api.call("GET", "/api/sandbox", "", "dtn_wrong");
  CHECK(blocked.status == 429);
  CHECK(blocked.headers.contains("Retry-After"));
  CHECK(api.call("GET", "/api/sandbox", "", api.key_a).status == 200);
  CHECK(api.call("GET", "/api/sandbox", "", api.key_b).status == 200);
}

namespace {

// The edge proxy as a child process in front of the test's API.
struct EdgeProxy {
  int port = testing_support::free_port();
  std::string dir = testing_support::make_temp_dir("proxy");
  testing_support::ChildProcess process;
  explicit EdgeProxy(Api& api) {
    setenv("API_URL", ("http://127.0.0.1:" + std::to_string(api.port()) + "/api").c_str(), 1);
    setenv("ADMIN_API_KEY", api.admin_key.c_str(), 1);
    setenv("PROXY_PORT", std::to_string(port).c_str(), 1);
    setenv("PROXY_MAX_CONNECTIONS_PER_SOURCE", "20", 1);
    process = testing_support::ChildProcess({EDGE_PROXY_BIN}, "", dir + "/proxy.log");
    REQUIRE(testing_support::wait_for_port(port, 10000));
  }
  ~EdgeProxy() {
    process.stop(SIGTERM, 5000);
    testing_support::remove_tree(dir);
  }
  HttpReply call(const std::string& method, const std::string& target, std::map<std::string, std::string> headers = {},
                 const std::string& body = {}) {
    return http_call(port, method, target, body, headers);
  }
};

// A raw exchange with the proxy: what it answers to bytes no client library would send.
std::string raw(int port, const std::string& bytes) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  boost::system::error_code ec;
  boost::asio::write(socket, boost::asio::buffer(bytes), ec);
  std::string reply;
  char buf[4096];
  timeval tv{5, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (;;) {
    const auto n = ::recv(socket.native_handle(), buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  return reply;
}

}  // namespace

// The proxy keeps its connections to the API for the next look-up. Ones the API has closed (its
// idle timeout, here 1 s; or a restart, which closes them all) must not turn a look-up into a
// 503: the call goes on the next kept one, and at last on a new one.
TEST_CASE("tenancy: the edge proxy asks again on a new connection when the API closed a kept one") {
  Api api(RateLimitSettings{0, 0, 0, 0, 0}, std::chrono::seconds(1));
  EdgeProxy proxy(api);
  const std::map<std::string, std::string> a{{"Authorization", "Bearer " + api.key_a}};
  // Each request asks the API twice (the sandbox, the key), on connections the proxy then keeps;
  // requests at once keep several, so that a look-up meets more than one closed connection.
  std::vector<std::future<int>> at_once;
  for (int i = 0; i < 4; ++i) {
    at_once.push_back(std::async(std::launch::async, [&] {
      return proxy.call("GET", "/toolbox/" + SandboxId::generate().str() + "/version", a).status;
    }));
  }
  for (auto& f : at_once) CHECK(f.get() == 404);
  // The API closes them; another sandbox is not cached, and the key's answer (500 ms) has expired.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  for (int i = 0; i < 3; ++i) {
    const auto other = SandboxId::generate().str();
    auto again = proxy.call("GET", "/toolbox/" + other + "/version", a);
    INFO(again.body);
    CHECK(again.status == 404);
    CHECK(again.body.find("Sandbox with ID " + other + " not found") != std::string::npos);
  }
}

TEST_CASE("tenancy: the edge proxy refuses other organizations' keys, foreign tokens and the toolbox port alike") {
  Api api;
  EdgeProxy proxy(api);
  auto box = api.call("POST", "/api/sandbox", R"({"name":"private-box"})");
  auto pub = api.call("POST", "/api/sandbox", R"({"name":"public-box","public":true})");
  REQUIRE(box.status == 200);
  REQUIRE(pub.status == 200);
  const auto id = str(parse(box), "id");
  const auto public_id = str(parse(pub), "id");
  const auto nobody = SandboxId::generate().str();
  const auto token = str(parse(api.call("GET", "/api/sandbox/" + id + "/ports/8080/preview-url")), "token");

  // The toolbox: B's key on A's sandbox and on none answer alike; bad and missing keys are 401.
  const std::map<std::string, std::string> b{{"Authorization", "Bearer " + api.key_b}};
  auto theirs = proxy.call("POST", "/toolbox/" + id + "/process/execute", b, R"({"command":"id"})");
  auto none = proxy.call("POST", "/toolbox/" + nobody + "/process/execute", b, R"({"command":"id"})");
  CHECK(theirs.status == 404);
  CHECK(without(theirs.body, {id, nobody}) == without(none.body, {id, nobody}));
  CHECK(proxy.call("POST", "/toolbox/" + id + "/process/execute", {}, "{}").status == 401);
  CHECK(proxy.call("POST", "/toolbox/" + id + "/process/execute", {{"Authorization", "Bearer dtn_bad"}}, "{}").status == 401);
  CHECK(proxy.call("POST", "/toolbox/" + id + "/process/execute", {{"Authorization", "Bearer " + token}}, "{}").status == 401);
  // The owner passes the checks (the sandbox has no runner here: it is not started).
  CHECK(proxy.call("GET", "/toolbox/" + id + "/version", {{"Authorization", "Bearer " + api.key_a}}).status == 409);

  // The toolbox port is no preview, whoever asks and however.
  for (const auto& target : {"/preview/" + id + "/2280/process/execute", "/preview/" + public_id + "/2280/process/execute"}) {
    CHECK(proxy.call("POST", target, {{"x-daytona-preview-token", token}}, R"({"command":"id"})").status == 403);
    CHECK(proxy.call("POST", target, {}, R"({"command":"id"})").status == 403);
  }
  CHECK(proxy.call("POST", "/process/execute", {{"Host", "2280-" + public_id + ".preview.localhost"}}, "{}").status == 403);

  // Previews of a private sandbox: its token, for its port only; a missing sandbox answers as a
  // private one does; the token of one sandbox opens no other.
  auto no_token = proxy.call("GET", "/preview/" + id + "/8080/");
  auto wrong_port = proxy.call("GET", "/preview/" + id + "/8081/", {{"x-daytona-preview-token", token}});
  auto missing = proxy.call("GET", "/preview/" + nobody + "/8080/");
  auto other_box = proxy.call("GET", "/preview/" + public_id + "/8081/", {{"x-daytona-preview-token", token}});
  CHECK(no_token.status == 401);
  CHECK(wrong_port.status == 401);
  CHECK(missing.status == 401);
  CHECK(without(no_token.body, {id, nobody}) == without(missing.body, {id, nobody}));
  CHECK(proxy.call("GET", "/preview/" + id + "/8080/", {{"x-daytona-preview-token", token + "x"}}).status == 401);
  CHECK(proxy.call("GET", "/preview/" + id + "/8080/", {{"x-daytona-preview-token", token}}).status == 409);  // valid: not started
  CHECK(proxy.call("GET", "/preview/" + id + "/8080/?DAYTONA_SANDBOX_AUTH_KEY=" + token).status == 409);
  CHECK(proxy.call("GET", "/preview/" + public_id + "/8080/").status == 409);  // public: anyone, but not started
  (void)other_box;

  // Headers too large → 431; Content-Length with Transfer-Encoding → 400; each answered.
  const std::string big(70 * 1024, 'a');
  CHECK_THAT(raw(proxy.port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n"),
             Catch::StartsWith("HTTP/1.1 431"));
  CHECK_THAT(raw(proxy.port, "POST /toolbox/" + id + "/files HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
             Catch::StartsWith("HTTP/1.1 400"));
}

TEST_CASE("tenancy: a few bad toolbox keys from one client do not lock out other clients of the proxy") {
  Api api(RateLimitSettings{0, 0, 3, 0, 0});
  EdgeProxy proxy(api);
  auto box = api.call("POST", "/api/sandbox", R"({"name":"busy"})");
  REQUIRE(box.status == 200);
  const auto id = str(parse(box), "id");
  for (int i = 0; i < 6; ++i) {
    proxy.call("GET", "/toolbox/" + id + "/version", {{"Authorization", "Bearer dtn_bad" + std::to_string(i)}});
  }
  auto limited = proxy.call("GET", "/toolbox/" + id + "/version", {{"Authorization", "Bearer dtn_bad-again"}});
  CHECK(limited.status == 429);
  CHECK(limited.headers.contains("Retry-After"));
  // The owner's key still passes (409: not started), from the same address, through the same proxy.
  CHECK(proxy.call("GET", "/toolbox/" + id + "/version", {{"Authorization", "Bearer " + api.key_a}}).status == 409);
}

TEST_CASE("tenancy: connections per source are capped; past the cap a clear 429, others unaffected") {
  Api api;
  EdgeProxy proxy(api);  // 20 per source
  boost::asio::io_context io;
  std::vector<boost::asio::ip::tcp::socket> held;
  for (int i = 0; i < 20; ++i) {
    held.emplace_back(io);
    held.back().connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(proxy.port)});
  }
  CHECK(testing_support::eventually([&] { return raw(proxy.port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 429", 0) == 0; },
                                    std::chrono::seconds(5)));
  // Another source address (all of 127/8 is this machine) is not held up.
  boost::asio::ip::tcp::socket other(io);
  other.open(boost::asio::ip::tcp::v4());
  other.bind({boost::asio::ip::make_address("127.0.0.2"), 0});
  other.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(proxy.port)});
  boost::asio::write(other, boost::asio::buffer(std::string("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")));
  char buf[64] = {};
  timeval tv{5, 0};
  setsockopt(other.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CHECK(std::string(buf, static_cast<std::size_t>(std::max<ssize_t>(0, ::recv(other.native_handle(), buf, sizeof buf, 0))))
            .rfind("HTTP/1.1 200", 0) == 0);
  held.clear();
  CHECK(testing_support::eventually([&] { return raw(proxy.port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0; },
                                    std::chrono::seconds(5)));
}

TEST_CASE("bad input: a clear 4xx naming the problem, never a 500 or a database's words; nothing appended") {
  Api api;
  const auto before = api.event_count("sandbox");
  auto expect_400 = [&](const std::string& method, const std::string& target, const std::string& body,
                        const std::string& says) {
    auto r = api.call(method, target, body);
    INFO(method << " " << target << " " << body.substr(0, 80) << " -> " << r.status << " " << r.body.substr(0, 300));
    CHECK(r.status == 400);
    CHECK_THAT(r.body, Catch::Contains(says));
    CHECK(r.body.find("ERROR:") == std::string::npos);  // no PostgreSQL text
  };
  expect_400("GET", "/api/sandbox/%ff", "", "path parameter sandboxIdOrName is not valid UTF-8");
  expect_400("GET", "/api/sandbox/a%00b", "", "contains a NUL character");
  expect_400("GET", "/api/sandbox?name=%ff", "", "query parameter name is not valid UTF-8");
  CHECK(api.call("GET", "/api/sandbox?name=").status == 200);
  expect_400("POST", "/api/sandbox", R"({"name":"a\u0000b"})", "contains a NUL character");
  expect_400("POST", "/api/sandbox", R"({"labels":{"k":"\u0000"}})", "labels.k contains a NUL character");
  for (const std::string name : {"../../etc/passwd", "a/b", "a\\r\\nb", "evil\\u202etxt", ".", "..", "-rf"}) {
    expect_400("POST", "/api/sandbox", R"({"name":")" + name + R"("})", "name");
  }
  expect_400("POST", "/api/sandbox", R"({"env":{"BIG":")" + std::string(40 * 1024, 'x') + R"("}})",
             "bytes per value");
  std::string many = "{";
  for (int i = 0; i < 70; ++i) many += (i ? "," : "") + std::string("\"l") + std::to_string(i) + "\":\"v\"";
  expect_400("POST", "/api/sandbox", R"({"labels":)" + many + "}}", "the limit is 64");
  CHECK(api.call("POST", "/api/sandbox", std::string(70 * 1024, '{')).status == 413);  // the test body limit is 64 KiB
  CHECK(api.event_count("sandbox") == before);
}

TEST_CASE("faults: PostgreSQL unreachable answers 503 with Retry-After, and the API recovers") {
  Api api;
  const auto db = api.conn.substr(api.conn.find("dbname=") + 7);
  auto admin_sql = [&](const std::string& sql) {
    auto maintenance = api.conn.substr(0, api.conn.find("dbname=")) + "dbname=postgres";
    pqxx::connection c(maintenance);
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  };
  REQUIRE(api.call("GET", "/api/sandbox").status == 200);
  admin_sql("alter database " + db + " with allow_connections false");
  admin_sql("select pg_terminate_backend(pid) from pg_stat_activity where datname = '" + db +
            "' and pid <> pg_backend_pid()");
  auto down = api.call("GET", "/api/sandbox");
  INFO(down.body);
  CHECK(down.status == 503);
  CHECK(down.headers.contains("Retry-After"));
  auto create = api.call("POST", "/api/sandbox", "{}");
  CHECK(create.status == 503);
  admin_sql("alter database " + db + " with allow_connections true");
  CHECK(testing_support::eventually([&] { return api.call("GET", "/api/sandbox").status == 200; }, std::chrono::seconds(20)));
}
