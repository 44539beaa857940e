// The CLI's pure parts: what it prints (table, JSON, YAML) and where its config comes from.
#include "command_service/cli/client.hpp"
#include "command_service/cli/config.hpp"
#include "command_service/cli/output.hpp"
#include "support/catch.hpp"

#include <boost/json.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace command_service::cli;
namespace json = boost::json;

TEST_CASE("cli output: a table with the named columns, JSON as it came, YAML that reads back the same") {
  const auto list = json::parse(R"([{"id":"a1","state":"started","cpu":2,"labels":{"team":"x"}},
                                    {"id":"b2","state":"stopped","cpu":1,"labels":{}}])");
  const std::vector<Column> columns{{"ID", "id"}, {"STATE", "state"}, {"CPU", "cpu"}, {"TEAM", "labels.team"}};
  CHECK(render(list, columns, Format::table) ==
        "ID  STATE    CPU  TEAM\n"
        "a1  started  2    x\n"
        "b2  stopped  1    \n");
  CHECK(json::parse(render(list, columns, Format::json)) == list);
  const auto yaml = render(list, columns, Format::yaml);
  CHECK_THAT(yaml, Catch::Contains("- id: \"a1\""));
  CHECK_THAT(yaml, Catch::Contains("cpu: 2"));
  // One object: field, value rows.
  CHECK(render(list.as_array()[0], {{"ID", "id"}, {"MISSING", "nope"}}, Format::table) == "ID       a1\nMISSING  \n");
  // Strings YAML would read as something else stay strings.
  CHECK_THAT(to_yaml(json::parse(R"({"v":"true","n":"12","e":""})")), Catch::Contains("v: \"true\""));
  CHECK(cell(json::parse(R"({"a":{"b":null}})"), "a.b").empty());
}

TEST_CASE("cli exit codes follow the platform's answer") {
  CHECK(exit_for_status(200) == Exit::ok);
  CHECK(exit_for_status(201) == Exit::ok);
  CHECK(exit_for_status(400) == Exit::failed);
  CHECK(exit_for_status(409) == Exit::failed);
  CHECK(exit_for_status(404) == Exit::not_found);
  CHECK(exit_for_status(401) == Exit::unauthorized);
  CHECK(exit_for_status(403) == Exit::unauthorized);
  CHECK(exit_for_status(429) == Exit::unavailable);
  CHECK(exit_for_status(503) == Exit::unavailable);
}

TEST_CASE("cli config: saved with mode 0600 in the config dir; DAYTONA_* override it; logout removes it") {
  const auto home = std::filesystem::temp_directory_path() / ("cli-config-" + std::to_string(::getpid()));
  std::filesystem::remove_all(home);
  std::map<std::string, std::string> env{{"HOME", home.string()}};
  const auto path = config_path(env);
  CHECK(path == home.string() + "/.config/daytona/config.json");
  CHECK(config_path({{"HOME", "/h"}, {"XDG_CONFIG_HOME", "/x"}}) == "/x/daytona/config.json");
  CHECK(load_config(env).api_key.empty());
  REQUIRE(save_config(path, Config{"http://127.0.0.1:3000/api", "dtn_saved"}));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(load_config(env).api_key == "dtn_saved");
  env["DAYTONA_API_KEY"] = "dtn_env";
  env["DAYTONA_API_URL"] = "http://127.0.0.1:9/api";
  const auto overridden = load_config(env);
  CHECK(overridden.api_key == "dtn_env");
  CHECK(overridden.api_url == "http://127.0.0.1:9/api");
  REQUIRE(remove_config(path));
  env.erase("DAYTONA_API_KEY");
  CHECK(load_config(env).api_key.empty());
  {
    std::ofstream(path) << "not json";
  }
  CHECK(load_config(env).api_key.empty());  // a broken file is as none
  std::filesystem::remove_all(home);
}
