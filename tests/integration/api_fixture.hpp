#pragma once
// The API under test: the command service in-process on a free port, with real PostgreSQL,
// NATS, projector, event feed and runner-report listener; two organizations with a key each.
#include "command_service/http/api.hpp"
#include "command_service/app.hpp"
#include "command_service/pg/event_feed.hpp"
#include "command_service/http/http_server.hpp"
#include "command_service/http/metrics.hpp"
#include "command_service/app/runner_reports.hpp"
#include "command_service/app/scheduler.hpp"
#include "events/api_keys.hpp"
#include "events/bus/hints.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/tokens.hpp"
#include "events/deciders/organization.hpp"
#include "events/deciders/runner.hpp"
#include "projector/projector.hpp"
#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/servers.hpp"

#include <pqxx/pqxx>

#include <atomic>
#include <set>
#include <thread>

using namespace events;
using namespace command_service;
using testing_support::http_call;
using testing_support::HttpReply;

namespace api_fixture {

namespace json = boost::json;

// The admin key of every API (and runner) a test process starts: the forwarding key and the
// preview keys derive from it, as in main.
inline const std::string kTestAdminKey = "admin-" + new_uuid();

// An organization with one API key, written through the organization decider.
inline std::string create_org(PgEventStore& store, const OrganizationId& org, const std::string& name) {
  const auto key = generate_api_key();
  auto r = execute<OrganizationEvent, organization::State>(
      store, StreamName::of("organization", org), Metadata{new_uuid(), new_uuid(), "", "admin", org.str(), ""},
      [&](const organization::State& s) -> Result<organization::Events> {
        auto a = organization::decide(organization::Create{org, name}, s);
        if (!a) return a;
        auto b = organization::decide(
            organization::CreateApiKey{ApiKeyId::generate(), "test", sha256_hex(key), api_key_prefix(key)},
            organization::evolve(s, a->front()));
        if (!b) return b;
        a->insert(a->end(), b->begin(), b->end());
        return a;
      },
      [](organization::State s, const OrganizationEvent& e) { return organization::evolve(std::move(s), e); });
  REQUIRE(r);
  return key;
}

// The command-service as main builds it (App::build), with the settings a test wants: its own
// database and NATS, any free port, no scheduler loop (tests run its passes themselves).
inline std::unique_ptr<App> test_app(const std::string& conn, const std::string& nats_url, RateLimitSettings limits,
                                     std::chrono::seconds idle_timeout = std::chrono::seconds(60)) {
  Settings s;
  s.idle_timeout = idle_timeout;
  s.database_url = conn;
  s.nats_url = nats_url;
  s.port = 0;
  s.threads = 4;  // several, as in main: PostgreSQL work runs inline on them
  s.admin_api_key = kTestAdminKey;
  s.limits = limits;
  s.body_limit = 64 * 1024;
  s.webhook_allow_ranges = "loopback";  // as infra/up: the tests' receivers are on this machine
  s.run_scheduler = false;
  auto app = App::build(s);
  INFO((app ? std::string() : app.error().message));
  REQUIRE(app);
  (*app)->start();
  return std::move(*app);
}

struct Api {
  std::string conn = testing_support::shared_postgres().create_database();
  testing_support::NatsServer nats_server;
  std::unique_ptr<bus::NatsClient> nats = bus::NatsClient::connect(nats_server.url(), "api-test").value();
  PgEventStore store{conn};
  std::vector<std::unique_ptr<projector::ReadModel>> models = projector::all_models();
  std::unique_ptr<projector::Projector> projection;
  std::jthread projecting;
  const std::string admin_key = kTestAdminKey;
  std::unique_ptr<App> app;
  Db& db;
  Router& router;
  Services& services;
  std::string key_a;
  std::string key_b;

  explicit Api(RateLimitSettings limits = RateLimitSettings{0, 0, 0, 0, 0},
               std::chrono::seconds idle_timeout = std::chrono::seconds(60))
      : app(test_app(conn, nats_server.url(), limits, idle_timeout)), db(app->db()), router(app->router()), services(app->services()) {
    REQUIRE(projector::ensure_schema(conn, "read", models));
    projector::Settings ps;
    ps.idle_poll = std::chrono::milliseconds(2);
    projection = std::make_unique<projector::Projector>(projector::borrow(models), conn, ps);
    projecting = std::jthread([this](std::stop_token stop) { projection->run(stop); });
    key_a = create_org(store, OrganizationId::generate(), "a");
    key_b = create_org(store, OrganizationId::generate(), "b");
    // The keys are usable once the projection has them (asked of the database, not the API,
    // so that no failed authentication is counted against the rate limits).
    pqxx::connection c(conn);
    for (int i = 0; i < 1000; ++i) {
      pqxx::nontransaction tx(c);
      if (tx.exec("select count(*) from read.api_keys")[0][0].as<int>() == 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~Api() {
    app.reset();  // stops serving, joins its threads
    projecting.request_stop();
  }
  unsigned short port() const { return app->port(); }

  HttpReply call(const std::string& method, const std::string& target, const std::string& body = {},
                 const std::string& key = "", std::map<std::string, std::string> headers = {}) {
    headers["Authorization"] = "Bearer " + (key.empty() ? key_a : key);
    return http_call(port(), method, target, body, headers);
  }
  // Waits until the projection has applied the whole log: for tests that then read the read
  // model, or run a pass that does (a GET no longer waits for it: it answers from the stream).
  void wait_projected() {
    pqxx::connection c(conn);
    for (int i = 0; i < 2000; ++i) {
      pqxx::nontransaction tx(c);
      if (tx.exec("select (select coalesce(max(position), 0) from events) <= "
                  "(select coalesce(min(position), 0) from read.projection_checkpoints)")[0][0].as<bool>()) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL("the projection did not reach the head of the log in 10 s");
  }
  std::int64_t event_count() {
    pqxx::connection c(conn);
    pqxx::nontransaction tx(c);
    return tx.exec("select count(*) from events")[0][0].as<std::int64_t>();
  }
  // Events of one category (runner heartbeats, also events, do not move it).
  std::int64_t event_count(const std::string& category) {
    pqxx::connection c(conn);
    pqxx::nontransaction tx(c);
    return tx.exec_params("select count(*) from events where stream like $1", category + "-%")[0][0].as<std::int64_t>();
  }
};

inline json::object parse(const HttpReply& r) {
  INFO(r.body);
  auto v = json::parse(r.body);
  REQUIRE(v.is_object());
  return v.as_object();
}

inline std::string str(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace api_fixture

using namespace api_fixture;

