#pragma once
// The MCP server of `daytona mcp start`: JSON-RPC 2.0 over stdio, one message a line
// (initialize, tools/list, tools/call, ping). handle_message is pure over the tools it is given;
// platform_tools are Daytona's twelve, each a few calls to the platform through client.hpp. A
// tool the platform refuses answers a result with isError and the platform's message; a call
// that names no such tool or misses an argument is a JSON-RPC error (-32602).
#include "command_service/cli/client.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace command_service::cli {

struct ToolResult {
  bool error = false;
  std::string text;
};

struct Tool {
  std::string name;
  std::string description;
  boost::json::object input_schema;  // JSON Schema of the arguments
  std::function<ToolResult(const boost::json::object& arguments)> run;
};

// The answer to one message (none for a notification).
std::optional<boost::json::value> handle_message(const boost::json::value& message, const std::vector<Tool>& tools);
// Serves messages from `in` until it ends.
void serve(std::istream& in, std::ostream& out, const std::vector<Tool>& tools);

std::vector<Tool> platform_tools(Client& client);
// What an agent client's configuration needs to start this server.
std::string mcp_config(const std::string& cli_path, const Config& config);

}  // namespace command_service::cli
