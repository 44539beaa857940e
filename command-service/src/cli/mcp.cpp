#include "command_service/cli/mcp.hpp"

#include <boost/json.hpp>

namespace command_service::cli {

namespace json = boost::json;

namespace {

constexpr const char* kVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

json::object error(const json::value& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json::object result(const json::value& id, json::value r) { return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(r)}}; }

json::value tool_list(const std::vector<Tool>& tools) {
  json::array out;
  for (const auto& t : tools) {
    out.push_back({{"name", t.name}, {"description", t.description}, {"inputSchema", t.input_schema}});
  }
  return json::object{{"tools", out}};
}

// The arguments a tool's schema requires, present and of their type; a message when not.
std::optional<std::string> missing(const Tool& tool, const json::object& args) {
  const auto* required = tool.input_schema.if_contains("required");
  const auto& properties = tool.input_schema.at("properties").as_object();
  if (required != nullptr) {
    for (const auto& name : required->as_array()) {
      if (!args.contains(name.as_string())) return std::string(name.as_string()) + " is required";
    }
  }
  for (const auto& [name, value] : args) {
    const auto* p = properties.if_contains(name);
    if (p == nullptr) return "no argument " + std::string(name) + " (" + tool.name + " takes its schema's properties)";
    const auto type = p->as_object().at("type").as_string();
    const bool ok = (type == "string" && value.is_string()) || (type == "integer" && value.is_int64()) ||
                    (type == "boolean" && value.is_bool()) || (type == "object" && value.is_object());
    if (!ok) return std::string(name) + " must be a " + std::string(type);
  }
  return std::nullopt;
}

}  // namespace

std::optional<json::value> handle_message(const json::value& message, const std::vector<Tool>& tools) {
  if (!message.is_object()) return error(nullptr, -32600, "a message must be a JSON object");
  const auto& m = message.as_object();
  const auto* method = m.if_contains("method");
  const json::value id = m.contains("id") ? m.at("id") : json::value(nullptr);
  if (method == nullptr || !method->is_string()) {
    if (!m.contains("id")) return std::nullopt;  // a response to us: we send no requests
    return error(id, -32600, "a request needs a method");
  }
  if (!m.contains("id")) return std::nullopt;  // notifications (initialized, cancelled) need no answer
  const auto params = m.contains("params") && m.at("params").is_object() ? m.at("params").as_object() : json::object{};
  if (*method == "initialize") {
    std::string version = "2025-06-18";
    if (const auto* asked = params.if_contains("protocolVersion"); asked != nullptr && asked->is_string()) {
      for (const auto* v : kVersions) {
        if (asked->as_string() == v) version = v;
      }
    }
    return result(id, json::object{{"protocolVersion", version},
                                   {"capabilities", {{"tools", json::object{}}}},
                                   {"serverInfo", {{"name", "daytona"}, {"version", "0.15.0"}}}});
  }
  if (*method == "ping") return result(id, json::object{});
  if (*method == "tools/list") return result(id, tool_list(tools));
  if (*method == "tools/call") {
    const auto* name = params.if_contains("name");
    if (name == nullptr || !name->is_string()) return error(id, -32602, "tools/call needs the tool's name");
    const auto args = params.contains("arguments") && params.at("arguments").is_object() ? params.at("arguments").as_object()
                                                                                        : json::object{};
    for (const auto& t : tools) {
      if (t.name != name->as_string()) continue;
      if (auto problem = missing(t, args)) return error(id, -32602, t.name + ": " + *problem);
      const auto r = t.run(args);
      return result(id, json::object{{"content", json::array{{{"type", "text"}, {"text", r.text}}}}, {"isError", r.error}});
    }
    return error(id, -32602, "no tool " + std::string(name->as_string()));
  }
  return error(id, -32601, "no method " + std::string(method->as_string()));
}

void serve(std::istream& in, std::ostream& out, const std::vector<Tool>& tools) {
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    const auto message = json::parse(line, ec);
    std::optional<json::value> answer =
        ec ? std::optional<json::value>(error(nullptr, -32700, "not JSON: " + ec.message())) : handle_message(message, tools);
    if (answer) out << json::serialize(*answer) << "\n" << std::flush;
  }
}

std::string mcp_config(const std::string& cli_path, const Config& config) {
  json::object env;
  if (!config.api_url.empty()) env["DAYTONA_API_URL"] = config.api_url;
  env["DAYTONA_API_KEY"] = "<your API key>";
  const json::object snippet{
      {"mcpServers", {{"daytona", {{"command", cli_path}, {"args", json::array{"mcp", "start"}}, {"env", env}}}}}};
  return json::serialize(snippet) + "\n";
}

}  // namespace command_service::cli
