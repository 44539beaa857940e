// Volumes (compat spec §2.3) and snapshots (§2.4).
#include "command_service/http/api.hpp"
#include "events/store/sql.hpp"
#include "command_service/http/route_support.hpp"
#include "command_service/http/dto.hpp"
#include "projector/queries/snapshots_volumes.hpp"
#include "events/api_keys.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/snapshot.hpp"
#include "events/deciders/validate.hpp"
#include "events/deciders/volume.hpp"
#include "events/image_source.hpp"
#include "events/text.hpp"

#include <pqxx/pqxx>

namespace command_service {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace events;
namespace queries = projector::queries;

namespace {

dto::Nullable<std::string> nullable(const std::optional<std::string>& text) {
  return text ? dto::Nullable<std::string>{*text} : dto::Nullable<std::string>{};
}

// ---- volumes ----

json::object volume_dto(const queries::VolumeRow& r) {
  const dto::Volume v{r.id, r.name, r.organization_id, r.state, r.created_at, r.updated_at, nullable(r.last_used_at),
                      nullable(r.error_reason)};
  return events::http::to_object(v);
}

// By id or by name: the organization's own, not deleted.
Result<json::object> find_volume(DbContext& db, const std::string& org, bool by_name, const std::string& key) {
  pqxx::nontransaction tx(db.conn);
  const auto row = by_name ? queries::volume_named(tx, org, key) : queries::volume_by_id(tx, org, key);
  if (!row) return make_error(ErrorCode::not_found, "Volume " + key + " not found");
  return volume_dto(*row);
}

template <class Command>
Result<std::int64_t> volume_command(DbContext& db, const Call& call, const VolumeId& id, const Command& c) {
  auto executed = execute<VolumeEvent, volume::State>(
      db.store, StreamName::of("volume", id), metadata_for(call),
      [&](const volume::State& s) -> Result<volume::Events> {
        // A create is judged by the decider; anything else needs a volume the caller may change.
        constexpr bool creates = std::is_same_v<Command, volume::Create>;
        if (!creates && (!s.exists || !may(call, access::Action::change, access::owned(access::Kind::volume, s.organization_id)))) {
          return make_error(ErrorCode::not_found, "Volume " + id.str() + " not found");
        }
        return volume::decide(c, s);
      },
      [](volume::State s, const VolumeEvent& e) { return volume::evolve(std::move(s), e); });
  if (!executed) return executed.error();
  return executed->appended ? executed->appended->last.value() : std::int64_t{0};
}

asio::awaitable<Response> create_volume(Services& s, Call& call) {
  boost::system::error_code ec;
  auto body = json::parse(call.request.body(), ec);
  if (ec || !body.is_object() || !body.as_object().contains("name") || !body.as_object().at("name").is_string()) {
    co_return error_response(http::status::bad_request, "body must be {\"name\": string}");
  }
  const std::string name(body.as_object().at("name").as_string());
  const auto id = VolumeId::generate();
  auto position = co_await s.db.run([&](DbContext& db) -> Result<std::int64_t> {
    if (find_volume(db, call.organization_id, true, name)) {
      return make_error(ErrorCode::already_exists, "a volume named '" + name + "' already exists");
    }
    return volume_command(db, call, id, volume::Create{VolumeCreated{id, OrganizationId{call.organization_id}, name}});
  });
  if (!position) co_return error_for(position.error());
  co_await wait_for_projection(s, "volumes", *position);
  auto dto = co_await s.db.run([&](DbContext& db) { return find_volume(db, call.organization_id, false, id.str()); });
  if (!dto) co_return error_for(dto.error());
  co_return json_response(http::status::ok, *dto);
}

asio::awaitable<Response> get_volume(Services& s, Call& call, bool by_name) {
  const auto key = by_name ? call.path.at("name") : call.path.at("volumeId");
  if (!by_name && !VolumeId::parse(key)) co_return error_response(http::status::not_found, "Volume " + key + " not found");
  if (!by_name) {
    const auto last = co_await s.db.run([&](DbContext& db) { return last_position_of(db, "volume-" + key); });
    co_await wait_for_projection(s, "volumes", last);
  }
  auto dto = co_await s.db.run([&](DbContext& db) {
    return find_volume(db, call.organization_id, by_name, key);
  });
  if (!dto) co_return error_for(dto.error());
  co_return json_response(http::status::ok, *dto);
}

asio::awaitable<Response> list_volumes(Services& s, Call& call) {
  auto items = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    json::array out;
    for (const auto& r : queries::volumes(tx, call.organization_id)) out.push_back(volume_dto(r));
    return out;
  });
  co_return json_response(http::status::ok, items);
}

asio::awaitable<Response> delete_volume(Services& s, Call& call) {
  auto id = VolumeId::parse(call.path.at("volumeId"));
  if (!id) co_return error_response(http::status::not_found, "Volume " + call.path.at("volumeId") + " not found");
  auto position = co_await s.db.run([&](DbContext& db) { return volume_command(db, call, *id, volume::Delete{}); });
  if (!position) co_return error_for(position.error());
  co_return json_response(http::status::ok, json::object{{"id", id->str()}});
}

// ---- snapshots ----

json::object snapshot_dto(const queries::SnapshotRow& r) {
  dto::Snapshot out;
  out.id = r.id;
  out.organizationId = nullable(r.organization_id);
  out.general = !r.organization_id;
  out.name = r.name;
  out.imageName = r.image_name;
  out.state = r.state;
  if (r.size_bytes) out.size = static_cast<double>(*r.size_bytes) / (1024.0 * 1024 * 1024);
  out.entrypoint = r.entrypoint;
  out.cpu = r.cpu;
  out.gpu = r.gpu;
  out.mem = r.memory_gib;
  out.disk = r.disk_gib;
  out.errorReason = nullable(r.error_reason);
  out.createdAt = r.created_at;
  out.updatedAt = r.updated_at;
  return events::http::to_object(out);
}

// The default snapshot: the runner's host userland, which every create uses unless it names
// another. It is no image and has no stream; it is listed and found so that clients see what
// their sandboxes run from (snapshot.list(), snapshot.get('default')).
const std::string kDefaultSnapshotId = uuid_of_text("snapshot:default");

json::object default_snapshot_dto() {
  const Resources r;
  dto::Snapshot out;
  out.id = kDefaultSnapshotId;
  out.general = true;
  out.name = "default";
  out.imageName = "host userland (the runner's /usr and /etc, read-only)";
  out.state = "active";
  out.cpu = r.cpu;
  out.gpu = r.gpu;
  out.mem = r.memory_gib;
  out.disk = r.disk_gib;
  out.createdAt = "1970-01-01T00:00:00.000Z";
  out.updatedAt = "1970-01-01T00:00:00.000Z";
  return events::http::to_object(out);
}

// By id or name; the organization's own, or a general one.
Result<json::object> find_snapshot(DbContext& db, const std::string& org, const std::string& id_or_name) {
  if (id_or_name == "default" || id_or_name == kDefaultSnapshotId) return default_snapshot_dto();
  pqxx::nontransaction tx(db.conn);
  const auto row = queries::snapshot(tx, org, id_or_name);
  if (!row) return make_error(ErrorCode::not_found, "Snapshot " + id_or_name + " not found");
  return snapshot_dto(*row);
}

template <class Command>
Result<std::int64_t> snapshot_command(DbContext& db, const Call& call, const SnapshotId& id, const Command& c) {
  auto executed = execute<SnapshotEvent, snapshot::State>(
      db.store, StreamName::of("snapshot", id), metadata_for(call),
      [&](const snapshot::State& s) -> Result<snapshot::Events> {
        constexpr bool creates = std::is_same_v<Command, snapshot::Create>;
        if (!creates && (!s.exists || !may(call, access::Action::change,
                                           access::owned(access::Kind::snapshot, s.spec.organization_id)))) {
          return make_error(ErrorCode::not_found, "Snapshot " + id.str() + " not found");
        }
        return snapshot::decide(c, s);
      },
      [](snapshot::State s, const SnapshotEvent& e) { return snapshot::evolve(std::move(s), e); });
  if (!executed) return executed.error();
  return executed->appended ? executed->appended->last.value() : std::int64_t{0};
}

// Snapshot names read like image references (Daytona names them "daytonaio/sandbox:0.4.3").
bool valid_snapshot_name(std::string_view name) { return text::plain_name(name, 255, "._-/:@"); }

Result<SnapshotCreated> parse_snapshot(std::string_view text, const std::string& org) {
  auto bad = [](std::string m) { return make_error(ErrorCode::invalid_argument, std::move(m)); };
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return bad("request body is not valid JSON: " + ec.message());
  if (!v.is_object()) return bad("request body must be a JSON object");
  const auto& o = v.as_object();
  SnapshotCreated c;
  c.snapshot_id = SnapshotId::generate();
  c.organization_id = OrganizationId{org};
  auto text_field = [&](const char* f, std::string& out) -> std::optional<Error> {
    const auto* x = o.if_contains(f);
    if (x == nullptr || x->is_null()) return std::nullopt;
    if (!x->is_string()) return bad(std::string(f) + " must be a string");
    out = std::string(x->as_string());
    return std::nullopt;
  };
  auto int_field = [&](const char* f, int& out) -> std::optional<Error> {
    const auto* x = o.if_contains(f);
    if (x == nullptr || x->is_null()) return std::nullopt;
    if (!x->is_int64()) return bad(std::string(f) + " must be an integer");
    out = static_cast<int>(x->as_int64());
    return std::nullopt;
  };
  for (auto e : {text_field("name", c.name), text_field("imageName", c.image_name), int_field("cpu", c.resources.cpu),
                 int_field("gpu", c.resources.gpu), int_field("memory", c.resources.memory_gib),
                 int_field("disk", c.resources.disk_gib)}) {
    if (e) return *e;
  }
  if (const auto* ep = o.if_contains("entrypoint"); ep != nullptr && !ep->is_null()) {
    if (!ep->is_array()) return bad("entrypoint must be an array of strings");
    for (const auto& part : ep->as_array()) {
      if (!part.is_string()) return bad("entrypoint must be an array of strings");
      c.entrypoint.emplace_back(part.as_string());
    }
  }
  if (c.image_name.empty() && o.contains("buildInfo")) {
    return bad("building snapshots from a Dockerfile is not supported yet; give imageName");
  }
  if (!valid_snapshot_name(c.name)) {
    return bad("name must be 1 to 255 of letters, digits and . _ - / : @");
  }
  return c;
}

// The image a snapshot is made from, as the platform will read it: a host path only inside the
// operator's allowed directories, another snapshot only when the caller may use it (stored by id).
Result<std::string> image_to_import(DbContext& db, const Call& call, const ApiSettings& settings,
                                    const std::string& image_name) {
  auto source = images::parse(image_name, settings.snapshot_import_dirs);
  if (!source) return source.error();
  if (source->form != images::Form::snapshot) return images::to_image_name(*source);
  auto from = find_snapshot(db, call.organization_id, source->location);
  const auto* owner = from ? from->if_contains("organizationId") : nullptr;
  std::optional<OrganizationId> owner_id;
  if (owner != nullptr && owner->is_string()) owner_id = OrganizationId{std::string(owner->as_string())};
  if (!from || !may(call, access::Action::use, access::owned(access::Kind::snapshot, owner_id))) {
    return make_error(ErrorCode::not_found, "Snapshot " + source->location + " not found");
  }
  if (from->at("state").as_string() != "active") {
    return make_error(ErrorCode::invalid_argument, "Snapshot " + source->location + " is not active");
  }
  source->location = std::string(from->at("id").as_string());
  return images::to_image_name(*source);
}

asio::awaitable<Response> create_snapshot(Services& s, Call& call) {
  auto spec = parse_snapshot(call.request.body(), call.organization_id);
  if (!spec) co_return error_for(spec.error());
  auto position = co_await s.db.run([&](DbContext& db) -> Result<std::int64_t> {
    if (find_snapshot(db, call.organization_id, spec->name) || spec->name == "default") {
      return make_error(ErrorCode::already_exists, "a snapshot named '" + spec->name + "' already exists");
    }
    auto image = image_to_import(db, call, s.settings, spec->image_name);
    if (!image) return image.error();
    spec->image_name = *image;
    return snapshot_command(db, call, spec->snapshot_id, snapshot::Create{*spec});
  });
  if (!position) co_return error_for(position.error());
  co_await wait_for_projection(s, "snapshots", *position);
  auto dto = co_await s.db.run([&](DbContext& db) { return find_snapshot(db, call.organization_id, spec->snapshot_id.str()); });
  if (!dto) co_return error_for(dto.error());
  co_return json_response(http::status::ok, *dto);
}

asio::awaitable<Response> get_snapshot(Services& s, Call& call) {
  const auto key = call.path.at("snapshotIdOrName");
  if (SnapshotId::parse(key)) {
    const auto last = co_await s.db.run([&](DbContext& db) { return last_position_of(db, "snapshot-" + key); });
    co_await wait_for_projection(s, "snapshots", last);
  }
  auto dto = co_await s.db.run([&](DbContext& db) { return find_snapshot(db, call.organization_id, key); });
  if (!dto) co_return error_for(dto.error());
  co_return json_response(http::status::ok, *dto);
}

asio::awaitable<Response> list_snapshots(Services& s, Call& call) {
  int page = 1;
  int limit = 100;
  try {
    if (auto p = call.query_one("page")) page = std::stoi(*p);
    if (auto l = call.query_one("limit")) limit = std::stoi(*l);
  } catch (const std::exception&) {
    page = -1;
  }
  if (page < 1 || limit < 1 || limit > 1000) {
    co_return error_response(http::status::bad_request, "page must be >= 1 and limit 1 to 1000");
  }
  auto body = co_await s.db.run([&](DbContext& db) {
    pqxx::nontransaction tx(db.conn);
    // The default snapshot comes first, then the stored ones by name.
    const auto total = queries::snapshot_count(tx, call.organization_id) + 1;
    json::array items;
    if (page == 1) items.push_back(default_snapshot_dto());
    const int skip = std::max(0, (page - 1) * limit - 1);
    const int take = page == 1 ? limit - 1 : limit;
    for (const auto& r : queries::snapshots(tx, call.organization_id, skip, take)) items.push_back(snapshot_dto(r));
    return json::object{{"items", std::move(items)},
                        {"total", total},
                        {"page", page},
                        {"totalPages", (total + limit - 1) / limit}};
  });
  co_return json_response(http::status::ok, body);
}

template <class Command>
asio::awaitable<Response> snapshot_change(Services& s, Call& call) {
  const auto key = call.path.at("snapshotId");
  auto id = SnapshotId::parse(key);
  if (!id) co_return error_response(http::status::not_found, "Snapshot " + key + " not found");
  auto position = co_await s.db.run([&](DbContext& db) { return snapshot_command(db, call, *id, Command{}); });
  if (!position) co_return error_for(position.error());
  co_await wait_for_projection(s, "snapshots", *position);
  auto dto = co_await s.db.run([&](DbContext& db) { return find_snapshot(db, call.organization_id, key); });
  if (!dto) co_return json_response(http::status::ok, json::object{{"id", key}});
  co_return json_response(http::status::ok, *dto);
}

}  // namespace

void register_volume_and_snapshot_routes(Router& r, Services& s) {
  using V = http::verb;
  r.add({V::post, "/api/volumes", "Create a volume", true, [&s](Call& c) { return create_volume(s, c); }})
      .takes<dto::Named>()
      .answers<dto::Volume>();
  r.add({V::get, "/api/volumes", "List volumes", true, [&s](Call& c) { return list_volumes(s, c); }})
      .answers<std::vector<dto::Volume>>();
  r.add({V::get, "/api/volumes/by-name/{name}", "Get a volume by name", true,
         [&s](Call& c) { return get_volume(s, c, true); }})
      .answers<dto::Volume>();
  r.add({V::get, "/api/volumes/{volumeId}", "Get a volume", true, [&s](Call& c) { return get_volume(s, c, false); }})
      .answers<dto::Volume>();
  r.add({V::delete_, "/api/volumes/{volumeId}", "Delete a volume", true, [&s](Call& c) { return delete_volume(s, c); }})
      .answers<dto::Removed>();
  r.add({V::post, "/api/snapshots", "Create a snapshot from an image", true,
         [&s](Call& c) { return create_snapshot(s, c); }})
      .takes<dto::CreateSnapshot>()
      .answers<dto::Snapshot>();
  r.add({V::get, "/api/snapshots", "List snapshots ({items,total,page,totalPages})", true,
         [&s](Call& c) { return list_snapshots(s, c); }})
      .answers<dto::SnapshotPage>();
  r.add({V::get, "/api/snapshots/{snapshotIdOrName}", "Get a snapshot by id or name", true,
         [&s](Call& c) { return get_snapshot(s, c); }})
      .answers<dto::Snapshot>();
  r.add({V::delete_, "/api/snapshots/{snapshotId}", "Remove a snapshot", true,
         [&s](Call& c) { return snapshot_change<snapshot::Remove>(s, c); }})
      .answers<dto::Removed>();
  r.add({V::post, "/api/snapshots/{snapshotId}/activate", "Activate an inactive snapshot", true,
         [&s](Call& c) { return snapshot_change<snapshot::Activate>(s, c); }})
      .answers<dto::Snapshot>();
  r.add({V::post, "/api/snapshots/{snapshotId}/deactivate", "Deactivate a snapshot", true,
         [&s](Call& c) { return snapshot_change<snapshot::Deactivate>(s, c); }})
      .answers<dto::Snapshot>();
}

}  // namespace command_service
