// The API-key cache (command-service/include/command_service/http/key_cache.hpp): a key is looked
// up once and then served from memory, and a revocation reaches every instance through the
// log's tail: a key cached by a second instance is refused there within a second of its revocation
// on the first, and at once on the first.
#include "api_fixture.hpp"

#include <chrono>
#include <thread>

TEST_CASE("key cache: a revoked key is refused on every instance within a second") {
  Api api;
  auto second = test_app(api.conn, api.nats_server.url(), RateLimitSettings{0, 0, 0, 0, 0});
  const std::map<std::string, std::string> admin{{"Authorization", "Bearer " + api.admin_key}};
  auto box = api.call("POST", "/api/sandbox", R"({"name":"kc-box"})");
  REQUIRE(box.status == 200);
  const auto org = str(parse(box), "organizationId");
  auto made = http_call(api.port(), "POST", "/api/admin/organizations/" + org + "/api-keys", R"({"name":"cached"})", admin);
  REQUIRE(made.status == 201);
  const auto key = str(parse(made), "apiKey");
  const std::map<std::string, std::string> with_key{{"Authorization", "Bearer " + key}};
  // Both instances have looked the key up (and keep it).
  for (auto port : {api.port(), second->port()}) {
    for (int i = 0; i < 3; ++i) REQUIRE(http_call(port, "GET", "/api/sandbox?limit=1", "", with_key).status == 200);
  }
  REQUIRE(http_call(api.port(), "DELETE", "/api/admin/organizations/" + org + "/api-keys/" + str(parse(made), "keyId"), "",
                    admin).status == 200);
  const auto revoked = std::chrono::steady_clock::now();
  // The instance that revoked it: at once.
  CHECK(http_call(api.port(), "GET", "/api/sandbox?limit=1", "", with_key).status == 401);
  // The other: within a second.
  int status = 200;
  while (status != 401 && std::chrono::steady_clock::now() - revoked < std::chrono::seconds(3)) {
    status = http_call(second->port(), "GET", "/api/sandbox?limit=1", "", with_key).status;
    if (status != 401) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - revoked);
  INFO("refused on the second instance after " << took.count() << " ms");
  CHECK(status == 401);
  CHECK(took < std::chrono::seconds(1));
  // And it stays refused (a read model behind the log cannot bring it back).
  for (int i = 0; i < 5; ++i) CHECK(http_call(second->port(), "GET", "/api/sandbox?limit=1", "", with_key).status == 401);
  // Another key of the organization still works on both.
  const std::map<std::string, std::string> other_key{{"Authorization", "Bearer " + api.key_a}};
  for (auto port : {api.port(), second->port()}) CHECK(http_call(port, "GET", "/api/sandbox?limit=1", "", other_key).status == 200);
  second.reset();
}
