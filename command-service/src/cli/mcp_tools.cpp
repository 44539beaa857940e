// Daytona's twelve MCP tools, each a few calls to the platform: the API for sandboxes and
// previews, the sandbox's toolbox (through the proxy) for commands, files and git.
#include "command_service/cli/mcp.hpp"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace command_service::cli {

namespace json = boost::json;

namespace {

std::string text(const json::object& args, const char* name, const std::string& fallback = "") {
  const auto* v = args.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : fallback;
}

std::string q(const std::string& value) { return boost::urls::encode(value, boost::urls::unreserved_chars); }

ToolResult from(const Reply& r) {
  if (!r.ok()) return {true, r.message};
  return {false, r.body.is_string() ? std::string(r.body.as_string()) : json::serialize(r.body)};
}

// The property table of a schema, each `name: type description`.
json::object schema(std::initializer_list<std::tuple<const char*, const char*, const char*>> properties,
                    std::initializer_list<const char*> required) {
  json::object props;
  for (const auto& [name, type, description] : properties) props[name] = {{"type", type}, {"description", description}};
  json::array req;
  for (const auto* r : required) req.emplace_back(r);
  return {{"type", "object"}, {"properties", props}, {"required", req}};
}

std::optional<std::string> base64_decode(const std::string& in) {
  std::string out(in.size() / 4 * 3 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0 || in.size() % 4 != 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  if (!in.empty() && in.back() == '=') --size;  // EVP_DecodeBlock counts the padding as bytes
  if (in.size() > 1 && in[in.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

std::string base64_encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// The first part's body of a multipart answer (the daemon's bulk download of one file).
std::optional<std::string> first_part(const std::string& body) {
  const auto eol = body.find("\r\n");
  if (body.rfind("--", 0) != 0 || eol == std::string::npos) return std::nullopt;
  const auto boundary = "\r\n" + body.substr(0, eol);
  const auto head_end = body.find("\r\n\r\n", eol);
  if (head_end == std::string::npos) return std::nullopt;
  const auto headers = body.substr(eol, head_end - eol);
  if (headers.find("name=\"error\"") != std::string::npos) return std::nullopt;
  const auto end = body.find(boundary, head_end + 4);
  if (end == std::string::npos) return std::nullopt;
  return body.substr(head_end + 4, end - head_end - 4);
}

struct Tools {
  Client& client;

  // `path` under the sandbox's toolbox.
  Reply toolbox(const json::object& args, const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& content_type = "") {
    auto base = toolbox_of(client, text(args, "id"));
    if (!base.ok()) return base;
    return client.url(method, std::string(base.body.as_string()) + path, body, content_type);
  }

  ToolResult create_sandbox(const json::object& args) {
    json::object body;
    if (auto s = text(args, "snapshot"); !s.empty()) body["snapshot"] = s;
    if (auto n = text(args, "name"); !n.empty()) body["name"] = n;
    for (const auto& [arg, field] : {std::pair{"auto_stop_interval", "autoStopInterval"},
                                     std::pair{"auto_archive_interval", "autoArchiveInterval"},
                                     std::pair{"auto_delete_interval", "autoDeleteInterval"}}) {
      if (const auto* v = args.if_contains(arg)) body[field] = *v;
    }
    if (const auto* env = args.if_contains("env")) body["env"] = *env;
    if (const auto* labels = args.if_contains("labels")) body["labels"] = *labels;
    auto made = client.api("POST", "/sandbox", json::serialize(body));
    if (!made.ok()) return from(made);
    const auto id = std::string(made.body.at("id").as_string());
    auto started = wait_for_state(client, id, "started", std::chrono::seconds(120));
    if (!started.ok()) return from(started);
    return {false, json::serialize(json::object{{"id", id}, {"state", "started"}, {"name", started.body.at("name")}})};
  }

  ToolResult upload(const json::object& args) {
    std::string content = text(args, "content");
    if (text(args, "encoding", "text") == "base64") {
      auto decoded = base64_decode(content);
      if (!decoded) return {true, "content is not valid base64"};
      content = *decoded;
    }
    const auto path = text(args, "file_path");
    if (!(args.contains("overwrite") && args.at("overwrite").as_bool())) {
      if (toolbox(args, "GET", "/files/info?path=" + q(path)).ok()) return {true, path + " exists (overwrite: true replaces it)"};
    }
    unsigned char random[12];
    RAND_bytes(random, sizeof random);
    std::string boundary = "mcp";
    for (const unsigned char c : random) boundary += "0123456789abcdef"[c % 16];
    const std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"files[0].path\"\r\n\r\n" + path +
                             "\r\n--" + boundary +
                             "\r\nContent-Disposition: form-data; name=\"files[0].file\"; filename=\"upload\"\r\n"
                             "Content-Type: application/octet-stream\r\n\r\n" +
                             content + "\r\n--" + boundary + "--\r\n";
    auto r = toolbox(args, "POST", "/files/bulk-upload", body, "multipart/form-data; boundary=" + boundary);
    if (!r.ok()) return from(r);
    return {false, "uploaded " + std::to_string(content.size()) + " bytes to " + path};
  }

  ToolResult download(const json::object& args) {
    const auto path = text(args, "file_path");
    auto r = toolbox(args, "POST", "/files/bulk-download", json::serialize(json::object{{"paths", json::array{path.c_str()}}}));
    if (!r.ok()) return from(r);
    auto content = first_part(r.body.is_string() ? std::string(r.body.as_string()) : json::serialize(r.body));
    if (!content) return {true, "cannot download " + path + " (no such file, or not a file)"};
    const bool binary = content->find('\0') != std::string::npos;
    return {false, binary ? "base64:" + base64_encode(*content) : *content};
  }

  ToolResult preview(const json::object& args) {
    const auto* port = args.if_contains("port");
    auto r = client.api("GET", "/sandbox/" + text(args, "id") + "/ports/" + json::serialize(*port) + "/preview-url");
    if (!r.ok()) return from(r);
    json::object out{{"url", r.body.at("url")}, {"token", r.body.at("token")}};
    if (args.contains("check_server") && args.at("check_server").as_bool()) {
      // Without the API key: a preview is the sandbox's own server, and the proxy passes its
      // headers on; the preview token in the query is what lets this request through.
      out["serverResponding"] = answers_without_key(std::string(r.body.at("url").as_string()) + "/?DAYTONA_SANDBOX_AUTH_KEY=" +
                                                    std::string(r.body.at("token").as_string()));
    }
    return {false, json::serialize(out)};
  }
};

}  // namespace

std::vector<Tool> platform_tools(Client& client) {
  auto t = std::make_shared<Tools>(Tools{client});
  std::vector<Tool> out;
  out.push_back({"create_sandbox", "Create a sandbox and wait until it is started; answers its id",
                 schema({{"snapshot", "string", "the snapshot to start from (default: the platform's)"},
                         {"name", "string", "a name, unique in the organization"},
                         {"env", "object", "environment variables"},
                         {"labels", "object", "labels"},
                         {"auto_stop_interval", "integer", "minutes idle before it stops (0: never)"},
                         {"auto_archive_interval", "integer", "minutes stopped before it is archived"},
                         {"auto_delete_interval", "integer", "minutes stopped before it is deleted (-1: never)"}},
                        {}),
                 [t](const json::object& a) { return t->create_sandbox(a); }});
  out.push_back({"destroy_sandbox", "Delete a sandbox", schema({{"id", "string", "the sandbox's id or name"}}, {"id"}),
                 [t](const json::object& a) { return from(t->client.api("DELETE", "/sandbox/" + text(a, "id"))); }});
  out.push_back({"execute_command", "Run a shell command in a sandbox; answers its exit code and output",
                 schema({{"id", "string", "the sandbox's id or name"}, {"command", "string", "the command"},
                         {"cwd", "string", "the working directory"}, {"timeout", "integer", "seconds before it is killed"}},
                        {"id", "command"}),
                 [t](const json::object& a) {
                   json::object body{{"command", text(a, "command")}};
                   if (auto cwd = text(a, "cwd"); !cwd.empty()) body["cwd"] = cwd;
                   if (const auto* timeout = a.if_contains("timeout")) body["timeout"] = *timeout;
                   auto r = t->toolbox(a, "POST", "/process/execute", json::serialize(body));
                   auto out = from(r);
                   if (r.ok() && r.body.is_object() && r.body.at("exitCode").to_number<int>() != 0) out.error = true;
                   return out;
                 }});
  out.push_back({"file_upload", "Write a file into a sandbox (text, or base64 for binary content)",
                 schema({{"id", "string", "the sandbox's id or name"}, {"file_path", "string", "where, in the sandbox"},
                         {"content", "string", "the file's content"}, {"encoding", "string", "text (default) or base64"},
                         {"overwrite", "boolean", "replace an existing file"}},
                        {"id", "file_path", "content"}),
                 [t](const json::object& a) { return t->upload(a); }});
  out.push_back({"file_download", "Read a file from a sandbox (binary files come as base64:...)",
                 schema({{"id", "string", "the sandbox's id or name"}, {"file_path", "string", "the file"}}, {"id", "file_path"}),
                 [t](const json::object& a) { return t->download(a); }});
  out.push_back({"create_folder", "Make a folder (and its parents) in a sandbox",
                 schema({{"id", "string", "the sandbox's id or name"}, {"folder_path", "string", "the folder"},
                         {"mode", "string", "its permissions, octal (default 755)"}},
                        {"id", "folder_path"}),
                 [t](const json::object& a) {
                   return from(t->toolbox(a, "POST", "/files/folder?path=" + q(text(a, "folder_path")) + "&mode=" +
                                                          q(text(a, "mode", "755"))));
                 }});
  out.push_back({"get_file_info", "A file's size, mode, owner and times",
                 schema({{"id", "string", "the sandbox's id or name"}, {"file_path", "string", "the file"}}, {"id", "file_path"}),
                 [t](const json::object& a) { return from(t->toolbox(a, "GET", "/files/info?path=" + q(text(a, "file_path")))); }});
  out.push_back({"list_files", "The entries of a folder",
                 schema({{"id", "string", "the sandbox's id or name"}, {"path", "string", "the folder (default: the work dir)"}}, {"id"}),
                 [t](const json::object& a) { return from(t->toolbox(a, "GET", "/files?path=" + q(text(a, "path", ".")))); }});
  out.push_back({"move_file", "Move or rename a file or folder",
                 schema({{"id", "string", "the sandbox's id or name"}, {"source_path", "string", "from"},
                         {"dest_path", "string", "to"}},
                        {"id", "source_path", "dest_path"}),
                 [t](const json::object& a) {
                   return from(t->toolbox(a, "POST", "/files/move?source=" + q(text(a, "source_path")) +
                                                          "&destination=" + q(text(a, "dest_path"))));
                 }});
  out.push_back({"delete_file", "Delete a file or a folder with what is in it",
                 schema({{"id", "string", "the sandbox's id or name"}, {"file_path", "string", "the file or folder"}}, {"id", "file_path"}),
                 [t](const json::object& a) {
                   return from(t->toolbox(a, "DELETE", "/files?path=" + q(text(a, "file_path")) + "&recursive=true"));
                 }});
  out.push_back({"git_clone", "Clone a git repository into a sandbox",
                 schema({{"id", "string", "the sandbox's id or name"}, {"url", "string", "the repository"},
                         {"path", "string", "where (default: its name in the work dir)"}, {"branch", "string", "a branch"},
                         {"commit_id", "string", "a commit to check out"}, {"username", "string", "for a private repository"},
                         {"password", "string", "for a private repository"}},
                        {"id", "url"}),
                 [t](const json::object& a) {
                   json::object body;
                   for (const auto* k : {"url", "path", "branch", "commit_id", "username", "password"}) {
                     if (auto v = text(a, k); !v.empty()) body[k] = v;
                   }
                   if (!body.contains("path")) {
                     auto url = text(a, "url");
                     while (!url.empty() && url.back() == '/') url.pop_back();
                     auto name = url.substr(url.rfind('/') + 1);
                     if (name.size() > 4 && name.ends_with(".git")) name.resize(name.size() - 4);
                     body["path"] = name;
                   }
                   auto r = t->toolbox(a, "POST", "/git/clone", json::serialize(body));
                   if (!r.ok()) return from(r);
                   return ToolResult{false, "cloned " + text(a, "url") + " into " + std::string(body.at("path").as_string())};
                 }});
  out.push_back({"preview_link", "A URL (and token) for a port of a sandbox",
                 schema({{"id", "string", "the sandbox's id or name"}, {"port", "integer", "the port"},
                         {"description", "string", "what it serves"}, {"check_server", "boolean", "check something answers there"}},
                        {"id", "port"}),
                 [t](const json::object& a) { return t->preview(a); }});
  return out;
}

}  // namespace command_service::cli
