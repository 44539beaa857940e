// Git (compat spec §3.3) through the git CLI of the sandbox's own userland: it behaves as the
// user's git does (config, hooks, credentials helpers), and a snapshot without git answers
// with a clear error instead of a second implementation that may disagree with it.
#include "daemon/toolbox.hpp"

#include <algorithm>
#include <sstream>

namespace daemon_tb {

namespace {

struct Git {
  const Call& call;
  Toolbox& tb;
  json::object body;
};

std::optional<std::string> text(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

bool flag(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->as_bool();
}

bool contains(const std::string& haystack, std::initializer_list<const char*> needles) {
  std::string lower = haystack;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::any_of(needles.begin(), needles.end(), [&](const char* n) { return lower.find(n) != std::string::npos; });
}

// git's complaint as the spec's error code.
Reply git_error(const Call& call, const std::string& output) {
  auto reply = [&](http::status s, const char* code) { return error_reply(call, s, code, "git: " + output); };
  if (contains(output, {"authentication failed", "could not read username", "permission denied (publickey)"})) {
    return reply(http::status::unauthorized, "GIT_AUTH_FAILED");
  }
  if (contains(output, {"remote branch", "did not match any", "invalid reference", "not a valid branch"})) {
    return reply(http::status::not_found, "GIT_BRANCH_NOT_FOUND");
  }
  if (contains(output, {"already exists"})) return reply(http::status::conflict, "GIT_BRANCH_EXISTS");
  if (contains(output, {"repository not found", "does not appear to be a git repository", "not a git repository",
                        "does not exist"})) {
    return reply(http::status::not_found, "GIT_REPO_NOT_FOUND");
  }
  if (contains(output, {"[rejected]", "non-fast-forward", "failed to push"})) return reply(http::status::conflict, "GIT_PUSH_REJECTED");
  if (contains(output, {"conflict"})) return reply(http::status::conflict, "GIT_MERGE_CONFLICT");
  if (contains(output, {"would be overwritten", "please commit your changes"})) {
    return reply(http::status::conflict, "GIT_DIRTY_WORKTREE");
  }
  if (contains(output, {"could not resolve host", "unable to access", "connection refused", "timed out"})) {
    return reply(http::status::bad_gateway, "GIT_TRANSPORT_FAILED");
  }
  if (contains(output, {"remote rejected"})) return reply(http::status::unprocessable_entity, "GIT_REMOTE_REJECTED");
  return reply(http::status::bad_request, "BAD_REQUEST");
}

// Runs git in `dir`; the output, or the error reply.
// Callers pass named vectors: g++ 12 destroys temporaries in a co_await expression twice.
asio::awaitable<std::variant<std::string, Reply>> git(const Call& call, Toolbox& tb, const std::string& dir,
                                                      const std::vector<std::string>& args) {
  SpawnSpec spec{{"git"}, {"GIT_TERMINAL_PROMPT=0", "LC_ALL=C"}, dir, true};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  const std::string no_input;
  const auto r = co_await run_to_end(tb.children, spec, no_input, std::nullopt);
  if (!r.start_error.empty()) {
    co_return error_reply(call, http::status::bad_request, "BAD_REQUEST",
                          "git is not available in this sandbox (" + r.start_error + ")");
  }
  if (r.exit_code != 0) co_return git_error(call, r.output);
  co_return r.output;
}

Reply bad(const Call& call, const std::string& m) { return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", m); }

// user:password in an http(s) URL, for clone/push/pull with credentials.
std::string with_credentials(const std::string& url, const std::optional<std::string>& user, const std::optional<std::string>& password) {
  if (!user || user->empty()) return url;
  const auto scheme = url.find("://");
  if (scheme == std::string::npos || url.rfind("http", 0) != 0) return url;
  auto escape = [](const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
      else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        out += hex;
      }
    }
    return out;
  };
  return url.substr(0, scheme + 3) + escape(*user) + (password ? ":" + escape(*password) : "") + "@" + url.substr(scheme + 3);
}

asio::awaitable<Reply> clone(Call& call, Toolbox& tb) {
  auto body = body_object(call);
  if (!body) co_return bad(call, "the body must be a JSON object");
  const auto url = text(*body, "url");
  const auto path = text(*body, "path");
  if (!url || !path) co_return bad(call, "url and path must be strings");
  std::vector<std::string> args{"clone"};
  if (flag(*body, "insecure_skip_tls")) args.insert(args.begin(), {"-c", "http.sslVerify=false"});
  if (auto branch = text(*body, "branch"); branch && !branch->empty()) args.insert(args.end(), {"--branch", *branch});
  if (const auto* depth = body->if_contains("depth"); depth != nullptr && depth->is_int64() && depth->as_int64() > 0) {
    args.insert(args.end(), {"--depth", std::to_string(depth->as_int64())});
  }
  const auto target = tb.resolve(*path);
  args.insert(args.end(), {"--", with_credentials(*url, text(*body, "username"), text(*body, "password")), target});
  auto cloned = co_await git(call, tb, tb.work_dir, args);
  if (auto* r = std::get_if<Reply>(&cloned)) co_return *r;
  if (auto commit = text(*body, "commit_id"); commit && !commit->empty()) {
    const std::vector<std::string> checkout{"checkout", "--quiet", *commit};
    auto checked = co_await git(call, tb, target, checkout);
    if (auto* r = std::get_if<Reply>(&checked)) co_return *r;
  }
  co_return empty_reply(http::status::ok);
}

std::string status_name(char c) {
  switch (c) {
    case ' ': return "Unmodified";
    case 'M': return "Modified";
    case 'A': return "Added";
    case 'D': return "Deleted";
    case 'R': return "Renamed";
    case 'C': return "Copied";
    case 'U': return "Updated but unmerged";
    case '?': return "Untracked";
    default: return "Unmodified";
  }
}

asio::awaitable<Reply> status(Call& call, Toolbox& tb) {
  const auto dir = tb.resolve(call.arg("path").value_or("."));
  const std::vector<std::string> args{"status", "--porcelain=v1", "--branch", "--untracked-files=all"};
  auto out = co_await git(call, tb, dir, args);
  if (auto* r = std::get_if<Reply>(&out)) co_return *r;
  json::object result{{"currentBranch", ""}, {"fileStatus", json::array()}, {"ahead", 0}, {"behind", 0},
                      {"branchPublished", false}, {"detached", false}};
  std::istringstream lines(std::get<std::string>(out));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("## ", 0) == 0) {
      auto branch = line.substr(3);
      if (branch.rfind("HEAD (no branch)", 0) == 0) {
        result["detached"] = true;
        continue;
      }
      if (branch.rfind("No commits yet on ", 0) == 0) branch = branch.substr(18);
      const auto dots = branch.find("...");
      std::string tracking;
      if (dots != std::string::npos) {
        tracking = branch.substr(dots + 3);
        branch = branch.substr(0, dots);
        result["branchPublished"] = true;
      }
      const auto bracket = tracking.find(" [");
      if (bracket != std::string::npos) {
        const auto counts = tracking.substr(bracket + 2);
        if (auto a = counts.find("ahead "); a != std::string::npos) result["ahead"] = std::atoi(counts.c_str() + a + 6);
        if (auto b = counts.find("behind "); b != std::string::npos) result["behind"] = std::atoi(counts.c_str() + b + 7);
        tracking = tracking.substr(0, bracket);
      }
      if (!tracking.empty()) result["upstream"] = tracking;
      result["currentBranch"] = branch;
      continue;
    }
    if (line.size() < 4) continue;
    result["fileStatus"].as_array().push_back(json::object{
        {"name", line.substr(3)}, {"staging", status_name(line[0] == '?' ? '?' : line[0])},
        {"worktree", status_name(line[1])}, {"extra", ""}});
  }
  co_return json_reply(http::status::ok, result);
}

asio::awaitable<Reply> branches(Call& call, Toolbox& tb) {
  const auto dir = tb.resolve(call.arg("path").value_or("."));
  const std::vector<std::string> args{"branch", "--format=%(HEAD) %(refname:short)"};
  auto out = co_await git(call, tb, dir, args);
  if (auto* r = std::get_if<Reply>(&out)) co_return *r;
  json::array names;
  std::string current;
  std::istringstream lines(std::get<std::string>(out));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() < 3) continue;
    names.push_back(json::string(line.substr(2)));
    if (line[0] == '*') current = line.substr(2);
  }
  json::object result{{"branches", names}};
  if (!current.empty()) result["current"] = current;
  co_return json_reply(http::status::ok, result);
}

// POST/DELETE with {path, ...}: one git command; 200 with an empty body.
template <class Args>
asio::awaitable<Reply> simple(Call& call, Toolbox& tb, Args make_args) {
  auto body = body_object(call);
  if (!body) co_return bad(call, "the body must be a JSON object");
  const auto path = text(*body, "path");
  if (!path) co_return bad(call, "path must be a string");
  auto args = make_args(*body);
  if (!args) co_return bad(call, args.error());
  const auto dir = tb.resolve(*path);
  const std::vector<std::string> list = *args;
  auto out = co_await git(call, tb, dir, list);
  if (auto* r = std::get_if<Reply>(&out)) co_return *r;
  co_return empty_reply(http::status::ok);
}

using Args = boost::system::result<std::vector<std::string>, std::string>;

asio::awaitable<Reply> commit(Call& call, Toolbox& tb) {
  auto body = body_object(call);
  if (!body) co_return bad(call, "the body must be a JSON object");
  const auto path = text(*body, "path");
  const auto message = text(*body, "message");
  if (!path || !message) co_return bad(call, "path and message must be strings");
  const auto author = text(*body, "author").value_or("Daytona");
  const auto email = text(*body, "email").value_or("daytona@localhost");
  std::vector<std::string> args{"-c", "user.name=" + author, "-c", "user.email=" + email, "commit", "--quiet", "-m", *message};
  if (flag(*body, "allow_empty")) args.push_back("--allow-empty");
  const auto dir = tb.resolve(*path);
  auto out = co_await git(call, tb, dir, args);
  if (auto* r = std::get_if<Reply>(&out)) co_return *r;
  const std::vector<std::string> rev_parse{"rev-parse", "HEAD"};
  auto hash = co_await git(call, tb, dir, rev_parse);
  if (auto* r = std::get_if<Reply>(&hash)) co_return *r;
  auto text_hash = std::get<std::string>(hash);
  while (!text_hash.empty() && std::isspace(static_cast<unsigned char>(text_hash.back()))) text_hash.pop_back();
  co_return json_reply(http::status::ok, {{"hash", text_hash}});
}

// push / pull: with username (and password) the remote's http(s) URL carries them for this one
// call (nothing is written to the repository's config); else the remote by name.
asio::awaitable<Reply> push_or_pull(Call& call, Toolbox& tb, const std::string verb) {
  auto body = body_object(call);
  if (!body) co_return bad(call, "the body must be a JSON object");
  const auto path = text(*body, "path");
  if (!path) co_return bad(call, "path must be a string");
  const auto dir = tb.resolve(*path);
  std::string remote = text(*body, "remote").value_or("origin");
  if (auto user = text(*body, "username"); user && !user->empty()) {
    const std::vector<std::string> get_url{"remote", "get-url", remote};
    auto url = co_await git(call, tb, dir, get_url);
    if (auto* r = std::get_if<Reply>(&url)) co_return *r;
    auto plain = std::get<std::string>(url);
    while (!plain.empty() && std::isspace(static_cast<unsigned char>(plain.back()))) plain.pop_back();
    remote = with_credentials(plain, user, text(*body, "password"));
  }
  std::vector<std::string> args{verb};
  if (verb == "push" && flag(*body, "set_upstream")) args.push_back("--set-upstream");
  args.push_back(remote);
  if (auto branch = text(*body, "branch"); branch && !branch->empty()) args.push_back(*branch);
  auto out = co_await git(call, tb, dir, args);
  if (auto* r = std::get_if<Reply>(&out)) co_return *r;
  co_return empty_reply(http::status::ok);
}

}  // namespace

void register_git_routes(Server& server, Toolbox& tb) {
  using V = http::verb;
  auto add = [&](V method, const char* path, asio::awaitable<Reply> (*f)(Call&, Toolbox&)) {
    server.add({method, path, BodyKind::text, [&tb, f](Call& c) { return f(c, tb); }});
  };
  add(V::post, "/git/clone", clone);
  add(V::get, "/git/status", status);
  add(V::get, "/git/branches", branches);
  add(V::post, "/git/commit", commit);
  server.add({V::post, "/git/add", BodyKind::text, [&tb](Call& c) {
                return simple(c, tb, [](const json::object& b) -> Args {
                  std::vector<std::string> args{"add", "--"};
                  const auto* files = b.if_contains("files");
                  if (files == nullptr || !files->is_array()) return std::string("files must be an array of paths");
                  for (const auto& f : files->as_array()) {
                    if (!f.is_string()) return std::string("files must be an array of paths");
                    args.emplace_back(f.as_string());
                  }
                  return args;
                });
              }});
  server.add({V::post, "/git/branches", BodyKind::text, [&tb](Call& c) {
                return simple(c, tb, [](const json::object& b) -> Args {
                  auto name = text(b, "name");
                  if (!name || name->empty()) return std::string("name must be a branch name");
                  return std::vector<std::string>{"branch", "--", *name};
                });
              }});
  server.add({V::delete_, "/git/branches", BodyKind::text, [&tb](Call& c) {
                return simple(c, tb, [](const json::object& b) -> Args {
                  auto name = text(b, "name");
                  if (!name || name->empty()) return std::string("name must be a branch name");
                  return std::vector<std::string>{"branch", "-D", "--", *name};
                });
              }});
  server.add({V::post, "/git/checkout", BodyKind::text, [&tb](Call& c) {
                return simple(c, tb, [](const json::object& b) -> Args {
                  auto branch = text(b, "branch");
                  if (!branch || branch->empty()) return std::string("branch must be a branch name");
                  return std::vector<std::string>{"checkout", "--quiet", *branch};
                });
              }});
  server.add({V::post, "/git/push", BodyKind::text, [&tb](Call& c) { return push_or_pull(c, tb, "push"); }});
  server.add({V::post, "/git/pull", BodyKind::text, [&tb](Call& c) { return push_or_pull(c, tb, "pull"); }});
}

}  // namespace daemon_tb
