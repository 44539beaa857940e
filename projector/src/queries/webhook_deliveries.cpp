#include "projector/queries/webhook_deliveries.hpp"

#include "columns.hpp"
#include "events/store/sql.hpp"

#include <pqxx/pqxx>

namespace projector::queries {

namespace {

using events::exec_cached;

constexpr const char* kMessage = "select id, event_type, payload, " PROJECTOR_ISO("created_at") " from webhooks.messages ";
constexpr const char* kAttempt =
    "select id, message_id, endpoint_id::text, url, response_status, response, duration_ms, outcome, trigger, " PROJECTOR_ISO(
        "at") " from webhooks.attempts ";

std::vector<WebhookMessageRow> messages_of(const pqxx::result& rows) {
  std::vector<WebhookMessageRow> out;
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>()});
  }
  return out;
}

std::vector<WebhookAttemptRow> attempts_of(const pqxx::result& rows) {
  std::vector<WebhookAttemptRow> out;
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                   r[4].as<int>(), r[5].as<std::string>(), r[6].as<std::int64_t>(), r[7].as<std::string>(),
                   r[8].as<std::string>(), r[9].as<std::string>()});
  }
  return out;
}

// The tables are webhook-delivery's: before it first ran there are none, and nothing to show.
template <class F>
auto or_empty(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const pqxx::undefined_table&) {
    return {};
  }
}

}  // namespace

std::vector<WebhookMessageRow> webhook_messages(pqxx::transaction_base& tx, const std::string& org,
                                                const std::string& before, int limit) {
  return or_empty([&] {
    return messages_of(exec_cached(
        tx,
        std::string(kMessage) +
            "where organization_id = $1 and ($2 = '' or position < (select position from webhooks.messages where id = $2)) "
            "order by position desc, id desc limit $3",
        org, before, limit));
  });
}

std::optional<WebhookMessageRow> webhook_message(pqxx::transaction_base& tx, const std::string& org,
                                                 const std::string& id) {
  auto rows = or_empty([&] {
    return messages_of(exec_cached(tx, std::string(kMessage) + "where organization_id = $1 and id = $2", org, id));
  });
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::vector<WebhookAttemptRow> webhook_attempts_of_endpoint(pqxx::transaction_base& tx, const std::string& org,
                                                            const std::string& endpoint_id, std::int64_t before,
                                                            int limit) {
  return or_empty([&] {
    return attempts_of(exec_cached(tx,
                                   std::string(kAttempt) +
                                       "where organization_id = $1 and endpoint_id::text = $2 and ($3 = 0 or id < $3) "
                                       "order by id desc limit $4",
                                   org, endpoint_id, before, limit));
  });
}

std::vector<WebhookAttemptRow> webhook_attempts_of_message(pqxx::transaction_base& tx, const std::string& org,
                                                           const std::string& message_id, std::int64_t before,
                                                           int limit) {
  return or_empty([&] {
    return attempts_of(exec_cached(tx,
                                   std::string(kAttempt) +
                                       "where organization_id = $1 and message_id = $2 and ($3 = 0 or id < $3) "
                                       "order by id desc limit $4",
                                   org, message_id, before, limit));
  });
}

}  // namespace projector::queries
