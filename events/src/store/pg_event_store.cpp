#include "events/store/pg_event_store.hpp"
#include "events/store/sql.hpp"

#include <pqxx/pqxx>

#include <atomic>

namespace events {

namespace {
std::atomic<std::uint64_t> g_conflicts{0};
}  // namespace

std::uint64_t PgEventStore::conflicts() { return g_conflicts.load(std::memory_order_relaxed); }

namespace {

constexpr const char* kColumns =
    "position, stream, version, type, schema_version, data::text, metadata::text, routing_key, "
    "to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

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
  e.recorded_at = r[8].as<std::string>();
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
  c.prepare("append",
            "select status, first_position, last_position, last_version "
            "from append_events($1, $2, $3::jsonb, $4, $5, $6)");
  c.prepare("read_stream", std::string("select ") + kColumns +
                               " from events where stream = $1 and version >= $2 order by version");
  c.prepare("safe_head", "select events_safe_head()");
  c.prepare("visible_head", "select coalesce(max(position), 0) from events");
  c.prepare("load_checkpoint", "select position from checkpoints where name = $1");
  c.prepare("save_checkpoint",
            "insert into checkpoints (name, position) values ($1, $2) "
            "on conflict (name) do update set position = excluded.position, updated_at = now()");
  c.prepare("dead_letter",
            "insert into dead_letters (consumer, stream, position, type, reason, payload) "
            "values ($1, $2, $3, $4, $5, $6)");
}

namespace {

std::string batch_json(std::span<const NewEvent> events) {
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

// One call of append_events in `tx`: the result, or the conflict it reports.
Result<AppendResult> append_in(pqxx::transaction_base& tx, const StreamName& stream, ExpectedVersion expected,
                               const std::string& batch, const AppendOptions& options) {
  const auto rows = tx.exec_prepared("append", stream.str(), expected.raw(), batch, options.routing_key,
                                     options.idempotency_key, options.request_hash);
  const auto& row = rows.at(0);
  const auto status = row[0].as<std::string>();
  if (status == "version_conflict") {
    return make_error(ErrorCode::version_conflict, "stream " + stream.str() + " is at version " +
                                                       row[3].as<std::string>() + ", expected " +
                                                       std::to_string(expected.raw()));
  }
  if (status == "idempotency_conflict") {
    return make_error(ErrorCode::idempotency_conflict, "idempotency key was already used for a different request");
  }
  return AppendResult{GlobalPosition{row[1].as<std::int64_t>()}, GlobalPosition{row[2].as<std::int64_t>()},
                      StreamVersion{row[3].as<std::int64_t>()}, status == "duplicate"};
}

}  // namespace

Result<std::vector<AppendResult>> PgEventStore::append_together(std::span<const StreamAppend> appends) {
  for (const auto& a : appends) {
    if (a.events.empty()) return make_error(ErrorCode::invalid_argument, "append of no events to " + a.stream.str());
  }
  auto result = with_connection([&]() -> Result<std::vector<AppendResult>> {
    try {
      pqxx::work tx(*conn_);
      std::vector<AppendResult> out;
      for (const auto& a : appends) {
        auto one = append_in(tx, a.stream, a.expected, batch_json(a.events), a.options);
        if (!one) return one.error();  // the transaction rolls back: none of the streams changes
        out.push_back(*one);
      }
      tx.commit();
      return out;
    } catch (const pqxx::unique_violation&) {
      return make_error(ErrorCode::version_conflict, "a stream of this append changed concurrently");
    }
  });
  if (result && on_append_) on_append_();
  if (!result && result.error().code == ErrorCode::version_conflict) g_conflicts.fetch_add(1, std::memory_order_relaxed);
  return result;
}

Result<AppendResult> PgEventStore::append(const StreamName& stream, ExpectedVersion expected,
                                          std::span<const NewEvent> events,
                                          const AppendOptions& options) {
  if (events.empty()) return make_error(ErrorCode::invalid_argument, "append of no events");
  const std::string batch = batch_json(events);

  auto attempt = [&]() -> Result<AppendResult> {
    pqxx::nontransaction tx(*conn_);
    return append_in(tx, stream, expected, batch, options);
  };

  auto result = with_connection([&]() -> Result<AppendResult> {
    try {
      return attempt();
    } catch (const pqxx::unique_violation&) {
      // The version is taken: by a concurrent append, or the stream already exists. With an
      // idempotency key, the winner may be this very request: asking again tells.
      if (options.idempotency_key) {
        try {
          return attempt();
        } catch (const pqxx::unique_violation&) {
        }
      }
      return make_error(ErrorCode::version_conflict,
                        "stream " + stream.str() + " already has the version this append expected "
                        "to write (expected version " + std::to_string(expected.raw()) + ")");
    }
  });
  if (result && !result->duplicate && on_append_) on_append_();
  if (!result && result.error().code == ErrorCode::version_conflict) g_conflicts.fetch_add(1, std::memory_order_relaxed);
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
  if (after >= cached_head_) {
    // Nothing new visible: answer without the fence, whose exclusive lock makes appenders wait.
    auto visible = with_connection([&]() -> Result<std::int64_t> {
      pqxx::nontransaction tx(*conn_);
      return tx.exec_prepared("visible_head").at(0)[0].as<std::int64_t>();
    });
    if (!visible) return visible.error();
    if (*visible <= after.value()) return std::vector<RecordedEvent>{};
    auto head = safe_head();
    if (!head) return head.error();
  }
  if (after >= cached_head_) return std::vector<RecordedEvent>{};
  return with_connection([&]() -> Result<std::vector<RecordedEvent>> {
    pqxx::nontransaction tx(*conn_);
    // Not prepared: a generic plan cannot see the LIMIT and may sort the whole range. The upper
    // bound is written so that the index cannot use it ("+ 0"): with it, a table not yet
    // analysed is read by bitmap scan and sorted whole; without it, the primary key is walked
    // in order and the walk stops at the LIMIT.
    const auto limit = static_cast<std::int64_t>(max);
    const auto head = cached_head_.value();
    const std::string select = std::string("select ") + kColumns + " from events where ";
    if (filter.category.empty()) {
      return rows_to_events(exec_cached(tx, 
          select + "position > $1 and position + 0 <= $2 order by position limit $3",
          after.value(), head, limit));
    }
    // Filtered reads (catch-ups) go window by window, so that each query touches a bounded
    // range of the log however sparse the filter's events are.
    constexpr std::int64_t kWindow = 20000;
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

}  // namespace events
