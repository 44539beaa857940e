#include "daemon/multipart.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>

namespace daemon_tb {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// A parameter of a header value: name="value" or name=value.
std::optional<std::string> header_param(std::string_view value, std::string_view param) {
  const auto low = lower(value);
  std::size_t at = 0;
  while ((at = low.find(std::string(param) + "=", at)) != std::string::npos) {
    const bool starts = at == 0 || low[at - 1] == ';' || low[at - 1] == ' ';
    at += param.size() + 1;
    if (!starts) continue;
    if (at < value.size() && value[at] == '"') {
      std::string out;
      for (std::size_t i = at + 1; i < value.size() && value[i] != '"'; ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        out += value[i];
      }
      return out;
    }
    const auto end = value.find(';', at);
    return std::string(value.substr(at, end == std::string_view::npos ? value.size() - at : end - at));
  }
  return std::nullopt;
}

PartHeaders parse_headers(std::string_view block) {
  PartHeaders h;
  while (!block.empty()) {
    const auto nl = block.find("\r\n");
    const auto line = block.substr(0, nl);
    block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto key = lower(line.substr(0, colon));
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (key == "content-disposition") {
      h.name = header_param(value, "name").value_or("");
      h.filename = header_param(value, "filename");
    } else if (key == "content-type") {
      h.content_type = std::string(value);
    }
  }
  return h;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  if (lower(content_type).rfind("multipart/", 0) != 0) return std::nullopt;
  auto b = header_param(content_type, "boundary");
  if (!b || b->empty()) return std::nullopt;
  return b;
}

std::optional<std::string> read_multipart(const std::string& file, const std::string& boundary,
                                          const std::function<PartSink(const PartHeaders&)>& begin) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "the upload could not be read back";
  const std::string delimiter = "\r\n--" + boundary;
  std::string buf = "\r\n";  // so the first delimiter looks like every other one
  char chunk[65536];
  auto fill = [&]() {
    in.read(chunk, sizeof chunk);
    const auto n = in.gcount();
    buf.append(chunk, static_cast<std::size_t>(n));
    return n > 0;
  };
  // The preamble, up to the first delimiter.
  std::size_t at;
  while ((at = buf.find(delimiter)) == std::string::npos) {
    if (buf.size() > delimiter.size()) buf.erase(0, buf.size() - delimiter.size());
    if (!fill()) return "the body has no part with boundary " + boundary;
  }
  buf.erase(0, at + delimiter.size());
  for (;;) {
    while (buf.size() < 2 && fill()) {
    }
    if (buf.rfind("--", 0) == 0) return std::nullopt;  // the closing delimiter
    if (buf.rfind("\r\n", 0) != 0) return "a part delimiter is not followed by a line end";
    buf.erase(0, 2);
    std::size_t end_of_headers;
    while ((end_of_headers = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > std::size_t{64} * 1024) return "a part's headers are too long";
      if (!fill()) return "the body ends inside a part's headers";
    }
    const auto headers = parse_headers(std::string_view(buf).substr(0, end_of_headers));
    buf.erase(0, end_of_headers + 4);
    auto sink = begin(headers);
    bool writing = true;
    for (;;) {
      at = buf.find(delimiter);
      if (at != std::string::npos) {
        if (writing && sink.data) sink.data(std::string_view(buf).substr(0, at));  // the part ends here either way
        buf.erase(0, at + delimiter.size());
        break;
      }
      // Keep what could be the start of a delimiter; hand over the rest.
      if (buf.size() > delimiter.size()) {
        const auto safe = buf.size() - delimiter.size();
        if (writing && sink.data) writing = sink.data(std::string_view(buf).substr(0, safe));
        buf.erase(0, safe);
      }
      if (!fill()) return "the body ends inside a part";
    }
    if (sink.end) sink.end();
  }
}

std::string part_head(const std::string& boundary, const std::string& name, const std::string& filename,
                      const std::string& content_type) {
  std::string escaped;
  bool ascii = true;
  for (unsigned char c : filename) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += static_cast<char>(c);
    ascii &= c >= 0x20 && c < 0x7f;
  }
  std::string head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + escaped + "\"";
  if (!ascii) {
    static const char* kHex = "0123456789ABCDEF";
    std::string encoded;
    for (unsigned char c : filename) {
      if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '/') {
        encoded += static_cast<char>(c);
      } else {
        encoded += '%';
        encoded += kHex[c >> 4];
        encoded += kHex[c & 15];
      }
    }
    head += "; filename*=utf-8''" + encoded;
  }
  return head + "\r\nContent-Type: " + content_type + "\r\n\r\n";
}

}  // namespace daemon_tb
