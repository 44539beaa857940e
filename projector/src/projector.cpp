#include "projector/projector.hpp"
#include "projector/writes.hpp"
#include "events/store/sql.hpp"

#include "events/store/pg_event_store.hpp"

#include <pqxx/pqxx>
#include "events/runtime.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <span>
#include <thread>

namespace projector {

using events::exec_cached;

namespace {

using events::nap;
using events::Result;

std::shared_ptr<spdlog::logger> logger() {
  static const auto log = events::module_logger("projector");
  return log;
}

constexpr const char* kCheckpointDdl =
    "create table if not exists projection_checkpoints (model text primary key, position bigint not null, "
    "updated_at timestamptz not null default now())";

// Moves the checkpoints of `models` to `reached`, or raises when one of them is no longer at its
// `expected` position (another instance applied these models): the batch's transaction, which
// calls it last, then rolls back whole.
constexpr const char* kAdvanceDdl = R"(
create or replace function projection_advance(models text[], expected bigint[], reached bigint) returns void
language plpgsql as $$
declare
  moved bigint;
begin
  insert into projection_checkpoints as c (model, position, updated_at)
  select x.model, reached, now() from unnest(models, expected) as x(model, position)
  on conflict (model) do update set position = excluded.position, updated_at = now()
  where c.position = (select y.position from unnest(models, expected) as y(model, position) where y.model = c.model);
  get diagnostics moved = row_count;
  if moved <> cardinality(models) then
    raise exception 'checkpoints moved under us: another projector applied these models';
  end if;
end $$)";

void use_schema(pqxx::connection_base& c, const std::string& schema) {
  pqxx::nontransaction tx(c);
  tx.exec("set search_path to " + tx.quote_name(schema) + ", public");
}

}  // namespace

Result<void> ensure_schema(const std::string& pg_connection, const std::string& schema,
                           const std::vector<std::unique_ptr<ReadModel>>& models) {
  try {
    pqxx::connection c(pg_connection);
    pqxx::work tx(c);
    tx.exec("select pg_advisory_xact_lock(7700002)");
    tx.exec("create schema if not exists " + tx.quote_name(schema));
    tx.exec("set local search_path to " + tx.quote_name(schema) + ", public");
    tx.exec(kCheckpointDdl);
    tx.exec(kAdvanceDdl);
    for (const auto& m : models) tx.exec(m->ddl());
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return events::make_error(events::ErrorCode::unavailable,
                              "cannot create read models in schema " + schema + ": " + e.what());
  }
}

Result<std::int64_t> checkpoint_of(const std::string& pg_connection, const std::string& schema,
                                   const std::string& model) {
  try {
    pqxx::connection c(pg_connection);
    pqxx::nontransaction tx(c);
    const auto rows = exec_cached(tx, "select position from " + tx.quote_name(schema) +
                                         ".projection_checkpoints where model = $1",
                                     model);
    return rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
  } catch (const std::exception& e) {
    return events::make_error(events::ErrorCode::unavailable, e.what());
  }
}

// Renders names as a PostgreSQL text[] literal (model names are plain identifiers).
std::string text_array(const std::vector<std::string>& names) {
  std::string out = "{";
  for (const auto& n : names) out += (out.size() > 1 ? "," : "") + std::string("\"") + n + "\"";
  return out + "}";
}

struct Projector::Impl {
  std::vector<const ReadModel*> models;
  std::string pg_connection;
  Settings settings;
  events::PgEventStore store;
  std::unique_ptr<pqxx::connection> conn;    // applies; search_path = the schema
  std::unique_ptr<pqxx::connection> leader;  // holds the advisory locks while we lead
  std::vector<std::int64_t> checkpoints;     // per model, in `models` order
  RememberedRows remembered;                 // the models' rows as of the last commit
  std::vector<std::string> consumers;        // "projector:<schema>:<model>", the lock and dead-letter names
  std::string name;                          // for the log
  std::string names_literal;                 // the models' names as an SQL text[] literal

  Impl(std::vector<const ReadModel*> ms, const std::string& pg, Settings s)
      : models(std::move(ms)), pg_connection(pg), settings(std::move(s)), store(pg), checkpoints(models.size(), 0) {
    for (const auto* m : models) {
      consumers.push_back("projector:" + settings.schema + ":" + m->name());
      name += (name.empty() ? "" : "+") + m->name();
    }
    name = "projector:" + settings.schema + ":" + name;
    names_literal = "'" + text_array(model_names()) + "'";  // plain identifiers: nothing to escape
  }

  std::int64_t low() const { return *std::min_element(checkpoints.begin(), checkpoints.end()); }

  std::vector<std::string> model_names() const {
    std::vector<std::string> out;
    for (const auto* m : models) out.push_back(m->name());
    return out;
  }

  // The models' checkpoints as stored (0 for a model never run).
  void read_checkpoints(pqxx::transaction_base& tx) {
    const auto rows = tx.exec("select model, position from projection_checkpoints where model = any(" +
                              names_literal + "::text[])");
    std::vector<std::int64_t> found(models.size(), 0);
    for (const auto& r : rows) {
      for (std::size_t i = 0; i < models.size(); ++i) {
        if (models[i]->name() == r[0].c_str()) found[i] = r[1].as<std::int64_t>();
      }
    }
    checkpoints = found;
  }

  void connect() {
    if (conn) return;
    remembered.clear();  // another instance may have led meanwhile
    conn = std::make_unique<pqxx::connection>(pg_connection);
    use_schema(*conn, settings.schema);
    {
      // Read models can be rebuilt from the log, and each batch commits with its checkpoints, so
      // a crash loses at most the last batches' commits and they are applied again: the
      // projector need not wait for its WAL flushes (each one competed with the appends').
      pqxx::nontransaction tx(*conn);
      tx.exec("set synchronous_commit to off");
    }
    for (const auto* m : models) m->prepare(*conn);
    pqxx::nontransaction tx(*conn);
    read_checkpoints(tx);
  }

  // Every model's lock, or none: a model is applied by one instance only.
  bool try_lead() {
    if (!leader) leader = std::make_unique<pqxx::connection>(pg_connection);
    pqxx::nontransaction tx(*leader);
    const bool all = exec_cached(tx, "select bool_and(pg_try_advisory_lock(hashtext(c))) from unnest($1::text[]) c",
                                 text_array(consumers))[0][0]
                         .as<bool>();
    if (!all) tx.exec("select pg_advisory_unlock_all()");
    return all;
  }

  bool still_leading() {
    try {
      pqxx::nontransaction tx(*leader);
      tx.exec("select 1");
      return true;
    } catch (const std::exception&) {
      leader.reset();
      return false;
    }
  }

  // One event under a savepoint, so that one PostgreSQL refuses does not end the transaction.
  void apply_one(pqxx::dbtransaction& tx, std::size_t i, const events::RecordedEvent& e) {
    Result<void> applied;
    try {
      pqxx::subtransaction sub(tx, "event");
      applied = models[i]->apply(sub, e);
      sub.commit();
    } catch (const std::exception& ex) {
      applied = events::make_error(events::ErrorCode::invalid_argument, ex.what());
    }
    if (applied) return;
    logger()->warn("{}: dead letter at position {} ({}): {}", consumers[i], e.position.value(), e.type,
                   applied.error().message);
    if (settings.record_dead_letters) {
      exec_cached(tx, "insert into public.dead_letters (consumer, stream, position, type, reason, payload) "
                      "values ($1, $2, $3, $4, $5, $6)",
                  consumers[i], e.stream, e.position.value(), e.type, applied.error().message, e.data);
    }
  }

  // Writes the batch for every model and their checkpoints in one transaction. A model behind
  // the others (new, or rebuilt) gets only what it lacks. Each model takes its part of the batch
  // at once (set-wise where it can): it reads the rows it has not seen in an earlier batch, and
  // its writes are deferred, so that BEGIN, the writes, the checkpoints' update and COMMIT go in
  // one round trip. A labels command's batch thus costs the log's read and that one round trip
  // (it was 6). The checkpoints move only from what this
  // instance last wrote (projection_advance raises otherwise), so an instance that lost the
  // lead cannot apply what another already did: its whole transaction rolls back.
  void commit_batch(const std::vector<events::RecordedEvent>& batch) {
    pqxx::nontransaction tx(*conn);
    auto writes = Writes::deferred(tx, &remembered);
    try {
      if (!settings.defer_writes) writes.open();
      for (std::size_t i = 0; i < models.size(); ++i) {
        const auto lacking = lacking_from(batch, i);
        if (lacking.empty()) continue;
        auto applied = models[i]->apply_batch(tx, lacking, writes);
        if (!applied) throw std::runtime_error(consumers[i] + ": " + applied.error().message);
      }
      const auto last = batch.back().position.value();
      tx.exec(writes.before_commit() + checkpoints_advance(last) + "; commit");
      std::fill(checkpoints.begin(), checkpoints.end(), last);
    } catch (...) {
      remembered.clear();  // it may hold rows of this batch, which did not commit
      try {
        tx.exec("rollback");
      } catch (const std::exception&) {
        // the connection is gone; the caller drops it
      }
      throw;
    }
  }

  // The slow path after a failed batch: event by event under savepoints, which finds and
  // dead-letters the event that failed it.
  void commit_one_by_one(const std::vector<events::RecordedEvent>& batch) {
    pqxx::work tx(*conn);
    // A batch that failed because the checkpoints moved (another instance led meanwhile, or a
    // swap put a rebuilt schema in place) has no event to find: its events were applied there.
    if (!checkpoints_where_left(tx)) {
      throw std::runtime_error("checkpoints moved under us: another projector or a swap moved them");
    }
    for (std::size_t i = 0; i < models.size(); ++i) {
      for (const auto& e : lacking_from(batch, i)) apply_one(tx, i, e);
    }
    const auto last = batch.back().position.value();
    tx.exec(checkpoints_advance(last));
    tx.commit();
    std::fill(checkpoints.begin(), checkpoints.end(), last);
  }

  // The part of `batch` model `i` has not applied yet.
  std::span<const events::RecordedEvent> lacking_from(const std::vector<events::RecordedEvent>& batch,
                                                      std::size_t i) const {
    const auto first = std::find_if(batch.begin(), batch.end(),
                                    [&](const auto& e) { return e.position.value() > checkpoints[i]; });
    return {first, batch.end()};
  }

  // The positions this instance holds for the models, as an SQL bigint[] literal.
  std::string expected_literal() const {
    std::string expected = "'{";
    for (const auto c : checkpoints) expected += (expected.size() > 2 ? "," : "") + std::to_string(c);
    return expected + "}'::bigint[]";
  }

  // Moves every model's checkpoint to `last`, from the positions this instance holds for them.
  std::string checkpoints_advance(std::int64_t last) const {
    return "select projection_advance(" + names_literal + "::text[], " + expected_literal() + ", " +
           std::to_string(last) + ")";
  }

  // Whether every model's stored checkpoint is where this instance left it.
  bool checkpoints_where_left(pqxx::transaction_base& tx) const {
    return tx.exec("select bool_and(coalesce(c.position, 0) = x.position) from unnest(" + names_literal +
                   "::text[], " + expected_literal() + ") as x(model, position) "
                   "left join projection_checkpoints c using (model)")[0][0]
        .as<bool>();
  }

  // One batch: 0 when there was nothing to do.
  Result<std::size_t> step(std::int64_t up_to) {
    connect();
    const auto from = low();
    const auto want = std::min<std::int64_t>(static_cast<std::int64_t>(settings.batch), up_to - from);
    if (want <= 0) return std::size_t{0};
    auto batch = store.read_all(events::GlobalPosition{from}, static_cast<std::size_t>(want));
    if (!batch) return batch.error();
    while (!batch->empty() && batch->back().position.value() > up_to) batch->pop_back();
    if (batch->empty()) return std::size_t{0};
    apply(*batch);
    return batch->size();
  }

  // One batch read from the log: the part each model lacks, in one transaction.
  void apply(const std::vector<events::RecordedEvent>& batch) {
    connect();
    if (batch.empty() || batch.back().position.value() <= low()) return;
    try {
      commit_batch(batch);
    } catch (const pqxx::broken_connection&) {
      conn.reset();
      throw;
    } catch (const std::exception& e) {
      logger()->warn("{}: batch failed ({}); retrying event by event", name, e.what());
      commit_one_by_one(batch);
    }
  }
};

Projector::Projector(const ReadModel& model, const std::string& pg_connection, Settings settings)
    : Projector(std::vector<const ReadModel*>{&model}, pg_connection, std::move(settings)) {}

Projector::Projector(std::vector<const ReadModel*> models, const std::string& pg_connection, Settings settings)
    : impl_(std::make_unique<Impl>(std::move(models), pg_connection, std::move(settings))) {}

Projector::~Projector() = default;

Result<std::int64_t> Projector::catch_up(std::int64_t up_to) {
  std::int64_t total = 0;
  try {
    while (true) {
      auto n = impl_->step(up_to);
      if (!n) return n.error();
      if (*n == 0) break;
      total += static_cast<std::int64_t>(*n);
      position_ = impl_->low();
    }
  } catch (const std::exception& e) {
    return events::make_error(events::ErrorCode::unavailable, e.what());
  }
  position_ = impl_->low();
  return total;
}

Result<void> Projector::apply(const std::vector<events::RecordedEvent>& batch) {
  try {
    impl_->apply(batch);
  } catch (const std::exception& e) {
    return events::make_error(events::ErrorCode::unavailable, e.what());
  }
  position_ = impl_->low();
  return {};
}

void Projector::run(std::stop_token stop) {
  auto& m = *impl_;
  auto last_ping = std::chrono::steady_clock::now();
  while (!stop.stop_requested()) {
    try {
      if (!leader_) {
        if (!m.try_lead()) {
          nap(stop, m.settings.standby_poll);
          continue;
        }
        m.conn.reset();  // re-read the checkpoint: the previous leader may have moved it
        leader_ = true;
        logger()->info("{}: leading", m.name);
      }
      if (std::chrono::steady_clock::now() - last_ping > std::chrono::seconds(1)) {
        last_ping = std::chrono::steady_clock::now();
        if (!m.still_leading()) {
          leader_ = false;
          logger()->warn("{}: lost the lead", m.name);
          continue;
        }
      }
      const auto rings = m.settings.wake ? m.settings.wake->rings() : 0;
      auto n = m.step(std::numeric_limits<std::int64_t>::max());
      if (!n) {
        logger()->warn("{}: {}", m.name, n.error().message);
        nap(stop, std::chrono::milliseconds(500));
        continue;
      }
      position_ = m.low();
      // A batch short of full read the whole log: wait for the next append (a hint rung while
      // it was read ends the wait at once), instead of a read that finds nothing.
      if (*n < m.settings.batch && m.settings.wake) {
        m.settings.wake->wait(stop, rings, m.settings.idle_poll);
      } else if (*n == 0) {
        nap(stop, m.settings.idle_poll);
      }
    } catch (const std::exception& e) {
      logger()->warn("{}: {}; standing down", m.name, e.what());
      m.conn.reset();
      m.leader.reset();  // ends the session, releasing the lock if we still had it
      leader_ = false;
      nap(stop, std::chrono::milliseconds(500));
    }
  }
}

}  // namespace projector
