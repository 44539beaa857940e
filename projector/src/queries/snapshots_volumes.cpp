#include "projector/queries/snapshots_volumes.hpp"

#include "events/ids.hpp"
#include "columns.hpp"
#include "events/store/sql.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace projector::queries {

namespace {

using events::exec_cached;

const std::string kVolumes = "select id::text, name, organization_id::text, state, " PROJECTOR_ISO("created_at") ", " PROJECTOR_ISO(
    "updated_at") ", " PROJECTOR_ISO("last_used_at") ", error_reason from volumes where organization_id = $1 and "
                  "state <> 'deleted' ";

const std::string kSnapshots = "select id::text, organization_id::text, name, image_name, state, size_bytes, "
                               "entrypoint::text, cpu, gpu, memory, disk, error_reason, " PROJECTOR_ISO("created_at") ", " PROJECTOR_ISO(
                                   "updated_at") " from snapshots where (organization_id = $1::uuid or "
                               "organization_id is null) and state <> 'removed' ";

std::optional<std::string> text_or_none(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str());
}

VolumeRow volume_of(const pqxx::row& r) {
  return {r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str(), r[4].c_str(), r[5].c_str(),
          text_or_none(r[6]), text_or_none(r[7])};
}

SnapshotRow snapshot_of(const pqxx::row& r) {
  SnapshotRow s;
  s.id = r[0].c_str();
  s.organization_id = text_or_none(r[1]);
  s.name = r[2].c_str();
  s.image_name = r[3].c_str();
  s.state = r[4].c_str();
  if (!r[5].is_null()) s.size_bytes = r[5].as<std::int64_t>();
  s.entrypoint = boost::json::value_to<std::vector<std::string>>(boost::json::parse(r[6].c_str()));
  s.cpu = r[7].as<int>();
  s.gpu = r[8].as<int>();
  s.memory_gib = r[9].as<int>();
  s.disk_gib = r[10].as<int>();
  s.error_reason = text_or_none(r[11]);
  s.created_at = r[12].c_str();
  s.updated_at = r[13].c_str();
  return s;
}

std::optional<VolumeRow> first_volume(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return volume_of(rows[0]);
}

}  // namespace

std::optional<VolumeRow> volume_by_id(pqxx::transaction_base& tx, const std::string& organization,
                                      const std::string& id) {
  return first_volume(exec_cached(tx, kVolumes + "and id = $2::uuid", organization, id));
}

std::optional<VolumeRow> volume_named(pqxx::transaction_base& tx, const std::string& organization,
                                      const std::string& name) {
  return first_volume(exec_cached(tx, kVolumes + "and name = $2 order by created_at desc limit 1", organization, name));
}

std::vector<VolumeRow> volumes(pqxx::transaction_base& tx, const std::string& organization) {
  std::vector<VolumeRow> out;
  for (const auto& r : exec_cached(tx, kVolumes + "order by name", organization)) out.push_back(volume_of(r));
  return out;
}

std::optional<SnapshotRow> snapshot(pqxx::transaction_base& tx, const std::string& organization,
                                    const std::string& id_or_name) {
  const bool is_id = events::SnapshotId::parse(id_or_name).has_value();
  const auto rows = exec_cached(
      tx, kSnapshots + (is_id ? "and id = $2::uuid" : "and name = $2") + " order by organization_id nulls last limit 1",
      organization, id_or_name);
  if (rows.empty()) return std::nullopt;
  return snapshot_of(rows[0]);
}

std::int64_t snapshot_count(pqxx::transaction_base& tx, const std::string& organization) {
  return exec_cached(tx,
                     "select count(*) from snapshots where (organization_id = $1::uuid or organization_id is null) "
                     "and state <> 'removed'",
                     organization)[0][0]
      .as<std::int64_t>();
}

std::vector<SnapshotRow> snapshots(pqxx::transaction_base& tx, const std::string& organization, int offset,
                                   int limit) {
  std::vector<SnapshotRow> out;
  for (const auto& r : exec_cached(tx, kSnapshots + "order by name limit $2 offset $3", organization, limit, offset)) {
    out.push_back(snapshot_of(r));
  }
  return out;
}

std::optional<SnapshotImage> snapshot_image(pqxx::transaction_base& tx, const std::string& organization,
                                            const std::string& name) {
  const auto rows = exec_cached(tx,
                                "select id::text, state, coalesce(layer_digests, '[]'::jsonb)::text, entrypoint::text "
                                "from snapshots where name = $1 and state <> 'removed' and "
                                "(organization_id = $2::uuid or organization_id is null) "
                                "order by organization_id nulls last limit 1",
                                name, organization);
  if (rows.empty()) return std::nullopt;
  return SnapshotImage{rows[0][0].c_str(), rows[0][1].c_str(), rows[0][2].c_str(), rows[0][3].c_str()};
}

}  // namespace projector::queries
