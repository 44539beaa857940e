// Webhooks against code nobody here wrote: a delivery the platform signs (one secret, and two
// during a rotation) verifies with the npm standardwebhooks and svix packages, and a tampered
// body does not (tests/e2e/verify_webhook.cjs); the official svix client manages endpoints
// (tests/e2e/svix_client.cjs).
#include "api_fixture.hpp"
#include "node_scripts.hpp"
#include "events/webhooks/signing.hpp"
#include "projector/webhooks/delivery.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <set>
#include <thread>

TEST_CASE("webhooks: a signed delivery verifies with the npm standardwebhooks and svix packages") {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  const std::string body = R"({"event":"sandbox.created","timestamp":"2026-12-01T10:00:00.000Z","id":"x"})";
  const auto old_secret = events::webhooks::new_secret();
  const auto new_secret = events::webhooks::new_secret();
  for (const auto& secrets : {std::vector<std::string>{old_secret}, std::vector<std::string>{new_secret, old_secret}}) {
    auto headers = events::webhooks::signed_headers(secrets, "msg_1234_0", now, body);
    REQUIRE(headers);
    json::array s;
    for (const auto& x : secrets) s.emplace_back(x);
    json::object h;
    for (const auto& [k, v] : *headers) h[k] = v;
    const auto run = run_node("verify_webhook.cjs", {"standardwebhooks", "svix"},
                              {{"WEBHOOK_SECRETS", json::serialize(s)},
                               {"WEBHOOK_BODY", body},
                               {"WEBHOOK_HEADERS", json::serialize(h)}});
    const auto& out = run.output;
    INFO(out);
    CHECK(run.ok());
    CHECK_THAT(out, Catch::Contains("standardwebhooks secret 0: verified"));
    CHECK_THAT(out, Catch::Contains("svix secret 0: verified"));
    CHECK_THAT(out, Catch::Contains("standardwebhooks tampered body: refused"));
    CHECK_THAT(out, Catch::Contains("svix tampered body: refused"));
    CHECK_THAT(out, Catch::Contains("done"));
    if (secrets.size() == 2) CHECK_THAT(out, Catch::Contains("svix secret 1: verified"));
  }
}

TEST_CASE("webhooks: the official svix client manages the organization's endpoints, and only its own") {
  Api api;
  const auto events_before = api.event_count();
  const auto run = run_node("svix_client.cjs", {"svix"},
                            {{"API_ORIGIN", "http://127.0.0.1:" + std::to_string(api.port())},
                             {"API_KEY", api.key_a},
                             {"API_KEY_B", api.key_b},
                             {"ADMIN_KEY", api.admin_key}});
  INFO(run.output);
  CHECK(run.ok());
  CHECK_THAT(run.output, Catch::Contains("checked: nor the endpoint"));
  CHECK_THAT(run.output, Catch::Contains("checked: a metadata address is refused"));
  CHECK_THAT(run.output, Catch::Contains("checked: the organization's own key may not send one"));
  CHECK_THAT(run.output, Catch::Contains("\nok"));
  // Made, replaced, patched, rotated, upserted and deleted, recovery asked, a message sent,
  // deleted: nine events; the refusals none.
  CHECK(api.event_count() == events_before + 9);
}

namespace {

// The receiver's log lines (whole ones), parsed.
std::vector<json::object> deliveries(const std::string& log) {
  std::ifstream in(log);
  std::vector<json::object> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() != '{') continue;
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (!ec && v.is_object()) out.push_back(v.as_object());
  }
  return out;
}

bool wait_until(const std::function<bool()>& done, int seconds = 30) {
  return testing_support::eventually(done, std::chrono::seconds(seconds));
}

// tests/e2e/webhook_receiver.cjs in `dir`: it verifies with the secrets written to
// `secrets_file`, and logs each delivery as a line of `log`.
struct Receiver {
  std::string secrets_file;
  std::string log;
  std::string port;
  testing_support::ChildProcess process;
  explicit Receiver(const std::string& dir) : secrets_file(dir + "/secrets.json"), log(dir + "/receiver.log") {
    process = start_node("webhook_receiver.cjs", {"standardwebhooks"}, {{"WEBHOOK_SECRETS_FILE", secrets_file}}, log);
    REQUIRE(testing_support::eventually(
        [&] {
          std::ifstream in(log);
          std::string word;
          in >> word >> port;
          return word == "listening" && !port.empty();
        },
        std::chrono::seconds(15)));
  }
};

std::string text(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

TEST_CASE("webhooks: public events reach the organization's endpoints signed, in order, retried; 410 disables") {
  Api api;
  const std::map<std::string, std::string> admin{{"Authorization", "Bearer " + api.admin_key}};
  auto runner_reply = http_call(api.port(), "POST", "/api/runners",
                                R"({"region":"local","endpoint":"127.0.0.1:4100","capacity":{"cpu":4,"memory_gib":8,"disk_gib":50,"max_sandboxes":10}})",
                                admin);
  REQUIRE(runner_reply.status == 200);
  const auto runner = str(parse(runner_reply), "id");
  auto report = [&](const std::string& sandbox, const std::string& state) {
    bus::RunnerReport r{sandbox, "state", state, "", true, "", 0, "", ""};
    auto reply = api.nats->request("runner.reports." + runner, to_json_text(r), std::chrono::milliseconds(5000));
    REQUIRE(reply);
    REQUIRE(json::parse(*reply).at("ok").as_bool());
  };

  // The receiver, verifying with the npm standardwebhooks package.
  const auto dir = testing_support::make_temp_dir("webhooks");
  Receiver receiver(dir);
  const auto& secrets_file = receiver.secrets_file;
  const auto& log = receiver.log;
  const auto base = "http://127.0.0.1:" + receiver.port;

  // Endpoints: A's that fails each first attempt, A's that is gone (sandbox.created only), B's.
  auto org_of = [&](const std::string& key) {
    return str(parse(http_call(api.port(), "POST", "/api/v1/app", "{}", {{"Authorization", "Bearer " + key}})), "id");
  };
  const auto org_a = org_of(api.key_a);
  const auto org_b = org_of(api.key_b);
  auto endpoint = [&](const std::string& org, const std::string& key, const std::string& body) {
    auto made = http_call(api.port(), "POST", "/api/v1/app/" + org + "/endpoint", body, {{"Authorization", "Bearer " + key}});
    INFO(made.body);
    REQUIRE(made.status == 201);
    const auto id = str(parse(made), "id");
    auto secret = http_call(api.port(), "GET", "/api/v1/app/" + org + "/endpoint/" + id + "/secret", "",
                            {{"Authorization", "Bearer " + key}});
    REQUIRE(secret.status == 200);
    return std::make_pair(id, str(parse(secret), "key"));
  };
  const auto [flaky, flaky_secret] = endpoint(org_a, api.key_a, R"({"url":")" + base + R"(/fail-first-1"})");
  const auto [gone, gone_secret] =
      endpoint(org_a, api.key_a, R"({"url":")" + base + R"(/gone","filterTypes":["sandbox.created"]})");
  const auto [theirs, theirs_secret] = endpoint(org_b, api.key_b, R"({"url":")" + base + R"(/b"})");
  {
    std::ofstream out(secrets_file);
    out << json::serialize(json::object{{"/fail-first-1", json::array{flaky_secret.c_str()}},
                                        {"/gone", json::array{gone_secret.c_str()}},
                                        {"/b", json::array{theirs_secret.c_str()}}});
  }

  projector::webhooks::DeliverySettings settings;
  settings.database_url = api.conn;
  settings.schedule = *events::webhooks::RetrySchedule::parse("0,1,1,1");
  settings.targets = *events::webhooks::TargetPolicy::parse("loopback");
  settings.timeout = std::chrono::seconds(5);
  settings.poll = std::chrono::milliseconds(100);
  auto delivery = projector::webhooks::Delivery::start(settings, nullptr);
  REQUIRE(delivery);

  // A sandbox of A's through its life, and one of B's.
  auto made = api.call("POST", "/api/sandbox", R"({"name":"hooked","env":{"SECRET_TOKEN":"hunter2"}})");
  REQUIRE(made.status == 200);
  const auto box = str(parse(made), "id");
  report(box, "starting");
  report(box, "started");
  REQUIRE(api.call("POST", "/api/sandbox/" + box + "/stop").status == 200);
  report(box, "stopping");
  report(box, "stopped");
  auto b_made = api.call("POST", "/api/sandbox", R"({"name":"theirs"})", api.key_b);
  REQUIRE(b_made.status == 200);
  const auto b_box = str(parse(b_made), "id");

  auto delivered = [&](const std::string& path) {
    std::vector<json::object> out;
    for (auto& d : deliveries(log)) {
      if (text(d, "path") == path && d.at("status").as_int64() < 300) out.push_back(d);
    }
    return out;
  };
  REQUIRE(wait_until([&] {
    const auto d = delivered("/fail-first-1");
    return !d.empty() && text(d.back(), "newState") == "stopped";
  }));
  REQUIRE(wait_until([&] { return !delivered("/b").empty(); }));
  const auto all = deliveries(log);
  INFO(json::serialize(json::value_from(all)));

  // A's flaky endpoint: every event once delivered, in the sandbox's order, each after one 500.
  std::vector<std::string> seen;
  for (const auto& d : delivered("/fail-first-1")) {
    CHECK(d.at("verified").as_bool());
    CHECK(d.at("svixHeaders").as_bool());
    CHECK(d.at("attempt").as_int64() == 2);
    CHECK(text(d, "subject") == box);
    seen.push_back(text(d, "event") + (text(d, "newState").empty() ? "" : ":" + text(d, "newState")));
  }
  CHECK(seen == std::vector<std::string>{"sandbox.created", "sandbox.state.updated:starting",
                                         "sandbox.state.updated:started", "sandbox.state.updated:stopping",
                                         "sandbox.state.updated:stopped"});
  CHECK(text(delivered("/fail-first-1")[3], "reason") == "stop requested by the user");
  int failures = 0;
  for (const auto& d : all) {
    if (text(d, "path") == "/fail-first-1" && d.at("status").as_int64() == 500) ++failures;
  }
  CHECK(failures == 5);

  // B's endpoint got B's sandbox only; A's never B's.
  for (const auto& d : delivered("/b")) CHECK(text(d, "subject") == b_box);
  for (const auto& d : all) {
    if (text(d, "path") != "/b") CHECK(text(d, "subject") != b_box);
  }
  {
    std::ifstream in(log);
    std::stringstream received;
    received << in.rdbuf();
    CHECK(received.str().find("hunter2") == std::string::npos);  // nothing internal: no env values
  }

  // The gone endpoint answered 410 once and was disabled by an event on its stream.
  int gone_calls = 0;
  for (const auto& d : all) gone_calls += text(d, "path") == "/gone" ? 1 : 0;
  CHECK(gone_calls == 1);
  REQUIRE(wait_until([&] {
    auto got = http_call(api.port(), "GET", "/api/v1/app/" + org_a + "/endpoint/" + gone, "",
                         {{"Authorization", "Bearer " + api.key_a}});
    return got.status == 200 && parse(got).at("disabled").as_bool();
  }, 10));

  // Every attempt is on record.
  pqxx::connection c(api.conn);
  pqxx::nontransaction tx(c);
  CHECK(tx.exec_params("select count(*) from webhooks.attempts where endpoint_id = $1::uuid", flaky)[0][0].as<int>() == 10);
  CHECK(tx.exec_params("select count(*) from webhooks.attempts where endpoint_id = $1::uuid and outcome = 'gone'", gone)[0][0]
            .as<int>() == 1);

  // The svix client reads the record: messages (paged), attempts by endpoint and by message, and
  // a resend delivers the newest message once more (a third attempt, manual).
  const auto svix = run_node("svix_messages.cjs", {"svix"},
                             {{"API_ORIGIN", "http://127.0.0.1:" + std::to_string(api.port())},
                              {"API_KEY", api.key_a},
                              {"APP_ID", org_a},
                              {"ENDPOINT_ID", flaky}});
  const auto& svix_out = svix.output;
  INFO(svix_out);
  CHECK(svix.ok());
  // A's messages: five for the sandbox (to both endpoints the created one is one message).
  CHECK_THAT(svix_out, Catch::Contains("messages: 2 done=false first=sandbox.state.updated"));
  CHECK_THAT(svix_out, Catch::Contains("messages after the first page: 3"));
  CHECK_THAT(svix_out, Catch::Contains("attempts to the endpoint: 10 success=5 fail=5"));
  CHECK_THAT(svix_out, Catch::Contains("attempts of the message: 2 codes=204,500"));
  CHECK_THAT(svix_out, Catch::Contains("\nok"));
  REQUIRE(wait_until([&] {
    for (const auto& d : deliveries(log)) {
      if (text(d, "path") == "/fail-first-1" && d.at("attempt").as_int64() == 3) return text(d, "newState") == "stopped";
    }
    return false;
  }));
  // The receiver logs a delivery before the sender records its attempt: wait for the record.
  CHECK(wait_until([&] {
    return tx.exec_params("select count(*) from webhooks.attempts where endpoint_id = $1::uuid and trigger = 'manual'",
                           flaky)[0][0]
               .as<int>() == 1;
  }, 10));
  // Another organization's key reads none of it.
  CHECK(http_call(api.port(), "GET", "/api/v1/app/" + org_a + "/msg", "", {{"Authorization", "Bearer " + api.key_b}}).status ==
        404);

  // The admin's test send reaches the endpoints that take its type, signed like the rest.
  const auto sent = http_call(api.port(), "POST", "/api/v1/app/" + org_a + "/msg",
                              R"({"eventType":"test.ping","payload":{"event":"test.ping","id":"ping-1"}})", admin);
  REQUIRE(sent.status == 202);
  const auto sent_id = str(parse(sent), "id");
  REQUIRE(wait_until([&] {
    for (const auto& d : delivered("/fail-first-1")) {
      if (text(d, "event") == "test.ping") return text(d, "subject") == "ping-1" && d.at("verified").as_bool();
    }
    return false;
  }));
  for (const auto& d : deliveries(log)) {
    if (text(d, "event") == "test.ping") CHECK(text(d, "path") == "/fail-first-1");  // not B's, not the filtered one
  }
  CHECK(http_call(api.port(), "GET", "/api/v1/app/" + org_a + "/msg/" + sent_id, "", {{"Authorization", "Bearer " + api.key_a}})
            .status == 200);
  delivery->reset();
  testing_support::remove_tree(dir);
}

TEST_CASE("webhooks: webhook-delivery killed with SIGKILL mid-stream loses nothing when it starts again") {
  Api api;
  const auto dir = testing_support::make_temp_dir("webhooks-kill");
  Receiver receiver(dir);
  const auto& secrets_file = receiver.secrets_file;
  const auto& log = receiver.log;
  const auto& port = receiver.port;
  const auto org = str(parse(http_call(api.port(), "POST", "/api/v1/app", "{}", {{"Authorization", "Bearer " + api.key_a}})), "id");
  auto made = api.call("POST", "/api/v1/app/" + org + "/endpoint",
                       R"({"url":"http://127.0.0.1:)" + port + R"(/slow-100","filterTypes":["sandbox.created"]})");
  REQUIRE(made.status == 201);
  const auto secret = str(parse(api.call("GET", "/api/v1/app/" + org + "/endpoint/" + str(parse(made), "id") + "/secret")), "key");
  std::ofstream(secrets_file) << json::serialize(json::object{{"/slow-100", json::array{secret.c_str()}}});

  std::set<std::string> boxes;
  for (int i = 0; i < 20; ++i) {
    auto box = api.call("POST", "/api/sandbox", "{\"name\":\"box-" + std::to_string(i) + "\"}");
    REQUIRE(box.status == 200);
    boxes.insert(str(parse(box), "id"));
  }
  setenv("DATABASE_URL", api.conn.c_str(), 1);
  setenv("WEBHOOK_ALLOW_RANGES", "loopback", 1);
  setenv("WEBHOOK_RETRY_SCHEDULE", "0,1,1,1", 1);
  unsetenv("NATS_URL");
  auto received = [&] {
    std::map<std::string, std::set<std::string>> ids_of;  // sandbox → webhook-ids it came with
    int count = 0;
    for (const auto& d : deliveries(log)) {
      if (d.at("status").as_int64() >= 300) continue;
      CHECK(d.at("verified").as_bool());
      ids_of[text(d, "subject")].insert(text(d, "id"));
      ++count;
    }
    return std::make_pair(ids_of, count);
  };
  {
    testing_support::ChildProcess first({WEBHOOK_DELIVERY_BIN}, "", dir + "/first.log");
    REQUIRE(wait_until([&] { return received().second >= 3; }, 30));
    first.stop(SIGKILL);
  }
  const auto before_restart = received().second;
  CHECK(before_restart < 20);  // killed mid-stream
  testing_support::ChildProcess second({WEBHOOK_DELIVERY_BIN}, "", dir + "/second.log");
  REQUIRE(wait_until([&] { return received().first.size() == boxes.size(); }, 60));
  const auto [ids_of, count] = received();
  for (const auto& box : boxes) {
    REQUIRE(ids_of.contains(box));
    CHECK(ids_of.at(box).size() == 1);  // a redelivery carries the same webhook-id
  }
  // At most the one in flight when it was killed came twice.
  CHECK(count <= static_cast<int>(boxes.size()) + 1);
  second.stop(SIGTERM);
  testing_support::remove_tree(dir);
}
