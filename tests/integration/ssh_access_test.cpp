// SSH access through the API (the routes the SDK's createSshAccess, revokeSshAccess and
// validateSshAccess call) and the admin route the SSH gateway asks: tokens stored hashed, a new
// one revokes the old, revoke one or all, expiry by the scheduler as an event, another
// organization's key learns nothing.
#include "api_fixture.hpp"
#include "projector/queries/ssh_access.hpp"

#include <regex>

namespace {

json::object gateway_answer(Api& api, const std::string& token, int& status) {
  const auto reply = http_call(api.port(), "POST", "/api/proxy/ssh-access",
                               json::serialize(json::object{{"token", token}, {"source", "198.51.100.7"}}),
                               {{"Authorization", "Bearer " + api.admin_key}});
  status = reply.status;
  return status == 200 ? parse(reply) : json::object{};
}

bool valid_for(Api& api, const std::string& token, const std::string& key = "") {
  const auto reply = api.call("GET", "/api/sandbox/ssh-access/validate?token=" + token, "", key);
  REQUIRE(reply.status == 200);
  return parse(reply).at("valid").as_bool();
}

}  // namespace

TEST_CASE("ssh access: grant, replace, revoke, expire; hashed; the gateway's answer; other organizations see nothing") {
  Api api;
  auto made = api.call("POST", "/api/sandbox", R"({"name":"shell-box"})");
  REQUIRE(made.status == 200);
  const auto box = str(parse(made), "id");

  auto granted = api.call("POST", "/api/sandbox/shell-box/ssh-access?expiresInMinutes=5");
  INFO(granted.body);
  REQUIRE(granted.status == 200);
  const auto first = parse(granted);
  const auto token = str(first, "token");
  CHECK(std::regex_match(token, std::regex("[A-Za-z0-9]{32}")));
  CHECK(str(first, "sandboxId") == box);
  CHECK(str(first, "sshCommand") == "ssh -p 2222 " + token + "@127.0.0.1");
  CHECK(str(first, "expiresAt") > str(first, "createdAt"));

  // Stored hashed: the token is nowhere in the log, and the audit shows no hash either.
  {
    pqxx::connection c(api.conn);
    pqxx::nontransaction tx(c);
    CHECK(tx.exec_params("select count(*) from events where data::text like '%' || $1 || '%'", token)[0][0].as<int>() == 0);
    CHECK(tx.exec("select count(*) from events where type = 'SshAccessGranted'")[0][0].as<int>() == 1);
  }
  const auto audit = api.call("GET", "/api/audit?limit=50", "", api.admin_key);
  CHECK(audit.body.find("token_hash") == std::string::npos);

  CHECK(valid_for(api, token));
  CHECK_FALSE(valid_for(api, token, api.key_b));  // another organization's key: as if it were made up
  CHECK_FALSE(valid_for(api, "not-a-token"));
  int status = 0;
  auto answer = gateway_answer(api, token, status);
  REQUIRE(status == 200);
  CHECK(str(answer.at("sandbox").as_object(), "id") == box);
  CHECK(answer.at("expires_at_ms").as_int64() > 0);
  // Only the admin key asks the gateway's question.
  CHECK(http_call(api.port(), "POST", "/api/proxy/ssh-access", R"({"token":")" + token + R"(","source":"x"})",
                  {{"Authorization", "Bearer " + api.key_a}})
            .status == 401);

  // Bad input names the problem and appends nothing.
  const auto before = api.event_count("sshaccess");
  auto bad = api.call("POST", "/api/sandbox/shell-box/ssh-access?expiresInMinutes=soon");
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::Contains("expiresInMinutes"));
  CHECK(api.call("POST", "/api/sandbox/shell-box/ssh-access?expiresInMinutes=0").status == 400);
  CHECK(api.call("POST", "/api/sandbox/shell-box/ssh-access", "", api.key_b).status == 404);  // not B's sandbox
  CHECK(api.call("DELETE", "/api/sandbox/shell-box/ssh-access", "", api.key_b).status == 404);
  CHECK(api.event_count("sshaccess") == before);

  // A second grant revokes the first.
  auto second = api.call("POST", "/api/sandbox/" + box + "/ssh-access");
  REQUIRE(second.status == 200);
  const auto token2 = str(parse(second), "token");
  CHECK_FALSE(valid_for(api, token));
  CHECK(valid_for(api, token2));
  gateway_answer(api, token, status);
  CHECK(status == 404);

  // Revoke by token: the sandbox comes back; an unknown token is 404.
  auto revoked = api.call("DELETE", "/api/sandbox/" + box + "/ssh-access?token=" + token2);
  REQUIRE(revoked.status == 200);
  CHECK(str(parse(revoked), "id") == box);
  CHECK_FALSE(valid_for(api, token2));
  CHECK(api.call("DELETE", "/api/sandbox/" + box + "/ssh-access?token=" + token2).status == 404);

  // Expiry: the scheduler's pass after the token's time expires it, an event.
  auto third = api.call("POST", "/api/sandbox/" + box + "/ssh-access?expiresInMinutes=1");
  REQUIRE(third.status == 200);
  const auto token3 = str(parse(third), "token");
  const auto later = std::chrono::system_clock::now() + std::chrono::minutes(2);
  gateway_answer(api, token3, status);
  CHECK(status == 200);
  // Past its time the token opens nothing, even before the scheduler has expired it.
  api.services.clock = [later] { return later; };
  gateway_answer(api, token3, status);
  CHECK(status == 404);
  CHECK_FALSE(valid_for(api, token3));
  api.services.clock = [] { return std::chrono::system_clock::now(); };
  CHECK(api.db.run_blocking([&](DbContext& db) { return expire_ssh_access(db, std::chrono::system_clock::now()); }) == 0);
  CHECK(api.db.run_blocking([&](DbContext& db) { return expire_ssh_access(db, later); }) == 1);
  CHECK(api.db.run_blocking([&](DbContext& db) { return expire_ssh_access(db, later); }) == 0);
  {
    pqxx::connection c(api.conn);
    pqxx::nontransaction tx(c);
    CHECK(tx.exec("select count(*) from events where type = 'SshAccessExpired'")[0][0].as<int>() == 1);
  }
  REQUIRE(testing_support::eventually([&] { return !valid_for(api, token3); }, std::chrono::seconds(5)));

  // Revoke all: nothing active is left to revoke, and that is no error.
  auto fourth = api.call("POST", "/api/sandbox/" + box + "/ssh-access");
  REQUIRE(fourth.status == 200);
  CHECK(api.call("DELETE", "/api/sandbox/" + box + "/ssh-access").status == 200);
  CHECK_FALSE(valid_for(api, str(parse(fourth), "token")));
  CHECK(api.call("DELETE", "/api/sandbox/" + box + "/ssh-access").status == 200);
}
