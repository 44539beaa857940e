// POST /process/execute and /process/code-run (compat spec §3.1).
#include "daemon/toolbox.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace daemon_tb {

namespace {

namespace fs = std::filesystem;

struct Parsed {
  json::object body;
  std::vector<std::string> env;
  std::optional<std::chrono::milliseconds> timeout;
  std::string cwd;
};

// The fields execute and code-run share; the error reply when one is wrong.
std::variant<Parsed, Reply> parse(const Call& call, const Toolbox& tb) {
  auto bad = [&](const std::string& m) { return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", m); };
  auto body = body_object(call);
  if (!body) return bad("the body must be a JSON object");
  Parsed p;
  p.body = std::move(*body);
  if (auto e = read_envs(p.body, p.env)) return bad(*e);
  if (const auto* t = p.body.if_contains("timeout"); t != nullptr && !t->is_null()) {
    if (!t->is_number() || t->to_number<double>() < 0) return bad("timeout must be a number of seconds >= 0");
    const auto seconds = t->to_number<double>();
    if (seconds > 0) p.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
  }
  p.cwd = tb.work_dir;
  if (const auto* c = p.body.if_contains("cwd"); c != nullptr && !c->is_null()) {
    if (!c->is_string()) return bad("cwd must be a string");
    p.cwd = tb.resolve(std::string(c->as_string()));
    std::error_code fe;
    if (!fs::is_directory(p.cwd, fe)) {
      return error_reply(call, http::status::bad_request, "INVALID_FILE_PATH", "cwd " + p.cwd + " is not a directory");
    }
  }
  return p;
}

Reply timed_out(const Call& call, std::chrono::milliseconds limit) {
  return error_reply(call, http::status::request_timeout, "REQUEST_TIMEOUT",
                     "the command did not finish within " + std::to_string(limit.count() / 1000.0).substr(0, 5) +
                         " s; its process group was killed");
}

asio::awaitable<Reply> execute(Call& call, Toolbox& tb) {
  auto parsed = parse(call, tb);
  if (auto* r = std::get_if<Reply>(&parsed)) co_return *r;
  auto& p = std::get<Parsed>(parsed);
  const auto* command = p.body.if_contains("command");
  if (command == nullptr || !command->is_string()) {
    co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "command must be a string");
  }
  // Named, not temporaries: g++ 12 destroys by-value temporaries in a co_await twice.
  SpawnSpec spec{{shell()}, p.env, p.cwd, true};
  std::string input = std::string(command->as_string()) + "\n";
  const auto result = co_await run_to_end(tb.children, spec, input, p.timeout);
  if (result.timed_out) co_return timed_out(call, *p.timeout);
  if (!result.start_error.empty()) co_return json_reply(http::status::ok, {{"exitCode", -1}, {"result", result.start_error}});
  json::object reply{{"exitCode", result.exit_code}, {"result", result.output}};
  if (result.truncated) reply["truncated"] = true;  // the result says how much was left out
  co_return json_reply(http::status::ok, reply);
}

constexpr std::string_view kArtifact = "dtn_artifact_k39fd2:";

// Lines the code printed as chart artifacts leave the output and become artifacts.charts.
json::object with_artifacts(const RunResult& r) {
  std::string result;
  json::array charts;
  std::string_view out = r.output;
  while (!out.empty()) {
    const auto nl = out.find('\n');
    const auto line = out.substr(0, nl == std::string_view::npos ? out.size() : nl + 1);
    out.remove_prefix(line.size());
    if (line.substr(0, kArtifact.size()) == kArtifact) {
      boost::system::error_code ec;
      auto artifact = json::parse(line.substr(kArtifact.size()), ec);
      if (!ec && artifact.is_object() && artifact.as_object().if_contains("type") &&
          artifact.as_object().at("type") == "chart") {
        charts.push_back(artifact.as_object().contains("value") ? artifact.as_object().at("value") : json::value());
        continue;
      }
    }
    result += line;
  }
  json::object reply{{"exitCode", r.exit_code}, {"result", result}, {"artifacts", {{"charts", charts}}}};
  if (r.truncated) reply["truncated"] = true;
  return reply;
}

asio::awaitable<Reply> code_run(Call& call, Toolbox& tb) {
  auto parsed = parse(call, tb);
  if (auto* r = std::get_if<Reply>(&parsed)) co_return *r;
  auto& p = std::get<Parsed>(parsed);
  auto bad = [&](const std::string& m) { return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", m); };
  const auto* code = p.body.if_contains("code");
  if (code == nullptr || !code->is_string()) co_return bad("code must be a string");
  std::string language = "python";
  if (const auto* l = p.body.if_contains("language"); l != nullptr && !l->is_null()) {
    if (!l->is_string()) co_return bad("language must be a string");
    language = std::string(l->as_string());
  }
  std::vector<std::string> argv;
  if (const auto* a = p.body.if_contains("argv"); a != nullptr && !a->is_null()) {
    if (!a->is_array()) co_return bad("argv must be an array of strings");
    for (const auto& x : a->as_array()) {
      if (!x.is_string()) co_return bad("argv must be an array of strings");
      argv.emplace_back(x.as_string());
    }
  }
  std::vector<std::string> command;
  std::string input(code->as_string());
  std::string script;  // typescript: a file the runner reads
  if (language == "python") {
    command = {"python3", "-u", "-"};
  } else if (language == "javascript") {
    command = {"node", "-"};
  } else if (language == "typescript") {
    const std::string runner = on_path("tsx") ? "tsx" : on_path("ts-node") ? "ts-node" : "";
    if (runner.empty()) {
      co_return bad("typescript needs tsx or ts-node in the sandbox, and this snapshot has neither "
                    "(install one, or run the code as javascript)");
    }
    char name[] = "/tmp/.daemon-code-XXXXXX.ts";
    const int fd = mkstemps(name, 3);
    if (fd < 0) co_return error_reply(call, http::status::internal_server_error, "FILE_WRITE_FAILED", "cannot write the code to /tmp");
    (void)!write(fd, input.data(), input.size());
    close(fd);
    script = name;
    command = runner == "tsx" ? std::vector<std::string>{"tsx", script} : std::vector<std::string>{"ts-node", "-T", script};
    input.clear();
  } else {
    co_return bad("language '" + language + "' is not one of python, javascript, typescript");
  }
  command.insert(command.end(), argv.begin(), argv.end());
  SpawnSpec spec{command, p.env, p.cwd, true};
  const auto result = co_await run_to_end(tb.children, spec, input, p.timeout);
  if (!script.empty()) unlink(script.c_str());
  if (result.timed_out) co_return timed_out(call, *p.timeout);
  if (!result.start_error.empty()) {
    co_return json_reply(http::status::ok, {{"exitCode", -1}, {"result", result.start_error}, {"artifacts", {{"charts", json::array()}}}});
  }
  co_return json_reply(http::status::ok, with_artifacts(result));
}

}  // namespace

void register_process_routes(Server& server, Toolbox& tb) {
  server.add({http::verb::post, "/process/execute", BodyKind::text, [&tb](Call& c) { return execute(c, tb); }});
  server.add({http::verb::post, "/process/code-run", BodyKind::text, [&tb](Call& c) { return code_run(c, tb); }});
}

void register_info_routes(Server& server, Toolbox& tb) {
  server.add({http::verb::get, "/user-home-dir", BodyKind::none,
              [&tb](Call&) -> asio::awaitable<Reply> { co_return json_reply(http::status::ok, {{"dir", tb.home_dir}}); }});
  server.add({http::verb::get, "/work-dir", BodyKind::none,
              [&tb](Call&) -> asio::awaitable<Reply> { co_return json_reply(http::status::ok, {{"dir", tb.work_dir}}); }});
  // updateEnv: variables every process started afterwards gets (set, then unset).
  server.add({http::verb::post, "/env", BodyKind::text, [](Call& call) -> asio::awaitable<Reply> {
                const auto v = body_object(call);
                if (!v) co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "the body must be a JSON object");
                json::object as_envs;
                if (const auto* set = v->if_contains("set"); set != nullptr && !set->is_null()) as_envs["envs"] = *set;
                std::vector<std::string> vars;
                if (auto e = read_envs(as_envs, vars)) co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", *e);
                std::vector<std::string> unset;
                if (const auto* u = v->if_contains("unset"); u != nullptr && !u->is_null()) {
                  if (!u->is_array()) co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "unset must be an array of names");
                  for (const auto& name : u->as_array()) {
                    if (!name.is_string()) co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "unset must be an array of names");
                    unset.emplace_back(name.as_string());
                  }
                }
                for (const auto& kv : vars) {
                  const auto eq = kv.find('=');
                  setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
                }
                for (const auto& name : unset) unsetenv(name.c_str());
                co_return empty_reply(http::status::ok);
              }});
  server.add({http::verb::get, "/version", BodyKind::none,
              [](Call&) -> asio::awaitable<Reply> { co_return json_reply(http::status::ok, {{"version", "0.1.0"}}); }});
}

}  // namespace daemon_tb
