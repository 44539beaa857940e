// The CLI's pure parts: what it prints (table, JSON, YAML) and where its config comes from.
#include "command_service/cli/client.hpp"
#include "command_service/cli/config.hpp"
#include "command_service/cli/mcp.hpp"
#include "command_service/cli/output.hpp"
#include "support/catch.hpp"

#include <boost/json.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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

TEST_CASE("mcp: initialize, list, call, and the errors of a JSON-RPC peer") {
  std::vector<Tool> tools{{"echo", "says it back",
                           json::parse(R"({"type":"object","properties":{"text":{"type":"string"},"times":{"type":"integer"}},
                                          "required":["text"]})").as_object(),
                           [](const json::object& a) {
                             return ToolResult{a.at("text").as_string() == "fail", std::string(a.at("text").as_string())};
                           }}};
  auto ask = [&](const std::string& text) { return handle_message(json::parse(text), tools); };
  auto init = ask(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05"}})");
  REQUIRE(init);
  CHECK(init->at("result").at("protocolVersion") == "2024-11-05");
  CHECK(init->at("result").at("capabilities").as_object().contains("tools"));
  auto newer = ask(R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2099-01-01"}})");
  CHECK(newer->at("result").at("protocolVersion") == "2025-06-18");  // one we speak, for the client to judge
  CHECK_FALSE(ask(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  auto list = ask(R"({"jsonrpc":"2.0","id":"x","method":"tools/list"})");
  CHECK(list->at("id") == "x");
  CHECK(list->at("result").at("tools").as_array()[0].at("inputSchema").at("required").as_array()[0] == "text");
  auto ok = ask(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}})");
  CHECK(ok->at("result").at("content").as_array()[0].at("text") == "hi");
  CHECK(ok->at("result").at("isError") == false);
  auto failed = ask(R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"text":"fail"}}})");
  CHECK(failed->at("result").at("isError") == true);
  auto code = [&](const std::string& text) { return ask(text)->at("error").at("code").as_int64(); };
  CHECK(code(R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{}}})") == -32602);
  CHECK(code(R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"text":1}}})") == -32602);
  CHECK(code(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a","x":1}}})") == -32602);
  CHECK(code(R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"nope"}})") == -32602);
  CHECK(code(R"({"jsonrpc":"2.0","id":9,"method":"resources/list"})") == -32601);
  CHECK(code(R"([1,2])") == -32600);
  std::istringstream in("not json\n" R"({"jsonrpc":"2.0","id":10,"method":"ping"})" "\n");
  std::ostringstream out;
  serve(in, out, tools);
  CHECK_THAT(out.str(), Catch::Contains("-32700"));
  CHECK_THAT(out.str(), Catch::Contains(R"("id":10,"result":{})"));
}

TEST_CASE("mcp config: the command, its arguments and the variables it reads") {
  const auto snippet = json::parse(mcp_config("/opt/daytona", Config{"http://127.0.0.1:3000/api", "dtn_secret"}));
  const auto& server = snippet.at("mcpServers").at("daytona");
  CHECK(server.at("command") == "/opt/daytona");
  CHECK(server.at("args") == json::array{"mcp", "start"});
  CHECK(server.at("env").at("DAYTONA_API_URL") == "http://127.0.0.1:3000/api");
  CHECK(server.at("env").at("DAYTONA_API_KEY") == "<your API key>");  // never the saved key itself
}
