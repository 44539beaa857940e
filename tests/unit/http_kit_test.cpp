// The HTTP kit's pure parts (events/http/): route patterns as both routers match them, and DTOs
// — the JSON a route writes and the schema its OpenAPI entry shows come from one type, and the
// create-sandbox schema names exactly the fields the parser reads.
#include "command_service/http/dto.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/http/sandbox_request.hpp"
#include "events/http/dto.hpp"
#include "events/http/path.hpp"
#include "events/wire/proxy.hpp"
#include "events/wire/runner_target.hpp"
#include "support/catch.hpp"

using events::http::match_path;
using events::http::path_parameters;
namespace json = boost::json;

TEST_CASE("http kit: a route pattern matches its paths and gives decoded parameters") {
  auto m = match_path("/api/sandbox/{sandboxIdOrName}/autostop/{interval}", "/api/sandbox/my%20box/autostop/15");
  REQUIRE(m);
  CHECK(m->params.at("sandboxIdOrName") == "my box");
  CHECK(m->params.at("interval") == "15");
  CHECK(m->malformed.empty());

  CHECK(match_path("/api/sandbox", "//api//sandbox/"));  // empty segments count for nothing
  CHECK_FALSE(match_path("/api/sandbox/{id}", "/api/sandbox"));
  CHECK_FALSE(match_path("/api/sandbox/{id}", "/api/sandbox/a/b"));
  CHECK_FALSE(match_path("/api/sandbox/{id}/start", "/api/sandbox/a/stop"));
  CHECK_FALSE(match_path("/files/info", "/files/infos"));

  auto bad = match_path("/process/session/{sessionId}", "/process/session/a%zzb");
  REQUIRE(bad);
  CHECK(bad->malformed == "sessionId");
  CHECK(bad->params.at("sessionId") == "a%zzb");  // the raw text, for a server that takes it

  CHECK(path_parameters("/api/sandbox/{sandboxIdOrName}/autostop/{interval}") ==
        std::vector<std::string>{"sandboxIdOrName", "interval"});
  CHECK(path_parameters("/api/sandbox").empty());
  CHECK(path_parameters("/{}/x").empty());  // "{}" names nothing: a literal segment
}

TEST_CASE("http kit: a DTO's JSON leaves out empty optionals, writes Nullable as null, drops a trailing _") {
  command_service::dto::Volume v{"id1", "data", "org", "ready", "t0", "t1", std::nullopt, std::string("disk full")};
  const auto j = events::http::to_object(v);
  CHECK(j.at("lastUsedAt").is_null());
  CHECK(j.at("errorReason").as_string() == "disk full");
  CHECK(j.size() == 8);

  command_service::dto::Sandbox s;
  s.public_ = true;
  s.labels = {{"a", "b"}};
  const auto sj = events::http::to_object(s);
  CHECK(sj.at("public").as_bool());
  CHECK_FALSE(sj.contains("public_"));
  CHECK_FALSE(sj.contains("errorReason"));
  CHECK_FALSE(sj.contains("env"));
  CHECK(sj.at("labels").as_object().at("a").as_string() == "b");
  s.volumes = std::vector<command_service::dto::SandboxVolume>{{"v", "/data", std::nullopt}};
  const auto with_volumes = events::http::to_object(s);
  CHECK(with_volumes.at("volumes").as_array().at(0).as_object().size() == 2);
}

TEST_CASE("http kit: a DTO's schema lists its fields, types and which are required") {
  const auto sch = events::http::schema<command_service::dto::Snapshot>().as_object();
  CHECK(sch.at("type").as_string() == "object");
  const auto& props = sch.at("properties").as_object();
  CHECK(props.at("size").as_object().at("type").as_string() == "number");
  CHECK(props.at("size").as_object().at("nullable").as_bool());
  CHECK(props.at("entrypoint").as_object().at("items").as_object().at("type").as_string() == "string");
  CHECK(props.at("cpu").as_object().at("type").as_string() == "integer");
  CHECK(props.at("general").as_object().at("type").as_string() == "boolean");
  const auto& required = sch.at("required").as_array();
  CHECK(std::find(required.begin(), required.end(), json::value("lastUsedAt")) != required.end());

  const auto sandbox = events::http::schema<command_service::dto::Sandbox>().as_object();
  const auto& sreq = sandbox.at("required").as_array();
  CHECK(std::find(sreq.begin(), sreq.end(), json::value("public")) != sreq.end());
  CHECK(std::find(sreq.begin(), sreq.end(), json::value("errorReason")) == sreq.end());
  CHECK(sandbox.at("properties").as_object().at("labels").as_object().at("additionalProperties").as_object().at(
            "type") == "string");
}

// The schema of POST /api/sandbox is declared beside the parser that reads the body: each field
// it names, sent with the wrong type, must be refused by the parser with the field's name, so a
// field the parser forgets (or the schema invents) fails here.
TEST_CASE("http kit: every field of the create-sandbox schema is read (and checked) by the parser") {
  const auto sch = events::http::schema<command_service::dto::CreateSandbox>().as_object();
  CHECK_FALSE(sch.contains("required"));  // every field may be left out
  const auto id = events::SandboxId::generate();
  const auto org = events::OrganizationId::generate();
  int fields = 0;
  for (const auto& [name, property] : sch.at("properties").as_object()) {
    const auto type = property.as_object().at("type").as_string();
    const json::value wrong = type == "string" ? json::value(42) : json::value("not a " + std::string(type));
    json::object body{{name, wrong}};
    auto parsed = command_service::parse_create_sandbox(json::serialize(body), id, org, {});
    INFO(std::string(name) << " sent as " << json::serialize(wrong));
    REQUIRE_FALSE(parsed);
    CHECK_THAT(parsed.error().message, Catch::Contains(std::string(name)));
    ++fields;
  }
  CHECK(fields == 22);
  // And a body with every field well typed is read.
  auto ok = command_service::parse_create_sandbox(
      R"({"name":"n","snapshot":"default","user":"u","target":"local","cpu":1,"gpu":0,"memory":1,"disk":3,
          "autoStopInterval":15,"autoArchiveInterval":0,"autoDeleteInterval":-1,"public":false,
          "networkBlockAll":false,"ephemeral":false,"env":{"A":"1"},"labels":{"l":"v"},"volumes":[],
          "buildInfo":{}})",
      id, org, {});
  REQUIRE(ok);
  CHECK(ok->env.at("A") == "1");
}

TEST_CASE("http kit: the wire structs have schemas too: ids are UUID strings, states their names") {
  const auto placement = events::http::schema<events::wire::SandboxPlacement>().as_object();
  const auto& props = placement.at("properties").as_object();
  CHECK(props.at("id").as_object().at("format").as_string() == "uuid");
  const auto& states = props.at("state").as_object().at("enum").as_array();
  CHECK(std::find(states.begin(), states.end(), json::value("started")) != states.end());
  CHECK(std::find(states.begin(), states.end(), json::value("destroyed")) != states.end());
  CHECK(props.at("runner_id").as_object().at("nullable").as_bool());  // Boost.JSON writes null
  // What the API writes for a placement fits it: the empty runner_id is null and allowed.
  events::wire::SandboxPlacement p{events::SandboxId::generate(), events::OrganizationId::generate(),
                                   events::SandboxState::started, false, std::nullopt, ""};
  const auto written = boost::json::value_from(p).as_object();
  CHECK(written.at("runner_id").is_null());
  for (const auto& name : placement.at("required").as_array()) CHECK(written.contains(name.as_string()));

  const auto target = events::http::schema<events::wire::RunnerTarget>().as_object();
  CHECK(target.at("properties").as_object().at("resources").as_object().at("properties").as_object().contains(
      "memory_gib"));
  CHECK(target.at("properties").as_object().at("volumes").as_object().at("type").as_string() == "array");
}

TEST_CASE("http kit: every error code has a category, and the category decides the API's status") {
  using events::ErrorCode;
  using http = boost::beast::http::status;
  struct Row {
    ErrorCode code;
    events::ErrorCategory category;
    http status;
  };
  const Row rows[] = {
      {ErrorCode::invalid_argument, events::ErrorCategory::request, http::bad_request},
      {ErrorCode::not_found, events::ErrorCategory::domain, http::not_found},
      {ErrorCode::already_exists, events::ErrorCategory::domain, http::conflict},
      {ErrorCode::invalid_transition, events::ErrorCategory::domain, http::conflict},
      {ErrorCode::wrong_runner, events::ErrorCategory::domain, http::conflict},
      {ErrorCode::duplicate_report, events::ErrorCategory::domain, http::conflict},
      {ErrorCode::late_report, events::ErrorCategory::domain, http::conflict},
      {ErrorCode::version_conflict, events::ErrorCategory::store, http::conflict},
      {ErrorCode::idempotency_conflict, events::ErrorCategory::store, http::conflict},
      {ErrorCode::decode_failed, events::ErrorCategory::internal, http::internal_server_error},
      {ErrorCode::unavailable, events::ErrorCategory::dependency, http::service_unavailable},
  };
  // Every code is in the table: a new one fails here until it is given a row.
  CHECK(std::size(rows) == static_cast<std::size_t>(ErrorCode::unavailable) + 1);
  for (const auto& row : rows) {
    CAPTURE(events::to_string(row.code));
    CHECK(events::to_string(row.code) != "unknown");
    CHECK(events::category_of(row.code) == row.category);
    CHECK(command_service::status_for(row.code) == row.status);
  }
  const auto down = command_service::error_for(events::make_error(ErrorCode::unavailable, "PostgreSQL did not answer"));
  CHECK(down.result() == http::service_unavailable);
  CHECK(down.count(boost::beast::http::field::retry_after) == 1);
}
