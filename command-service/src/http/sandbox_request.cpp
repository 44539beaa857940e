#include "command_service/http/sandbox_request.hpp"
#include "command_service/http/network_request.hpp"
#include "events/deciders/validate.hpp"

namespace command_service {

namespace json = boost::json;
using events::ErrorCode;
using events::make_error;

namespace {

events::Error bad(std::string message) { return make_error(ErrorCode::invalid_argument, std::move(message)); }

events::Result<json::object> parse_object(std::string_view body) {
  if (body.empty()) return json::object{};
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec) return bad("request body is not valid JSON: " + ec.message());
  if (!v.is_object()) return bad("request body must be a JSON object");
  return std::move(v.as_object());
}

std::optional<events::Error> read_int(const json::object& o, const char* field, int& out, bool allow_null = true) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || (allow_null && v->is_null())) return std::nullopt;
  if (v->is_int64() && v->as_int64() >= INT32_MIN && v->as_int64() <= INT32_MAX) {
    out = static_cast<int>(v->as_int64());
    return std::nullopt;
  }
  if (v->is_uint64() && v->as_uint64() <= INT32_MAX) {
    out = static_cast<int>(v->as_uint64());
    return std::nullopt;
  }
  if (v->is_double() && v->as_double() == static_cast<int>(v->as_double())) {
    out = static_cast<int>(v->as_double());
    return std::nullopt;
  }
  return bad(std::string(field) + " must be an integer");
}

std::optional<events::Error> read_bool(const json::object& o, const char* field, bool& out) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_bool()) return bad(std::string(field) + " must be true or false");
  out = v->as_bool();
  return std::nullopt;
}

std::optional<events::Error> read_string(const json::object& o, const char* field, std::string& out) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) return bad(std::string(field) + " must be a string");
  out = std::string(v->as_string());
  return std::nullopt;
}

}  // namespace

events::Result<events::StringMap> string_map(const json::value& v, std::string_view field) {
  if (v.is_null()) return events::StringMap{};
  if (!v.is_object()) return bad(std::string(field) + " must be an object of strings");
  events::StringMap out;
  for (const auto& [k, val] : v.as_object()) {
    if (!val.is_string()) return bad(std::string(field) + "." + std::string(k) + " must be a string");
    out[std::string(k)] = std::string(val.as_string());
  }
  return out;
}

events::Result<events::SandboxCreated> parse_create_sandbox(std::string_view body, const events::SandboxId& id,
                                                            const events::OrganizationId& org,
                                                            const CreateDefaults& defaults) {
  auto parsed = parse_object(body);
  if (!parsed) return parsed.error();
  const auto& o = *parsed;
  // The network fields are read here too (every field of the body is checked in one place);
  // the create applies them with the organization's defaults and limit (create_network).
  if (auto network = parse_network_request(o); !network) return network.error();
  events::SandboxCreated c;
  c.sandbox_id = id;
  c.organization_id = org;
  c.name = id.str();
  c.snapshot = defaults.snapshot;
  c.user = defaults.user;
  c.region = defaults.region;
  for (auto bad_field : {read_string(o, "name", c.name), read_string(o, "snapshot", c.snapshot),
                         read_string(o, "user", c.user), read_string(o, "target", c.region),
                         read_int(o, "cpu", c.resources.cpu), read_int(o, "gpu", c.resources.gpu),
                         read_int(o, "memory", c.resources.memory_gib), read_int(o, "disk", c.resources.disk_gib),
                         read_int(o, "autoStopInterval", c.auto_stop_minutes),
                         read_int(o, "autoArchiveInterval", c.auto_archive_minutes),
                         read_int(o, "autoDeleteInterval", c.auto_delete_minutes),
                         read_bool(o, "public", c.is_public), read_bool(o, "networkBlockAll", c.network_block_all)}) {
    if (bad_field) return *bad_field;
  }
  if (auto problem = events::validate::sandbox_name(c.name)) return *problem;
  if (c.snapshot.empty()) c.snapshot = defaults.snapshot;
  if (c.region.empty()) c.region = defaults.region;
  bool ephemeral = false;
  if (auto e = read_bool(o, "ephemeral", ephemeral)) return *e;
  if (ephemeral) c.auto_delete_minutes = 0;
  if (const auto* env = o.if_contains("env")) {
    auto m = string_map(*env, "env");
    if (!m) return m.error();
    c.env = std::move(*m);
  }
  if (const auto* labels = o.if_contains("labels")) {
    auto m = string_map(*labels, "labels");
    if (!m) return m.error();
    c.labels = std::move(*m);
  }
  if (!c.labels.contains("code-toolbox-language")) c.labels["code-toolbox-language"] = "python";
  const auto& language = c.labels["code-toolbox-language"];
  if (language != "python" && language != "javascript" && language != "typescript") {
    return bad("labels.code-toolbox-language must be python, javascript or typescript, got '" + language + "'");
  }
  if (const auto* volumes = o.if_contains("volumes"); volumes != nullptr && !volumes->is_null()) {
    if (!volumes->is_array()) return bad("volumes must be an array of {volumeId, mountPath, subpath?}");
    for (std::size_t i = 0; i < volumes->as_array().size(); ++i) {
      const auto& item = volumes->as_array()[i];
      const std::string where = "volumes[" + std::to_string(i) + "]";
      if (!item.is_object()) return bad(where + " must be an object");
      const auto& vo = item.as_object();
      std::string volume_id;
      events::VolumeMount m;
      for (auto e : {read_string(vo, "volumeId", volume_id), read_string(vo, "mountPath", m.mount_path),
                     read_string(vo, "subpath", m.subpath)}) {
        if (e) return bad(where + "." + e->message);
      }
      auto vid = events::VolumeId::parse(volume_id);
      if (!vid) return bad(where + ".volumeId: " + vid.error().message);
      m.volume_id = *vid;
      c.volumes.push_back(std::move(m));
    }
  }
  if (const auto* build = o.if_contains("buildInfo"); build != nullptr && !build->is_null()) {
    if (!build->is_object()) return bad("buildInfo must be an object {dockerfileContent?}");
    std::string dockerfile;
    if (auto e = read_string(build->as_object(), "dockerfileContent", dockerfile)) return bad("buildInfo." + e->message);
    if (!dockerfile.empty()) c.dockerfile = dockerfile;
  }
  return c;
}

events::Result<events::StringMap> parse_labels_body(std::string_view body) {
  auto parsed = parse_object(body);
  if (!parsed) return parsed.error();
  const auto* labels = parsed->if_contains("labels");
  if (labels == nullptr) return bad("labels is required");
  return string_map(*labels, "labels");
}

}  // namespace command_service
