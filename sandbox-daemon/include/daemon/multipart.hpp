#pragma once
// multipart/form-data, read from a file part by part and chunk by chunk (an upload is never
// held in memory), and the part headers of the multipart responses the daemon writes.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace daemon_tb {

struct PartHeaders {
  std::string name;                    // Content-Disposition name
  std::optional<std::string> filename;
  std::string content_type;
};

struct PartSink {
  std::function<bool(std::string_view)> data;  // false: stop (the error is the sink's to keep)
  std::function<void()> end;
};

// The boundary of a multipart Content-Type, or nothing when it has none.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Calls `begin` for each part and feeds its body to the sink `begin` returns. An error message
// when the body is not well-formed multipart.
std::optional<std::string> read_multipart(const std::string& file, const std::string& boundary,
                                          const std::function<PartSink(const PartHeaders&)>& begin);

// A part's headers: Content-Disposition form-data with name and filename (quoted, plus a
// filename* for names that are not plain ASCII), then Content-Type.
std::string part_head(const std::string& boundary, const std::string& name, const std::string& filename,
                      const std::string& content_type);

}  // namespace daemon_tb
