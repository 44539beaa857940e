// The `daytona` command tree (CLI11): each command one call (or a few) to the platform through
// client.hpp, its answer printed by output.hpp, its outcome the process's exit code.
#include "command_service/cli/commands.hpp"

#include "command_service/cli/client.hpp"
#include "command_service/cli/mcp.hpp"
#include "command_service/cli/output.hpp"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

namespace command_service::cli {

namespace json = boost::json;

namespace {

constexpr const char* kVersion = "0.15.0";

const std::vector<Column> kSandboxColumns = {{"ID", "id"},          {"NAME", "name"},     {"STATE", "state"},
                                             {"SNAPSHOT", "snapshot"}, {"CPU", "cpu"},   {"MEMORY", "memory"},
                                             {"DISK", "disk"},      {"CREATED", "createdAt"}};
const std::vector<Column> kSnapshotColumns = {{"ID", "id"}, {"NAME", "name"}, {"STATE", "state"}, {"IMAGE", "imageName"},
                                              {"CREATED", "createdAt"}};
const std::vector<Column> kVolumeColumns = {{"ID", "id"}, {"NAME", "name"}, {"STATE", "state"}, {"CREATED", "createdAt"}};

struct Context {
  std::map<std::string, std::string> env;
  std::string format_name = "table";
  int exit = 0;

  Format format() const {
    return format_name == "json" ? Format::json : format_name == "yaml" ? Format::yaml : Format::table;
  }

  Client client() const { return Client(load_config(env)); }
  // Prints a failure and keeps its exit code; true when `r` is ok.
  bool check(const Reply& r) {
    if (r.ok()) return true;
    std::cerr << "daytona: " << r.message << "\n";
    exit = static_cast<int>(r.exit);
    return false;
  }
  void print(const json::value& v, const std::vector<Column>& columns) const { std::cout << render(v, columns, format()); }
};

// A spinner on stderr while something waits, only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(std::string what) : what_(std::move(what)), on_(isatty(STDERR_FILENO) == 1) {}
  void tick() {
    if (!on_) return;
    static constexpr const char* kFrames = "|/-\\";
    std::cerr << "\r" << kFrames[n_++ % 4] << " " << what_ << std::flush;
  }
  ~Progress() {
    if (on_) std::cerr << "\r" << std::string(what_.size() + 2, ' ') << "\r" << std::flush;
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  std::string what_;
  bool on_;
  int n_ = 0;
};

// wait_for_state with a spinner.
Reply wait_showing(Client& client, const std::string& id, const std::string& state, std::chrono::seconds timeout) {
  Progress progress("waiting for " + id + " to be " + state);
  return wait_for_state(client, id, state, timeout, [&progress] { progress.tick(); });
}

// A list answer's entries: the array itself, or its `items` (the API's pages).
json::value items_of(const json::value& body) {
  if (body.is_object()) {
    if (const auto* items = body.as_object().if_contains("items")) return *items;
  }
  return body;
}

json::object key_values(const std::vector<std::string>& pairs, const std::string& what, std::string& problem) {
  json::object out;
  for (const auto& p : pairs) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      problem = what + " must be KEY=VALUE, not '" + p + "'";
      return {};
    }
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

void add_login(CLI::App& app, Context& ctx) {
  auto* login = app.add_subcommand("login", "Save the API URL and key (in the user's config dir, mode 0600)");
  auto url = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  login->add_option("--api-url", *url, "the platform's API URL, e.g. http://127.0.0.1:3000/api")->required();
  login->add_option("--api-key", *key, "an API key of your organization")->required();
  login->callback([&ctx, url, key] {
    Client client(Config{*url, *key});
    if (!ctx.check(client.api("GET", "/sandbox?limit=1"))) return;  // the key works before it is kept
    const auto path = config_path(ctx.env);
    if (auto saved = save_config(path, Config{*url, *key}); !saved) {
      ctx.check({Exit::failed, saved.error().message, {}});
      return;
    }
    std::cout << "logged in to " << *url << " (saved in " << path << ")\n";
  });
  auto* logout = app.add_subcommand("logout", "Forget the saved API URL and key");
  logout->callback([&ctx] {
    if (auto removed = remove_config(config_path(ctx.env)); !removed) ctx.check({Exit::failed, removed.error().message, {}});
  });
}

void add_create(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("create", "Create a sandbox and wait until it is started");
  struct Flags {
    std::string snapshot, name;
    std::vector<std::string> env, labels, volumes, allow;
    bool is_public = false, block_all = false;
    int cpu = 0, memory = 0, disk = 0, auto_stop = 0, auto_archive = 0, auto_delete = 0;
    std::map<std::string, CLI::Option*> given;  // the numbers the user set
    int timeout = 120;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--snapshot", f->snapshot, "the snapshot to start from");
  cmd->add_option("--name", f->name, "a name, unique in the organization");
  cmd->add_option("-e,--env", f->env, "an environment variable, KEY=VALUE (repeatable)");
  cmd->add_option("-l,--label", f->labels, "a label, KEY=VALUE (repeatable)");
  cmd->add_flag("--public", f->is_public, "previews need no token");
  f->given["cpu"] = cmd->add_option("--cpu", f->cpu, "CPUs");
  f->given["memory"] = cmd->add_option("--memory", f->memory, "memory, GiB");
  f->given["disk"] = cmd->add_option("--disk", f->disk, "disk, GiB");
  cmd->add_option("-v,--volume", f->volumes, "a volume to mount, VOLUME:PATH (repeatable)");
  f->given["auto_stop"] = cmd->add_option("--auto-stop", f->auto_stop, "minutes idle before it is stopped (0: never)");
  f->given["auto_archive"] = cmd->add_option("--auto-archive", f->auto_archive, "minutes stopped before it is archived");
  f->given["auto_delete"] = cmd->add_option("--auto-delete", f->auto_delete, "minutes stopped before it is deleted (-1: never)");
  cmd->add_flag("--network-block-all", f->block_all, "no network at all");
  cmd->add_option("--network-allow-list", f->allow, "CIDRs it may reach (repeatable or comma-separated)")->delimiter(',');
  cmd->add_option("--timeout", f->timeout, "seconds to wait for it to start")->check(CLI::Range(1, 3600));
  cmd->callback([&ctx, f] {
    std::string problem;
    json::object body;
    if (!f->snapshot.empty()) body["snapshot"] = f->snapshot;
    if (!f->name.empty()) body["name"] = f->name;
    body["env"] = key_values(f->env, "--env", problem);
    body["labels"] = key_values(f->labels, "--label", problem);
    if (f->is_public) body["public"] = true;
    if (f->given.at("cpu")->count() > 0) body["cpu"] = f->cpu;
    if (f->given.at("memory")->count() > 0) body["memory"] = f->memory;
    if (f->given.at("disk")->count() > 0) body["disk"] = f->disk;
    if (f->given.at("auto_stop")->count() > 0) body["autoStopInterval"] = f->auto_stop;
    if (f->given.at("auto_archive")->count() > 0) body["autoArchiveInterval"] = f->auto_archive;
    if (f->given.at("auto_delete")->count() > 0) body["autoDeleteInterval"] = f->auto_delete;
    if (f->block_all) body["networkBlockAll"] = true;
    if (!f->allow.empty()) {
      std::string list;
      for (const auto& a : f->allow) list += (list.empty() ? "" : ",") + a;
      body["networkAllowList"] = list;
    }
    json::array volumes;
    for (const auto& v : f->volumes) {
      const auto colon = v.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == v.size()) problem = "--volume must be VOLUME:PATH, not '" + v + "'";
      else volumes.push_back(json::object{{"volumeId", v.substr(0, colon)}, {"mountPath", v.substr(colon + 1)}});
    }
    if (!volumes.empty()) body["volumes"] = volumes;
    if (!problem.empty()) {
      ctx.check({Exit::usage, problem, {}});
      return;
    }
    auto client = ctx.client();
    auto made = client.api("POST", "/sandbox", json::serialize(body));
    if (!ctx.check(made)) return;
    auto started = wait_showing(client, cell(made.body, "id"), "started", std::chrono::seconds(f->timeout));
    if (!ctx.check(started)) return;
    ctx.print(started.body, kSandboxColumns);
  });
}

// A command on one sandbox: ID (or name) and an API call.
void add_sandbox_action(CLI::App& app, Context& ctx, const std::string& name, const std::string& help,
                        const std::string& method, const std::string& suffix, const std::string& wait_state) {
  auto* cmd = app.add_subcommand(name, help);
  auto id = std::make_shared<std::string>();
  cmd->add_option("sandbox", *id, "the sandbox's id or name")->required();
  cmd->callback([&ctx, id, method, suffix, wait_state] {
    auto client = ctx.client();
    auto r = client.api(method, "/sandbox/" + *id + suffix);
    if (!ctx.check(r)) return;
    if (!wait_state.empty()) {
      r = wait_showing(client, cell(r.body, "id").empty() ? *id : cell(r.body, "id"), wait_state, std::chrono::seconds(120));
      if (!ctx.check(r)) return;
    }
    if (!r.body.is_null()) ctx.print(r.body, kSandboxColumns);
  });
}

void add_sandbox_commands(CLI::App& app, Context& ctx) {
  auto* list = app.add_subcommand("list", "List the organization's sandboxes");
  list->callback([&ctx] {
    auto r = ctx.client().api("GET", "/sandbox");
    if (ctx.check(r)) ctx.print(items_of(r.body), kSandboxColumns);
  });
  add_sandbox_action(app, ctx, "info", "Show a sandbox", "GET", "", "");
  add_sandbox_action(app, ctx, "start", "Start a sandbox and wait until it is started", "POST", "/start", "started");
  add_sandbox_action(app, ctx, "stop", "Stop a sandbox and wait until it is stopped", "POST", "/stop", "stopped");
  add_sandbox_action(app, ctx, "archive", "Archive a stopped sandbox", "POST", "/archive", "");

  auto* del = app.add_subcommand("delete", "Delete a sandbox (or, with --all, every sandbox of the organization)");
  auto id = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  del->add_option("sandbox", *id, "the sandbox's id or name");
  del->add_flag("-a,--all", *all, "every sandbox");
  del->callback([&ctx, id, all] {
    if (id->empty() == !*all) {
      ctx.check({Exit::usage, "name one sandbox or give --all", {}});
      return;
    }
    auto client = ctx.client();
    std::vector<std::string> ids{*id};
    if (*all) {
      auto r = client.api("GET", "/sandbox");
      if (!ctx.check(r)) return;
      ids.clear();
      const auto all_boxes = items_of(r.body);
      if (all_boxes.is_array()) {
        for (const auto& s : all_boxes.as_array()) ids.push_back(cell(s, "id"));
      }
    }
    for (const auto& one : ids) {
      if (ctx.check(client.api("DELETE", "/sandbox/" + one))) std::cout << "deleted " << one << "\n";
    }
  });

  auto* exec = app.add_subcommand("exec", "Run a command in a sandbox; its output, and its exit code as ours");
  auto target = std::make_shared<std::string>();
  auto words = std::make_shared<std::vector<std::string>>();
  auto cwd = std::make_shared<std::string>();
  auto timeout = std::make_shared<int>(0);
  exec->add_option("sandbox", *target, "the sandbox's id or name")->required();
  exec->add_option("command", *words, "the command (after --)")->required();
  exec->add_option("--cwd", *cwd, "the working directory");
  exec->add_option("--timeout", *timeout, "seconds before it is killed (0: none)");
  exec->callback([&ctx, target, words, cwd, timeout] {
    auto client = ctx.client();
    auto box = toolbox_of(client, *target);
    if (!ctx.check(box)) return;
    std::string command;
    for (const auto& w : *words) command += (command.empty() ? "" : " ") + w;
    json::object body{{"command", command}};
    if (!cwd->empty()) body["cwd"] = *cwd;
    if (*timeout > 0) body["timeout"] = *timeout;
    auto r = client.url("POST", std::string(box.body.as_string()) + "/process/execute", json::serialize(body));
    if (!ctx.check(r)) return;
    if (ctx.format() == Format::table) {
      std::cout << cell(r.body, "result") << std::flush;
    } else {
      ctx.print(r.body, {});
    }
    const auto code = cell(r.body, "exitCode");
    ctx.exit = code.empty() ? 1 : std::stoi(code);
  });

  auto* preview = app.add_subcommand("preview-url", "The URL (and token) of a port of a sandbox");
  auto box = std::make_shared<std::string>();
  auto port = std::make_shared<int>(0);
  preview->add_option("sandbox", *box, "the sandbox's id or name")->required();
  preview->add_option("-p,--port", *port, "the port")->required()->check(CLI::Range(1, 65535));
  preview->callback([&ctx, box, port] {
    auto r = ctx.client().api("GET", "/sandbox/" + *box + "/ports/" + std::to_string(*port) + "/preview-url");
    if (ctx.check(r)) ctx.print(r.body, {{"URL", "url"}, {"TOKEN", "token"}});
  });

  auto* ssh = app.add_subcommand("ssh", "SSH into a sandbox (a new access token, then the ssh client)");
  auto ssh_box = std::make_shared<std::string>();
  auto minutes = std::make_shared<int>(60);
  ssh->add_option("sandbox", *ssh_box, "the sandbox's id or name")->required();
  ssh->add_option("--expires", *minutes, "minutes the token is valid")->check(CLI::Range(1, 43200));
  ssh->callback([&ctx, ssh_box, minutes] {
    auto r = ctx.client().api("POST", "/sandbox/" + *ssh_box + "/ssh-access?expiresInMinutes=" + std::to_string(*minutes));
    if (!ctx.check(r)) return;
    // "ssh -p PORT TOKEN@HOST": run it as the user would, trusting the gateway's key on first use.
    std::vector<std::string> words;
    std::istringstream in(cell(r.body, "sshCommand"));
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty()) {
      ctx.check({Exit::failed, "the platform gave no ssh command", {}});
      return;
    }
    words.insert(words.begin() + 1, {"-o", "StrictHostKeyChecking=accept-new"});
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    std::cout << std::flush;
    execvp("ssh", argv.data());
    ctx.check({Exit::failed, "cannot run ssh: " + std::string(std::strerror(errno)), {}});
  });
}

void add_resources(CLI::App& app, Context& ctx) {
  auto* snapshot = app.add_subcommand("snapshot", "Snapshots: images sandboxes start from");
  snapshot->require_subcommand(1);
  snapshot->add_subcommand("list", "List snapshots")->callback([&ctx] {
    auto r = ctx.client().api("GET", "/snapshots");
    if (!ctx.check(r)) return;
    ctx.print(items_of(r.body), kSnapshotColumns);
  });
  auto* create = snapshot->add_subcommand("create", "Import an image as a snapshot (an OCI layout dir or a docker save tarball)");
  auto name = std::make_shared<std::string>();
  auto image = std::make_shared<std::string>();
  create->add_option("name", *name, "the snapshot's name")->required();
  create->add_option("--image", *image, "oci:DIR, docker-archive:FILE.tar or docker://REGISTRY/NAME:TAG")->required();
  create->callback([&ctx, name, image] {
    auto client = ctx.client();
    auto made = client.api("POST", "/snapshots", json::serialize(json::object{{"name", *name}, {"imageName", *image}}));
    if (!ctx.check(made)) return;
    Progress progress("importing " + *name);
    const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    for (;;) {
      auto r = client.api("GET", "/snapshots/" + cell(made.body, "id"));
      if (!ctx.check(r)) return;
      const auto state = cell(r.body, "state");
      if (state == "active") {
        ctx.print(r.body, kSnapshotColumns);
        return;
      }
      if (state == "error" || state == "build_failed" || std::chrono::steady_clock::now() > until) {
        ctx.check({Exit::failed, "snapshot " + *name + " is " + state + ": " + cell(r.body, "errorReason"), {}});
        return;
      }
      progress.tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  auto* remove = snapshot->add_subcommand("delete", "Delete a snapshot");
  auto which = std::make_shared<std::string>();
  remove->add_option("snapshot", *which, "the snapshot's id")->required();
  remove->callback([&ctx, which] { ctx.check(ctx.client().api("DELETE", "/snapshots/" + *which)); });

  auto* volume = app.add_subcommand("volume", "Volumes: storage that outlives sandboxes");
  volume->require_subcommand(1);
  auto* vcreate = volume->add_subcommand("create", "Create a volume");
  auto vname = std::make_shared<std::string>();
  vcreate->add_option("name", *vname, "the volume's name")->required();
  vcreate->callback([&ctx, vname] {
    auto r = ctx.client().api("POST", "/volumes", json::serialize(json::object{{"name", *vname}}));
    if (ctx.check(r)) ctx.print(r.body, kVolumeColumns);
  });
  auto* vget = volume->add_subcommand("get", "Show a volume");
  auto vid = std::make_shared<std::string>();
  vget->add_option("volume", *vid, "the volume's id")->required();
  vget->callback([&ctx, vid] {
    auto r = ctx.client().api("GET", "/volumes/" + *vid);
    if (ctx.check(r)) ctx.print(r.body, kVolumeColumns);
  });
  volume->add_subcommand("list", "List volumes")->callback([&ctx] {
    auto r = ctx.client().api("GET", "/volumes");
    if (ctx.check(r)) ctx.print(items_of(r.body), kVolumeColumns);
  });
  auto* vdel = volume->add_subcommand("delete", "Delete a volume");
  auto vdel_id = std::make_shared<std::string>();
  vdel->add_option("volume", *vdel_id, "the volume's id")->required();
  vdel->callback([&ctx, vdel_id] { ctx.check(ctx.client().api("DELETE", "/volumes/" + *vdel_id)); });
}

void add_observing(CLI::App& app, Context& ctx) {
  auto* events = app.add_subcommand("events", "Follow the organization's public events (CloudEvents)");
  auto types = std::make_shared<std::string>();
  auto count = std::make_shared<int>(0);
  events->add_option("--types", *types, "only these types, comma-separated (sandbox.state.updated,...)");
  events->add_option("--count", *count, "stop after this many (0: follow until interrupted)");
  auto after = std::make_shared<std::string>();
  events->add_option("--after", *after, "resume after this event id or log position (0: from the start; none: from now)");
  events->callback([&ctx, types, count, after] {
    int seen = 0;
    std::string query;
    if (!types->empty()) query += "&types=" + *types;
    if (!after->empty()) query += "&after=" + *after;
    if (!query.empty()) query[0] = '?';
    auto r = ctx.client().follow("/events" + query, [&](const std::string& data) {
      boost::system::error_code ec;
      const auto v = json::parse(data, ec);
      if (ctx.format() == Format::table && !ec) {
        std::cout << cell(v, "time") << "  " << cell(v, "type") << "  " << cell(v, "subject") << "  "
                  << cell(v, "data.newState") << "\n"
                  << std::flush;
      } else if (ctx.format() == Format::yaml && !ec) {
        std::cout << "---\n" << to_yaml(v) << std::flush;
      } else {
        std::cout << data << "\n" << std::flush;
      }
      return *count == 0 || ++seen < *count;
    });
    ctx.check(r);
  });

  auto* audit = app.add_subcommand("audit", "The organization's audit log: who did what, when (as of a time with --to)");
  auto resource = std::make_shared<std::string>();
  auto actor = std::make_shared<std::string>();
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(50);
  audit->add_option("--resource", *resource, "one resource's id");
  audit->add_option("--actor", *actor, "one actor");
  audit->add_option("--from", *from, "from this time (RFC 3339)");
  audit->add_option("--to", *to, "up to this time (RFC 3339): the log as it stood then");
  audit->add_option("--limit", *limit, "at most this many")->check(CLI::Range(1, 1000));
  audit->callback([&ctx, resource, actor, from, to, limit] {
    std::string query = "?limit=" + std::to_string(*limit);
    for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{{"resource", *resource}, {"actor", *actor},
                                                                                {"from", *from}, {"to", *to}}) {
      if (!v.empty()) query += "&" + k + "=" + v;
    }
    auto r = ctx.client().api("GET", "/audit" + query);
    if (!ctx.check(r)) return;
    ctx.print(items_of(r.body), {{"TIME", "time"}, {"ACTOR", "actor"}, {"ACTION", "action"}, {"RESOURCE", "resource"}});
  });
}

void add_mcp(CLI::App& app, Context& ctx) {
  auto* mcp = app.add_subcommand("mcp", "The MCP server (Model Context Protocol) that gives AI agents the platform's tools");
  mcp->require_subcommand(1);
  mcp->add_subcommand("start", "Serve MCP over stdio (twelve tools: sandboxes, commands, files, git, previews)")
      ->callback([&ctx] {
        auto client = ctx.client();
        serve(std::cin, std::cout, platform_tools(client));
      });
  mcp->add_subcommand("config", "Print what an agent client's configuration needs to start it")->callback([&ctx] {
    std::string self(4096, '\0');
    const auto n = readlink("/proc/self/exe", self.data(), self.size());
    self.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    std::cout << mcp_config(self.empty() ? "daytona" : self, load_config(ctx.env));
  });
}

void add_meta(CLI::App& app, Context& ctx) {
  app.add_subcommand("version", "The CLI's version and the API it talks to")->callback([&ctx] {
    const auto config = load_config(ctx.env);
    std::cout << "daytona (sandbox platform CLI) " << kVersion << "\n"
              << "API: " << (config.api_url.empty() ? "(not logged in)" : config.api_url) << "\n";
  });
  auto* complete = app.add_subcommand("autocomplete", "Print a bash completion script (eval \"$(daytona autocomplete)\")");
  complete->callback([&app] {
    std::string words;
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) words += sub->get_name() + " ";
    std::cout << "_daytona() {\n"
              << "  if [ \"$COMP_CWORD\" -eq 1 ]; then COMPREPLY=($(compgen -W \"" << words
              << "\" -- \"${COMP_WORDS[1]}\")); fi\n"
              << "}\ncomplete -F _daytona daytona\n";
  });
}

}  // namespace

int run(int argc, char** argv, const std::map<std::string, std::string>& env) {
  Context ctx;
  ctx.env = env;
  CLI::App app{"daytona: sandboxes on this platform from the shell.\n"
               "Exit codes: 0 ok, 1 failed, 2 wrong usage, 3 not found, 4 not logged in or refused, "
               "5 platform unavailable; exec exits with the command's own code."};
  app.require_subcommand(1);
  app.fallthrough();  // -f works after the subcommand too
  app.add_option("-f,--format", ctx.format_name, "output: table, json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}));
  add_login(app, ctx);
  add_create(app, ctx);
  add_sandbox_commands(app, ctx);
  add_resources(app, ctx);
  add_observing(app, ctx);
  add_mcp(app, ctx);
  add_meta(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(Exit::usage);
  }
  return ctx.exit;
}

}  // namespace command_service::cli
