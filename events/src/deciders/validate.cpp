#include "events/deciders/validate.hpp"

#include "events/text.hpp"

#include <cctype>
#include <set>

namespace events::validate {
namespace {

Error bad(std::string message) { return make_error(ErrorCode::invalid_argument, std::move(message)); }

constexpr int kMaxMinutes = 60 * 24 * 365 * 10;  // ten years

}  // namespace

std::optional<Error> resources(const Resources& r) {
  if (r.cpu < 1 || r.cpu > 64) return bad("cpu must be between 1 and 64, got " + std::to_string(r.cpu));
  if (r.gpu < 0 || r.gpu > 8) return bad("gpu must be between 0 and 8, got " + std::to_string(r.gpu));
  if (r.memory_gib < 1 || r.memory_gib > 256) {
    return bad("memory must be between 1 and 256 GiB, got " + std::to_string(r.memory_gib));
  }
  if (r.disk_gib < 1 || r.disk_gib > 1024) {
    return bad("disk must be between 1 and 1024 GiB, got " + std::to_string(r.disk_gib));
  }
  return std::nullopt;
}

std::optional<Error> env(const StringMap& env) {
  if (env.size() > kMaxEnvVariables) {
    return bad("env has " + std::to_string(env.size()) + " variables; the limit is " + std::to_string(kMaxEnvVariables));
  }
  std::size_t total = 0;
  for (const auto& [key, value] : env) {
    bool ok = !key.empty() && key.size() <= 256 && (std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_');
    for (char c : key) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!ok) return bad("env key '" + key.substr(0, 64) + "' must match ^[A-Za-z_][A-Za-z0-9_]*$ (at most 256 characters)");
    if (value.find('\0') != std::string::npos) return bad("env value of '" + key + "' contains a NUL byte");
    if (value.size() > kMaxEnvValueBytes) {
      return bad("env value of '" + key + "' is " + std::to_string(value.size()) + " bytes; the limit is " +
                 std::to_string(kMaxEnvValueBytes) + " bytes per value");
    }
    total += key.size() + value.size() + 2;
  }
  if (total > kMaxEnvBytes) {
    return bad("env is " + std::to_string(total) + " bytes (keys and values); the limit is " +
               std::to_string(kMaxEnvBytes) + " bytes");
  }
  return std::nullopt;
}

std::optional<Error> labels(const StringMap& labels) {
  if (labels.size() > kMaxLabels) {
    return bad("there are " + std::to_string(labels.size()) + " labels; the limit is " + std::to_string(kMaxLabels));
  }
  std::size_t total = 0;
  for (const auto& [key, value] : labels) {
    if (key.empty() || key.size() > 253) return bad("label keys must be 1 to 253 characters");
    if (value.size() > 1024) return bad("label '" + key + "' is longer than 1024 characters");
    if (auto problem = text::line_problem(key)) return bad("a label key " + *problem);
    if (auto problem = text::line_problem(value)) return bad("label '" + key + "' " + *problem);
    total += key.size() + value.size();
  }
  if (total > kMaxLabelBytes) {
    return bad("labels are " + std::to_string(total) + " bytes; the limit is " + std::to_string(kMaxLabelBytes) +
               " bytes");
  }
  return std::nullopt;
}

std::optional<Error> sandbox_name(std::string_view value) {
  if (auto problem = name("name", value)) return problem;
  if (!std::isalnum(static_cast<unsigned char>(value.front()))) {
    return bad("name '" + std::string(value) + "' must start with a letter or a digit");
  }
  return std::nullopt;
}

std::optional<Error> timer(LifecycleTimer t, int minutes) {
  const int lowest = t == LifecycleTimer::auto_delete ? -1 : 0;
  if (minutes < lowest || minutes > kMaxMinutes) {
    return bad(std::string(to_string(t)) + " interval must be between " + std::to_string(lowest) +
               " and " + std::to_string(kMaxMinutes) + " minutes, got " + std::to_string(minutes));
  }
  return std::nullopt;
}

std::optional<Error> volumes(const std::vector<VolumeMount>& volumes) {
  std::set<std::string> paths;
  for (const auto& v : volumes) {
    if (v.mount_path.empty() || v.mount_path[0] != '/') {
      return bad("volume mountPath '" + v.mount_path + "' must be an absolute path");
    }
    if (v.mount_path == "/" || v.mount_path.find("..") != std::string::npos) {
      return bad("volume mountPath '" + v.mount_path + "' is not allowed");
    }
    if (v.subpath.find("..") != std::string::npos || (!v.subpath.empty() && v.subpath[0] == '/')) {
      return bad("volume subpath '" + v.subpath + "' must be relative and stay inside the volume");
    }
    if (!paths.insert(v.mount_path).second) {
      return bad("two volumes are mounted at '" + v.mount_path + "'");
    }
  }
  return std::nullopt;
}

std::optional<Error> name(std::string_view field, std::string_view value) {
  if (value.empty() || value.size() > 63) {
    return bad(std::string(field) + " must be 1 to 63 characters");
  }
  for (char c : value) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return bad(std::string(field) + " '" + std::string(value) +
                 "' may contain only letters, digits, '-', '_' and '.'");
    }
  }
  return std::nullopt;
}

}  // namespace events::validate
