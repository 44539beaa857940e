// Webhooks against code nobody here wrote: a delivery the platform signs (one secret, and two
// during a rotation) verifies with the npm standardwebhooks and svix packages, and a tampered
// body does not (tests/e2e/verify_webhook.cjs); the official svix client manages endpoints
// (tests/e2e/svix_client.cjs).
#include "api_fixture.hpp"
#include "events/webhooks/signing.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

namespace {

std::string verify_with_npm(const std::vector<std::string>& secrets, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers, int& status) {
  const char* node_path = std::getenv("NPM_NODE_PATH");
  if (node_path == nullptr || *node_path == '\0') node_path = NPM_NODE_PATH;
  REQUIRE(std::ifstream(std::string(node_path) + "/standardwebhooks/package.json").good());
  REQUIRE(std::ifstream(std::string(node_path) + "/svix/package.json").good());
  boost::json::array s;
  for (const auto& x : secrets) s.emplace_back(x);
  boost::json::object h;
  for (const auto& [k, v] : headers) h[k] = v;
  setenv("NODE_PATH", node_path, 1);
  setenv("WEBHOOK_SECRETS", boost::json::serialize(s).c_str(), 1);
  setenv("WEBHOOK_BODY", body.c_str(), 1);
  setenv("WEBHOOK_HEADERS", boost::json::serialize(h).c_str(), 1);
  const auto dir = testing_support::make_temp_dir("webhook-verify");
  const auto log = dir + "/verify.log";
  testing_support::ChildProcess node({"node", std::string(TESTS_DIR) + "/e2e/verify_webhook.cjs"}, "", log);
  status = node.wait(30000);
  std::ifstream in(log);
  std::stringstream all;
  all << in.rdbuf();
  testing_support::remove_tree(dir);
  return all.str();
}

}  // namespace

TEST_CASE("webhooks: a signed delivery verifies with the npm standardwebhooks and svix packages") {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  const std::string body = R"({"event":"sandbox.created","timestamp":"2026-12-01T10:00:00.000Z","id":"x"})";
  const auto old_secret = events::webhooks::new_secret();
  const auto new_secret = events::webhooks::new_secret();
  for (const auto& secrets : {std::vector<std::string>{old_secret}, std::vector<std::string>{new_secret, old_secret}}) {
    auto headers = events::webhooks::signed_headers(secrets, "msg_1234_0", now, body);
    REQUIRE(headers);
    int status = -1;
    const auto out = verify_with_npm(secrets, body, *headers, status);
    INFO(out);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
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
  const char* node_path = std::getenv("NPM_NODE_PATH");
  if (node_path == nullptr || *node_path == '\0') node_path = NPM_NODE_PATH;
  REQUIRE(std::ifstream(std::string(node_path) + "/svix/package.json").good());
  setenv("NODE_PATH", node_path, 1);
  setenv("API_ORIGIN", ("http://127.0.0.1:" + std::to_string(api.port())).c_str(), 1);
  setenv("API_KEY", api.key_a.c_str(), 1);
  setenv("API_KEY_B", api.key_b.c_str(), 1);
  const auto dir = testing_support::make_temp_dir("svix");
  const auto log = dir + "/client.log";
  const auto events_before = api.event_count();
  testing_support::ChildProcess node({"node", std::string(TESTS_DIR) + "/e2e/svix_client.cjs"}, "", log);
  const int status = node.wait(60000);
  std::ifstream in(log);
  std::stringstream all;
  all << in.rdbuf();
  INFO(all.str());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(all.str(), Catch::Contains("checked: nor the endpoint"));
  CHECK_THAT(all.str(), Catch::Contains("checked: a metadata address is refused"));
  CHECK_THAT(all.str(), Catch::Contains("\nok"));
  // Made, replaced, patched, rotated, upserted and deleted, recovery asked, deleted: eight
  // events; the refusals none.
  CHECK(api.event_count() == events_before + 8);
  testing_support::remove_tree(dir);
}
