#pragma once
// Node scripts of tests/e2e/ for the api_integration suites: the npm packages they use are
// installed by infra/npm-deps (NPM_NODE_PATH); code nobody here wrote checks the platform.
#include "support/catch.hpp"
#include "support/process.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

// A node script of tests/e2e/ started with NODE_PATH at the tests' npm packages (infra/npm-deps;
// each of `packages` must be there) and `env` added to the environment; its output goes to `log`.
inline testing_support::ChildProcess start_node(const std::string& script, const std::vector<std::string>& packages,
                                                const std::map<std::string, std::string>& env, const std::string& log) {
  const char* node_path = std::getenv("NPM_NODE_PATH");
  if (node_path == nullptr || *node_path == '\0') node_path = NPM_NODE_PATH;
  for (const auto& package : packages) {
    REQUIRE(std::ifstream(std::string(node_path) + "/" + package + "/package.json").good());
  }
  setenv("NODE_PATH", node_path, 1);
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  return testing_support::ChildProcess({"node", std::string(TESTS_DIR) + "/e2e/" + script}, "", log);
}

// The same, run to its end (at most 60 s): its exit status and its output.
struct NodeRun {
  int status = -1;
  std::string output;
  bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};
inline NodeRun run_node(const std::string& script, const std::vector<std::string>& packages,
                        const std::map<std::string, std::string>& env) {
  const auto dir = testing_support::make_temp_dir("node");
  const auto log = dir + "/output.log";
  NodeRun run;
  run.status = start_node(script, packages, env, log).wait(60000);
  std::stringstream all;
  all << std::ifstream(log).rdbuf();
  run.output = all.str();
  testing_support::remove_tree(dir);
  return run;
}
