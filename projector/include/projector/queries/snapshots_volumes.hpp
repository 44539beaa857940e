#pragma once
// The questions the API asks of the snapshots and volumes read models
// (src/models/snapshots_volumes.cpp), beside them. An organization sees its own rows and, of
// snapshots, the general ones (no organization); removed snapshots and deleted volumes are gone.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace projector::queries {

struct VolumeRow {
  std::string id;
  std::string name;
  std::string organization_id;
  std::string state;
  std::string created_at;  // ISO 8601, UTC, milliseconds
  std::string updated_at;
  std::optional<std::string> last_used_at;
  std::optional<std::string> error_reason;
};

std::optional<VolumeRow> volume_by_id(pqxx::transaction_base& tx, const std::string& organization,
                                      const std::string& id);
std::optional<VolumeRow> volume_named(pqxx::transaction_base& tx, const std::string& organization,
                                      const std::string& name);
std::vector<VolumeRow> volumes(pqxx::transaction_base& tx, const std::string& organization);  // by name

struct SnapshotRow {
  std::string id;
  std::optional<std::string> organization_id;  // none: general
  std::string name;
  std::string image_name;
  std::string state;
  std::optional<std::int64_t> size_bytes;
  std::vector<std::string> entrypoint;
  int cpu = 0;
  int gpu = 0;
  int memory_gib = 0;
  int disk_gib = 0;
  std::optional<std::string> error_reason;
  std::string created_at;
  std::string updated_at;
};

// By id (when `id_or_name` is one) or name; the organization's own before a general one.
std::optional<SnapshotRow> snapshot(pqxx::transaction_base& tx, const std::string& organization,
                                    const std::string& id_or_name);
std::int64_t snapshot_count(pqxx::transaction_base& tx, const std::string& organization);
std::vector<SnapshotRow> snapshots(pqxx::transaction_base& tx, const std::string& organization, int offset,
                                   int limit);  // by name

// What a create needs of the snapshot it names: its id, state, layers and entrypoint (JSON text).
struct SnapshotImage {
  std::string id;
  std::string state;
  std::string layer_digests_json;
  std::string entrypoint_json;
};
std::optional<SnapshotImage> snapshot_image(pqxx::transaction_base& tx, const std::string& organization,
                                            const std::string& name);

}  // namespace projector::queries
