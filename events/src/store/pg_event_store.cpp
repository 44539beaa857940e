#include "events/store/pg_event_store.hpp"
#include "pg_text.hpp"
#include "events/store/sql.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>

namespace events {

namespace {
std::atomic<std::uint64_t> g_conflicts{0};
}  // namespace

std::uint64_t PgEventStore::conflicts() { return g_conflicts.load(std::memory_order_relaxed); }

namespace {

using pg_text::iso_utc;
constexpr const char* kColumns = pg_text::kEventColumns;

std::string quoted(std::string_view s) {
  return boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

RecordedEvent row_to_event(const pqxx::row& r) {
  RecordedEvent e;
  e.position = GlobalPosition{r[0].as<std::int64_t>()};
  e.stream = r[1].as<std::string>();
  e.version = StreamVersion{r[2].as<std::int64_t>()};
  e.type = r[3].as<std::string>();
  e.schema_version = r[4].as<int>();
  e.data = r[5].as<std::string>();
  e.metadata = r[6].as<std::string>();
  e.routing_key = r[7].as<std::string>();
  e.recorded_at = iso_utc(std::string_view(r[8].c_str(), r[8].size()));
  return e;
}

std::vector<RecordedEvent> rows_to_events(const pqxx::result& rows) {
  std::vector<RecordedEvent> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(row_to_event(r));
  return out;
}

}  // namespace

struct PgEventStore::Connection : pqxx::connection {
  using pqxx::connection::connection;
};

PgEventStore::PgEventStore(const std::string& connection_string)
    : connection_string_(connection_string) {
  connect();
}

PgEventStore::~PgEventStore() = default;

pqxx::connection_base& PgEventStore::connection() {
  if (!conn_) connect();
  return *conn_;
}

template <class F>
auto PgEventStore::with_connection(F&& body) -> decltype(body()) {
  try {
    if (!conn_) connect();
    return body();
  } catch (const pqxx::broken_connection& e) {
    conn_.reset();
    return make_error(ErrorCode::unavailable, std::string("PostgreSQL connection lost: ") + e.what());
  } catch (const pqxx::data_exception& e) {
    return make_error(ErrorCode::invalid_argument, std::string("PostgreSQL rejected the data: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    return make_error(ErrorCode::unavailable, std::string("PostgreSQL error: ") + e.what());
  } catch (const pqxx::failure& e) {
    conn_.reset();
    return make_error(ErrorCode::unavailable, std::string("PostgreSQL failure: ") + e.what());
  }
}

void PgEventStore::connect() {
  conn_ = std::make_unique<Connection>(connection_string_);
  auto& c = *conn_;
  pqxx::nontransaction(c).exec("set datestyle to ISO");
  c.prepare("append",
            "select status, first_position, last_position, last_version "
            "from append_events($1, $2, $3::jsonb, $4, $5, $6)");
  c.prepare("append_many",
            "select ord, status, first_position, last_position, last_version from append_many($1::jsonb)");
  c.prepare("read_stream", std::string("select ") + kColumns +
                               " from events where stream = $1 and version >= $2 order by version");
  // events_safe_head()'s query, not the function: a call through it costs five times as much.
  c.prepare("safe_head", "select coalesce(max(position), 0) from events");
  c.prepare("load_checkpoint", "select position from checkpoints where name = $1");
  c.prepare("save_checkpoint",
            "insert into checkpoints (name, position) values ($1, $2) "
            "on conflict (name) do update set position = excluded.position, updated_at = now()");
  c.prepare("dead_letter",
            "insert into dead_letters (consumer, stream, position, type, reason, payload) "
            "values ($1, $2, $3, $4, $5, $6)");
}

std::string events_json(std::span<const NewEvent> events) {
  std::string batch = "[";
  for (const auto& e : events) {
    if (batch.size() > 1) batch += ',';
    batch += "{\"type\":";
    batch += quoted(e.event.type);
    batch += ",\"schema_version\":";
    batch += std::to_string(e.event.schema_version);
    batch += ",\"data\":";
    batch += e.event.data;
    batch += ",\"metadata\":";
    batch += to_json_text(e.metadata);
    batch += '}';
  }
  return batch + ']';
}

namespace {

// append_events' answer (status, first, last, version) for an append to `stream`.
Result<AppendResult> answer_of(const pqxx::row& row, int at, const StreamName& stream, ExpectedVersion expected) {
  const auto status = row[at].as<std::string>();
  if (status == "version_conflict") {
    g_conflicts.fetch_add(1, std::memory_order_relaxed);
    return make_error(ErrorCode::version_conflict, "stream " + stream.str() + " is at version " +
                                                       row[at + 3].as<std::string>() + ", expected " +
                                                       std::to_string(expected.raw()));
  }
  if (status == "idempotency_conflict") {
    return make_error(ErrorCode::idempotency_conflict, "idempotency key was already used for a different request");
  }
  return AppendResult{GlobalPosition{row[at + 1].as<std::int64_t>()}, GlobalPosition{row[at + 2].as<std::int64_t>()},
                      StreamVersion{row[at + 3].as<std::int64_t>()}, status == "duplicate"};
}

// One call of append_events in `tx`: the result, or the conflict it reports.
Result<AppendResult> append_in(pqxx::transaction_base& tx, const GroupedAppend& a) {
  const auto rows = tx.exec_prepared("append", a.stream.str(), a.expected.raw(), a.events_json, a.options.routing_key,
                                     a.options.idempotency_key, a.options.request_hash);
  return answer_of(rows.at(0), 0, a.stream, a.expected);
}

// append_many's argument: the appends as one JSON array.
std::string group_json(std::span<const GroupedAppend> requests) {
  std::string out = "[";
  for (const auto& a : requests) {
    if (out.size() > 1) out += ',';
    out += "{\"stream\":" + quoted(a.stream.str()) + ",\"expected\":" + std::to_string(a.expected.raw()) +
           ",\"events\":" + a.events_json + ",\"routing_key\":" + quoted(a.options.routing_key) +
           ",\"request_hash\":" + quoted(a.options.request_hash) + ",\"idem_key\":" +
           (a.options.idempotency_key ? quoted(*a.options.idempotency_key) : std::string("null")) +
           (a.unit > 0 ? ",\"unit\":" + std::to_string(a.unit) : std::string()) + '}';
  }
  return out + ']';
}

}  // namespace

Result<std::vector<AppendResult>> PgEventStore::append_together(std::span<const StreamAppend> appends) {
  for (const auto& a : appends) {
    if (a.events.empty()) return make_error(ErrorCode::invalid_argument, "append of no events to " + a.stream.str());
  }
  std::vector<GroupedAppend> requests;
  requests.reserve(appends.size());
  for (const auto& a : appends) requests.push_back(GroupedAppend{a.stream, a.expected, events_json(a.events), a.options});
  if (group_ != nullptr) return group_->append_together(std::move(requests));
  return append_together_alone(requests);
}

Result<std::vector<AppendResult>> PgEventStore::append_together_alone(std::span<const GroupedAppend> requests) {
  auto result = with_connection([&]() -> Result<std::vector<AppendResult>> {
    try {
      pqxx::work tx(*conn_);
      std::vector<AppendResult> out;
      for (const auto& a : requests) {
        auto one = append_in(tx, a);
        if (!one) return one.error();  // the transaction rolls back: none of the streams changes
        out.push_back(*one);
      }
      tx.commit();
      return out;
    } catch (const pqxx::unique_violation&) {
      g_conflicts.fetch_add(1, std::memory_order_relaxed);
      return make_error(ErrorCode::version_conflict, "a stream of this append changed concurrently");
    }
  });
  if (result && on_append_) on_append_();
  return result;
}

Result<AppendResult> PgEventStore::append(const StreamName& stream, ExpectedVersion expected,
                                          std::span<const NewEvent> events,
                                          const AppendOptions& options) {
  if (events.empty()) return make_error(ErrorCode::invalid_argument, "append of no events");
  GroupedAppend request{stream, expected, events_json(events), options};
  if (group_ != nullptr) return group_->append(std::move(request));
  return append_alone(request);
}

Result<AppendResult> PgEventStore::append_alone(const GroupedAppend& request) {
  auto result = with_connection([&]() -> Result<AppendResult> {
    try {
      pqxx::nontransaction tx(*conn_);
      return append_in(tx, request);
    } catch (const pqxx::unique_violation&) {
      // Under the append lock the version check sees every committed append (an idempotent
      // twin included), so this is only the (stream, version) index's last guard.
      g_conflicts.fetch_add(1, std::memory_order_relaxed);
      return make_error(ErrorCode::version_conflict,
                        "stream " + request.stream.str() + " already has the version this append expected "
                        "to write (expected version " + std::to_string(request.expected.raw()) + ")");
    }
  });
  if (result && !result->duplicate && on_append_) on_append_();
  return result;
}

Result<std::vector<Result<AppendResult>>> PgEventStore::append_many(std::span<const GroupedAppend> requests) {
  auto result = with_connection([&]() -> Result<std::vector<Result<AppendResult>>> {
    try {
      // One autocommit statement is one transaction and one round trip (a pqxx::work would
      // add a BEGIN and a COMMIT, two more waits for PostgreSQL on a busy machine).
      pqxx::nontransaction tx(*conn_);
      const auto rows = tx.exec_prepared("append_many", group_json(requests));
      if (rows.size() != requests.size()) {
        return make_error(ErrorCode::unavailable, "append_many answered " + std::to_string(rows.size()) + " of " +
                                                   std::to_string(requests.size()) + " appends");
      }
      std::vector<Result<AppendResult>> out;
      out.reserve(requests.size());
      for (std::size_t i = 0; i < requests.size(); ++i) {
        out.push_back(answer_of(rows[static_cast<pqxx::result::size_type>(i)], 1, requests[i].stream,
                                requests[i].expected));
      }
      return out;
    } catch (const pqxx::unique_violation&) {
      return make_error(ErrorCode::version_conflict, "a stream of this group changed concurrently");
    }
  });
  if (result && on_append_) {
    const bool wrote = std::any_of(result->begin(), result->end(), [](const auto& r) { return r && !r->duplicate; });
    if (wrote) on_append_();
  }
  return result;
}

Result<std::vector<RecordedEvent>> PgEventStore::read_stream(const StreamName& stream,
                                                             StreamVersion from) {
  return with_connection([&]() -> Result<std::vector<RecordedEvent>> {
    pqxx::nontransaction tx(*conn_);
    return rows_to_events(tx.exec_prepared("read_stream", stream.str(), from.value()));
  });
}

Result<GlobalPosition> PgEventStore::safe_head() {
  return with_connection([&]() -> Result<GlobalPosition> {
    pqxx::nontransaction tx(*conn_);
    cached_head_ = GlobalPosition{tx.exec_prepared("safe_head").at(0)[0].as<std::int64_t>()};
    return cached_head_;
  });
}

Result<std::vector<RecordedEvent>> PgEventStore::read_all(GlobalPosition after, std::size_t max,
                                                          const ReadFilter& filter) {
  // Appends commit in position order (infra/schema/0002_group_commit.sql), so every event a
  // query sees is final: no read needs a fence or a head first.
  const auto limit = static_cast<std::int64_t>(max);
  const std::string select = std::string("select ") + kColumns + " from events where ";
  if (filter.category.empty()) {
    // One round trip: the primary key walked in order from `after`, stopping at the limit.
    return with_connection([&]() -> Result<std::vector<RecordedEvent>> {
      pqxx::nontransaction tx(*conn_);
      return rows_to_events(exec_cached(tx, select + "position > $1 order by position limit $2", after.value(), limit));
    });
  }
  if (after >= cached_head_) {
    auto head = safe_head();
    if (!head) return head.error();
    if (after >= cached_head_) return std::vector<RecordedEvent>{};
  }
  return with_connection([&]() -> Result<std::vector<RecordedEvent>> {
    pqxx::nontransaction tx(*conn_);
    // Filtered reads (catch-ups) go window by window up to the head, so that each query touches
    // a bounded range of the log however sparse the filter's events are.
    constexpr std::int64_t kWindow = 20000;
    const auto head = cached_head_.value();
    const std::string prefix = filter.category + "-%";
    const std::string where =
        "position > $1 and position <= $2 and stream like $3" +
        std::string(filter.routing_key.empty() ? "" : " and routing_key = $5") +
        " order by position limit $4";
    for (std::int64_t from = after.value(); from < head; from += kWindow) {
      const auto to = std::min(head, from + kWindow);
      const auto rows = filter.routing_key.empty()
                            ? exec_cached(tx, select + where, from, to, prefix, limit)
                            : exec_cached(tx, select + where, from, to, prefix, limit,
                                          filter.routing_key == kUnrouted ? std::string() : filter.routing_key);
      if (!rows.empty()) return rows_to_events(rows);
    }
    return std::vector<RecordedEvent>{};
  });
}

Result<GlobalPosition> PgEventStore::load_checkpoint(const std::string& name) {
  return with_connection([&]() -> Result<GlobalPosition> {
    pqxx::nontransaction tx(*conn_);
    const auto rows = tx.exec_prepared("load_checkpoint", name);
    if (rows.empty()) return GlobalPosition{0};
    return GlobalPosition{rows[0][0].as<std::int64_t>()};
  });
}

Result<void> PgEventStore::save_checkpoint(const std::string& name, GlobalPosition position) {
  return with_connection([&]() -> Result<void> {
    pqxx::nontransaction tx(*conn_);
    tx.exec_prepared("save_checkpoint", name, position.value());
    return {};
  });
}

Result<void> PgEventStore::record_dead_letter(const std::string& consumer,
                                              const RecordedEvent& event,
                                              const std::string& reason) {
  return with_connection([&]() -> Result<void> {
    pqxx::nontransaction tx(*conn_);
    tx.exec_prepared("dead_letter", consumer, event.stream, event.position.value(), event.type,
                     reason, event.data);
    return {};
  });
}

namespace pg_text {

std::string iso_utc(std::string_view pg) {
  std::string out;
  out.reserve(27);
  out.append(pg.substr(0, 19));
  if (out.size() == 19 && out[10] == ' ') out[10] = 'T';
  out += '.';
  const auto fraction = pg.size() > 20 && pg[19] == '.' ? pg.substr(20, 6) : std::string_view{};
  out.append(fraction);
  out.append(6 - fraction.size(), '0');
  out += 'Z';
  return out;
}

}  // namespace pg_text

}  // namespace events
