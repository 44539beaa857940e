// Files (compat spec §3.2): list, info, folder, delete, move, find, search, replace,
// permissions; the bulk transfers are in file_transfer.cpp.
#include "daemon/toolbox.hpp"
#include "files.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fnmatch.h>
#include <fstream>
#include <filesystem>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace daemon_tb {

Reply errno_reply(const Call& call, int err, const std::string& path) {
  switch (err) {
    case ENOENT: return error_reply(call, http::status::not_found, "FILE_NOT_FOUND", "file not found: " + path);
    case EACCES:
    case EPERM: return error_reply(call, http::status::forbidden, "FILE_ACCESS_DENIED", "permission denied: " + path);
    case ENOTDIR:
    case EISDIR:
    case EINVAL:
    case ENAMETOOLONG: return error_reply(call, http::status::bad_request, "INVALID_FILE_PATH", std::strerror(err) + std::string(": ") + path);
    case EEXIST:
    case ENOTEMPTY: return error_reply(call, http::status::conflict, "CONFLICT", std::strerror(err) + std::string(": ") + path);
    default: return error_reply(call, http::status::internal_server_error, "FILE_READ_FAILED", std::strerror(err) + std::string(": ") + path);
  }
}


namespace {

namespace fs = std::filesystem;

std::string mode_string(mode_t m) {
  std::string s = S_ISDIR(m) ? "d" : S_ISLNK(m) ? "L" : S_ISFIFO(m) ? "p" : S_ISSOCK(m) ? "S" : S_ISCHR(m) ? "c" : S_ISBLK(m) ? "D" : "-";
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (m & (1 << (8 - i))) ? rwx[i] : '-';
  return s;
}

std::string time_text(const timespec& t, const char* format) {
  std::tm tm{};
  gmtime_r(&t.tv_sec, &tm);
  char text[64];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

json::object file_info(const std::string& path, const struct stat& st) {
  char perms[8];
  std::snprintf(perms, sizeof perms, "%04o", st.st_mode & 07777);
  auto name = fs::path(path).filename().string();
  if (name.empty()) name = path;
  return {{"name", name},
          {"path", path},
          {"size", static_cast<std::int64_t>(st.st_size)},
          {"mode", mode_string(st.st_mode)},
          {"modTime", time_text(st.st_mtim, "%Y-%m-%d %H:%M:%S +0000 UTC")},
          {"modifiedAt", time_text(st.st_mtim, "%Y-%m-%dT%H:%M:%SZ")},
          {"isDir", S_ISDIR(st.st_mode)},
          {"owner", std::to_string(st.st_uid)},
          {"group", std::to_string(st.st_gid)},
          {"permissions", perms}};
}

std::optional<Reply> need(const Call& call, const std::optional<std::string>& value, const char* name) {
  if (value && !value->empty()) return std::nullopt;
  return error_reply(call, http::status::bad_request, "BAD_REQUEST", std::string("the query parameter ") + name + " is required");
}

void list_into(json::array& out, const std::string& dir, int depth) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    struct stat st {};
    if (lstat(e.path().c_str(), &st) != 0) continue;
    out.push_back(file_info(e.path().string(), st));
    if (depth > 1 && S_ISDIR(st.st_mode)) list_into(out, e.path().string(), depth - 1);
  }
}

asio::awaitable<Reply> list_files(Call& call, Toolbox& tb) {
  const auto path = tb.resolve(call.arg("path").value_or("."));
  int depth = 1;
  if (auto d = call.arg("depth")) {
    try {
      depth = std::stoi(*d);
    } catch (const std::exception&) {
      depth = 0;
    }
    if (depth < 1) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "depth must be an integer >= 1");
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) co_return errno_reply(call, errno, path);
  if (!S_ISDIR(st.st_mode)) co_return errno_reply(call, ENOTDIR, path);
  json::array out;
  list_into(out, path, depth);
  co_return json_reply(http::status::ok, out);
}

asio::awaitable<Reply> info(Call& call, Toolbox& tb) {
  if (auto missing = need(call, call.arg("path"), "path")) co_return *missing;
  const auto path = tb.resolve(*call.arg("path"));
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) co_return errno_reply(call, errno, path);
  co_return json_reply(http::status::ok, file_info(path, st));
}

asio::awaitable<Reply> folder(Call& call, Toolbox& tb) {
  if (auto missing = need(call, call.arg("path"), "path")) co_return *missing;
  const auto path = tb.resolve(*call.arg("path"));
  mode_t mode = 0755;
  if (auto m = call.arg("mode"); m && !m->empty()) {
    char* end = nullptr;
    mode = static_cast<mode_t>(std::strtol(m->c_str(), &end, 8));
    if (*end != '\0' || mode > 07777) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "mode must be octal, like 755");
  }
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) co_return errno_reply(call, ec.value(), path);
  chmod(path.c_str(), mode);
  co_return empty_reply(http::status::created);
}

asio::awaitable<Reply> remove_file(Call& call, Toolbox& tb) {
  if (auto missing = need(call, call.arg("path"), "path")) co_return *missing;
  const auto path = tb.resolve(*call.arg("path"));
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) co_return errno_reply(call, errno, path);
  if (S_ISDIR(st.st_mode)) {
    if (call.arg("recursive").value_or("") != "true") {
      co_return error_reply(call, http::status::bad_request, "INVALID_FILE_PATH", path + " is a directory; delete it with recursive=true");
    }
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) co_return errno_reply(call, ec.value(), path);
  } else if (unlink(path.c_str()) != 0) {
    co_return errno_reply(call, errno, path);
  }
  co_return empty_reply(http::status::no_content);
}

asio::awaitable<Reply> move(Call& call, Toolbox& tb) {
  if (auto missing = need(call, call.arg("source"), "source")) co_return *missing;
  if (auto missing = need(call, call.arg("destination"), "destination")) co_return *missing;
  const auto from = tb.resolve(*call.arg("source"));
  const auto to = tb.resolve(*call.arg("destination"));
  struct stat st {};
  if (lstat(from.c_str(), &st) != 0) co_return errno_reply(call, errno, from);
  if (lstat(to.c_str(), &st) == 0) co_return errno_reply(call, EEXIST, to);
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec == std::errc::cross_device_link) {
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (!ec) fs::remove_all(from, ec);
  }
  if (ec) co_return errno_reply(call, ec.value(), ec.value() == ENOENT ? fs::path(to).parent_path().string() : to);
  co_return empty_reply(http::status::ok);
}

bool is_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[8000];
  in.read(head, sizeof head);
  return std::memchr(head, '\0', static_cast<std::size_t>(in.gcount())) != nullptr;
}

template <class F>
void walk_files(const std::string& root, F&& each) {
  std::error_code ec;
  struct stat st {};
  if (stat(root.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    each(fs::path(root));
    return;
  }
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) each(it->path());
  }
}

asio::awaitable<Reply> find(Call& call, Toolbox& tb) {
  if (auto missing = need(call, call.arg("path"), "path")) co_return *missing;
  if (auto missing = need(call, call.arg("pattern"), "pattern")) co_return *missing;
  const auto root = tb.resolve(*call.arg("path"));
  const auto pattern = *call.arg("pattern");
  if (access(root.c_str(), F_OK) != 0) co_return errno_reply(call, errno, root);
  json::array matches;
  walk_files(root, [&](const fs::path& file) {
    if (matches.size() >= 10000 || is_binary(file.string())) return;
    std::ifstream in(file);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.find(pattern) != std::string::npos) {
        matches.push_back(json::object{{"file", file.string()}, {"line", n}, {"content", line}});
      }
    }
  });
  co_return json_reply(http::status::ok, matches);
}

asio::awaitable<Reply> search(Call& call, Toolbox& tb) {
  if (auto missing = need(call, call.arg("path"), "path")) co_return *missing;
  if (auto missing = need(call, call.arg("pattern"), "pattern")) co_return *missing;
  const auto root = tb.resolve(*call.arg("path"));
  const auto pattern = *call.arg("pattern");
  if (access(root.c_str(), F_OK) != 0) co_return errno_reply(call, errno, root);
  json::array files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (fnmatch(pattern.c_str(), it->path().filename().c_str(), 0) == 0) files.push_back(json::string(it->path().string()));
  }
  co_return json_reply(http::status::ok, json::object{{"files", files}});
}

asio::awaitable<Reply> replace(Call& call, Toolbox& tb) {
  auto bad = [&](const std::string& m) { return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", m); };
  const auto body = body_object(call);
  if (!body) co_return bad("the body must be a JSON object");
  const auto& o = *body;
  const auto* files = o.if_contains("files");
  const auto* pattern = o.if_contains("pattern");
  const auto* value = o.if_contains("newValue");
  if (files == nullptr || !files->is_array()) co_return bad("files must be an array of paths");
  if (pattern == nullptr || !pattern->is_string() || pattern->as_string().empty()) co_return bad("pattern must be a non-empty string");
  if (value == nullptr || !value->is_string()) co_return bad("newValue must be a string");
  const std::string from(pattern->as_string());
  const std::string to(value->as_string());
  json::array results;
  for (const auto& f : files->as_array()) {
    if (!f.is_string()) co_return bad("files must be an array of paths");
    const auto path = tb.resolve(std::string(f.as_string()));
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      results.push_back(json::object{{"file", path}, {"success", false}, {"error", std::strerror(errno)}});
      continue;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string out;
    std::size_t at = 0;
    for (std::size_t hit; (hit = text.find(from, at)) != std::string::npos; at = hit + from.size()) {
      out.append(text, at, hit - at);
      out += to;
    }
    out.append(text, at);
    std::ofstream w(path, std::ios::binary | std::ios::trunc);
    w << out;
    if (w) results.push_back(json::object{{"file", path}, {"success", true}});
    else results.push_back(json::object{{"file", path}, {"success", false}, {"error", std::strerror(errno)}});
  }
  co_return json_reply(http::status::ok, results);
}

// A user or group: a number, or a name from /etc/passwd or /etc/group.
std::optional<unsigned> id_of(const std::string& text, const char* table) {
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), ::isdigit)) return static_cast<unsigned>(std::stoul(text));
  std::ifstream in(table);
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find(':');
    if (line.substr(0, first) != text) continue;
    const auto second = line.find(':', first + 1);
    const auto third = line.find(':', second + 1);
    try {
      return static_cast<unsigned>(std::stoul(line.substr(second + 1, third - second - 1)));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

asio::awaitable<Reply> permissions(Call& call, Toolbox& tb) {
  if (auto missing = need(call, call.arg("path"), "path")) co_return *missing;
  const auto path = tb.resolve(*call.arg("path"));
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) co_return errno_reply(call, errno, path);
  if (auto m = call.arg("mode"); m && !m->empty()) {
    char* end = nullptr;
    const auto mode = std::strtol(m->c_str(), &end, 8);
    if (*end != '\0' || mode < 0 || mode > 07777) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "mode must be octal, like 644");
    if (chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) co_return errno_reply(call, errno, path);
  }
  const auto owner = call.arg("owner").value_or("");
  const auto group = call.arg("group").value_or("");
  if (!owner.empty() || !group.empty()) {
    const auto uid = id_of(owner, "/etc/passwd");
    const auto gid = id_of(group, "/etc/group");
    if (!owner.empty() && !uid) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "no user " + owner);
    if (!group.empty() && !gid) co_return error_reply(call, http::status::bad_request, "BAD_REQUEST", "no group " + group);
    if (chown(path.c_str(), uid ? *uid : static_cast<uid_t>(-1), gid ? *gid : static_cast<gid_t>(-1)) != 0) {
      co_return errno_reply(call, errno, path);
    }
  }
  co_return empty_reply(http::status::ok);
}

}  // namespace

void register_file_routes(Server& server, Toolbox& tb) {
  using V = http::verb;
  auto add = [&](V method, const char* path, BodyKind body, asio::awaitable<Reply> (*f)(Call&, Toolbox&)) {
    server.add({method, path, body, [&tb, f](Call& c) { return f(c, tb); }});
  };
  add(V::get, "/files", BodyKind::none, list_files);
  add(V::get, "/files/info", BodyKind::none, info);
  add(V::post, "/files/folder", BodyKind::none, folder);
  add(V::delete_, "/files", BodyKind::none, remove_file);
  add(V::post, "/files/move", BodyKind::none, move);
  add(V::post, "/files/bulk-upload", BodyKind::file, bulk_upload);
  add(V::post, "/files/bulk-download", BodyKind::text, bulk_download);
  add(V::get, "/files/find", BodyKind::none, find);
  add(V::get, "/files/search", BodyKind::none, search);
  add(V::post, "/files/replace", BodyKind::text, replace);
  add(V::post, "/files/permissions", BodyKind::none, permissions);
}

}  // namespace daemon_tb
