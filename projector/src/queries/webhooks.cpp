#include "projector/queries/webhooks.hpp"

#include "columns.hpp"
#include "events/store/sql.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace projector::queries {

namespace {

using events::exec_cached;

constexpr const char* kColumns =
    "select id::text, organization_id, url, description, filter_types::text, disabled, disabled_reason, uid, "
    "metadata::text, secret, previous_secret, coalesce((extract(epoch from previous_until) * 1000)::bigint, 0), " PROJECTOR_ISO(
        "created_at") ", " PROJECTOR_ISO("updated_at") " from webhook_endpoints ";

WebhookEndpointRow row_of(const pqxx::row& r) {
  WebhookEndpointRow w;
  w.id = r[0].as<std::string>();
  w.organization_id = r[1].as<std::string>();
  w.url = r[2].as<std::string>();
  w.description = r[3].as<std::string>();
  if (!r[4].is_null()) {
    std::vector<std::string> types;
    const auto parsed = boost::json::parse(r[4].as<std::string>());
    for (const auto& t : parsed.as_array()) types.emplace_back(t.as_string());
    w.filter_types = std::move(types);
  }
  w.disabled = r[5].as<bool>();
  w.disabled_reason = r[6].as<std::string>();
  if (!r[7].is_null()) w.uid = r[7].as<std::string>();
  w.metadata_json = r[8].as<std::string>();
  w.secret = r[9].as<std::string>();
  w.previous_secret = r[10].as<std::string>();
  w.previous_until_ms = r[11].as<std::int64_t>();
  w.created_at = r[12].as<std::string>();
  w.updated_at = r[13].as<std::string>();
  return w;
}

std::vector<WebhookEndpointRow> rows_of(const pqxx::result& rows) {
  std::vector<WebhookEndpointRow> out;
  for (const auto& r : rows) out.push_back(row_of(r));
  return out;
}

}  // namespace

std::optional<WebhookEndpointRow> webhook_endpoint(pqxx::transaction_base& tx, const std::string& org,
                                                   const std::string& id_or_uid) {
  const auto rows = exec_cached(tx, std::string(kColumns) + "where organization_id = $1 and (id::text = $2 or uid = $2)",
                                org, id_or_uid);
  if (rows.empty()) return std::nullopt;
  return row_of(rows[0]);
}

std::vector<WebhookEndpointRow> webhook_endpoints(pqxx::transaction_base& tx, const std::string& org,
                                                  const std::string& after, int limit) {
  return rows_of(exec_cached(tx, std::string(kColumns) + "where organization_id = $1 and id::text > $2 order by id limit $3",
                             org, after, limit));
}

std::vector<WebhookEndpointRow> enabled_webhook_endpoints(pqxx::transaction_base& tx) {
  return rows_of(exec_cached(tx, std::string(kColumns) + "where not disabled order by id"));
}

}  // namespace projector::queries
