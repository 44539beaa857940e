// Bulk upload and download (compat spec §3.2): multipart both ways, streamed — an upload is read
// back from the temp file its body went to, a download is written in 64 KiB chunks.
#include "daemon/multipart.hpp"
#include "daemon/toolbox.hpp"
#include "files.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace daemon_tb {

namespace fs = std::filesystem;

namespace {

// Writes one uploaded file; parent directories are made, an existing file is replaced.
struct UploadTarget {
  std::string path;
  std::ofstream out;
  std::string error;
  std::int64_t bytes = 0;
};

}  // namespace

asio::awaitable<Reply> bulk_upload(Call& call, Toolbox& tb) {
  const auto boundary = multipart_boundary(std::string(call.header[http::field::content_type]));
  if (!boundary) co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "the body must be multipart/form-data with a boundary");
  std::map<std::string, std::string> paths;           // "files[i]" -> destination
  std::map<std::string, std::string> parked;          // "files[i]" -> temp file (file before its path)
  std::vector<std::shared_ptr<UploadTarget>> written;
  std::string field_value;
  auto open_target = [&](const std::string& path) {
    auto t = std::make_shared<UploadTarget>();
    t->path = path;
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    t->out.open(path, std::ios::binary | std::ios::trunc);
    if (!t->out) t->error = std::string(std::strerror(errno)) + ": " + path;
    return t;
  };
  auto malformed = read_multipart(call.body_file, *boundary, [&](const PartHeaders& h) -> PartSink {
    const auto dot = h.name.rfind('.');
    const auto key = h.name.substr(0, dot);
    const auto field = dot == std::string::npos ? "" : h.name.substr(dot + 1);
    if (field == "path") {
      field_value.clear();
      return {[&](std::string_view d) { field_value.append(d); return field_value.size() < 65536; },
              [&, key] { paths[key] = tb.resolve(field_value); }};
    }
    if (field != "file" && !h.filename) return {};
    std::shared_ptr<UploadTarget> target;
    if (auto p = paths.find(key); p != paths.end()) {
      target = open_target(p->second);
    } else {
      char name[] = "/tmp/.daemon-part-XXXXXX";
      const int fd = mkstemp(name);
      if (fd >= 0) close(fd);
      parked[key] = name;
      target = open_target(name);
    }
    written.push_back(target);
    return {[target](std::string_view d) {
              target->out.write(d.data(), static_cast<std::streamsize>(d.size()));
              target->bytes += static_cast<std::int64_t>(d.size());
              return static_cast<bool>(target->out);
            },
            [target] { target->out.close(); }};
  });
  json::array files;
  json::array errors;
  for (const auto& [key, temp] : parked) {
    auto dest = paths.find(key);
    std::error_code ec;
    if (dest == paths.end()) {
      errors.push_back(json::string("part " + key + ".file has no " + key + ".path"));
      fs::remove(temp, ec);
      continue;
    }
    fs::create_directories(fs::path(dest->second).parent_path(), ec);
    fs::rename(temp, dest->second, ec);
    if (ec) {
      fs::copy_file(temp, dest->second, fs::copy_options::overwrite_existing, ec);
      fs::remove(temp);
    }
    if (ec) errors.push_back(json::string(ec.message() + ": " + dest->second));
    for (auto& w : written) {
      if (w->path == temp) w->path = dest->second;
    }
  }
  for (const auto& w : written) {
    if (!w->error.empty()) errors.push_back(json::string(w->error));
    else files.push_back(json::object{{"path", w->path}, {"bytes", w->bytes}});
  }
  if (malformed) co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", *malformed);
  if (!errors.empty()) {
    auto r = error_reply(call, http::status::bad_request, "FILE_WRITE_FAILED", json::value_to<std::string>(errors.front()));
    co_return r;
  }
  co_return json_reply(http::status::ok, json::object{{"files", files}});
}

// Callers pass named strings: g++ 12 destroys temporaries in a co_await expression twice.
static asio::awaitable<void> write_chunk(tcp::socket& s, std::string_view data) {
  if (data.empty()) co_return;
  co_await asio::async_write(s, http::make_chunk(asio::buffer(data.data(), data.size())), asio::use_awaitable);
}

asio::awaitable<Reply> bulk_download(Call& call, Toolbox& tb) {
  const auto body = body_object(call);
  const json::array* paths = nullptr;
  if (body) {
    if (const auto* p = body->if_contains("paths"); p != nullptr && p->is_array()) paths = &p->as_array();
  }
  if (paths == nullptr || paths->empty()) {
    co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "paths must be a non-empty array of strings");
  }
  for (const auto& p : *paths) {
    if (!p.is_string()) co_return error_reply(call, http::status::bad_request, "INVALID_REQUEST_BODY", "paths must be strings");
  }
  const std::string boundary = "daytona-files-" + std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));
  http::response<http::empty_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "multipart/form-data; boundary=" + boundary);
  res.chunked(true);
  res.keep_alive(call.keep_alive);
  http::response_serializer<http::empty_body> sr{res};
  auto& socket = *call.socket;
  co_await http::async_write_header(socket, sr, asio::use_awaitable);
  call.replied = true;
  std::vector<char> chunk(64 * 1024);
  for (const auto& p : *paths) {
    const std::string requested(p.as_string());
    const auto path = tb.resolve(requested);
    struct stat st {};
    int err = stat(path.c_str(), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    std::ifstream in;
    if (err == 0) {
      in.open(path, std::ios::binary);
      if (!in) err = errno != 0 ? errno : EACCES;
    }
    if (err != 0) {
      const auto e = errno_reply(call, err, requested);
      const auto part = part_head(boundary, "error", requested, "application/json") + e.body + "\r\n";
      co_await write_chunk(socket, part);
      continue;
    }
    const auto head = part_head(boundary, "file", requested, "application/octet-stream");
    co_await write_chunk(socket, head);
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      co_await write_chunk(socket, std::string_view(chunk.data(), static_cast<std::size_t>(in.gcount())));
    }
    co_await write_chunk(socket, "\r\n");
  }
  const auto closing = "--" + boundary + "--\r\n";
  co_await write_chunk(socket, closing);
  co_await asio::async_write(socket, http::make_chunk_last(), asio::use_awaitable);
  co_return Reply{};
}

}  // namespace daemon_tb
