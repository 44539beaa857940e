#include "projector/projector.hpp"

#include "events/store/pg_event_store.hpp"

#include <pqxx/pqxx>
#include "events/runtime.hpp"

#include <spdlog/spdlog.h>

#include <thread>

namespace projector {

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
    const auto rows = tx.exec_params("select position from " + tx.quote_name(schema) +
                                         ".projection_checkpoints where model = $1",
                                     model);
    return rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
  } catch (const std::exception& e) {
    return events::make_error(events::ErrorCode::unavailable, e.what());
  }
}

struct Projector::Impl {
  const ReadModel& model;
  std::string pg_connection;
  Settings settings;
  events::PgEventStore store;
  std::unique_ptr<pqxx::connection> conn;    // applies; search_path = the schema
  std::unique_ptr<pqxx::connection> leader;  // holds the advisory lock while we lead
  std::int64_t checkpoint = 0;
  std::string consumer;

  Impl(const ReadModel& m, const std::string& pg, Settings s)
      : model(m), pg_connection(pg), settings(std::move(s)), store(pg) {
    consumer = "projector:" + settings.schema + ":" + model.name();
  }

  void connect() {
    if (conn) return;
    conn = std::make_unique<pqxx::connection>(pg_connection);
    use_schema(*conn, settings.schema);
    {
      // Read models can be rebuilt from the log, and each batch commits with its checkpoint, so
      // a crash loses at most the last batches' commits and they are applied again: the
      // projector need not wait for its WAL flushes (each one competed with the appends').
      pqxx::nontransaction tx(*conn);
      tx.exec("set synchronous_commit to off");
    }
    model.prepare(*conn);
    pqxx::nontransaction tx(*conn);
    const auto rows = tx.exec_params("select position from projection_checkpoints where model = $1", model.name());
    checkpoint = rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
  }

  bool try_lead() {
    if (!leader) leader = std::make_unique<pqxx::connection>(pg_connection);
    pqxx::nontransaction tx(*leader);
    return tx.exec_params("select pg_try_advisory_lock(hashtext($1))", consumer)[0][0].as<bool>();
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

  // Writes the batch and the checkpoint in one transaction; the checkpoint row is locked and
  // checked first, so an instance that lost the lead cannot apply what another already did.
  void commit_batch(const std::vector<events::RecordedEvent>& batch, bool one_by_one) {
    pqxx::work tx(*conn);
    const auto rows = tx.exec_params("select position from projection_checkpoints where model = $1 for update",
                                     model.name());
    const std::int64_t stored = rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
    if (stored != checkpoint) {
      throw std::runtime_error("checkpoint moved under us (" + std::to_string(stored) + " vs " +
                               std::to_string(checkpoint) + "): another projector applied this model");
    }
    for (const auto& e : batch) {
      Result<void> applied;
      if (one_by_one) {
        // Slow path after a failed batch: a savepoint per event finds the one PostgreSQL refuses.
        try {
          pqxx::subtransaction sub(tx, "event");
          applied = model.apply(sub, e);
          sub.commit();
        } catch (const std::exception& ex) {
          applied = events::make_error(events::ErrorCode::invalid_argument, ex.what());
        }
      } else {
        applied = model.apply(tx, e);
      }
      if (!applied) {
        logger()->warn("{}: dead letter at position {} ({}): {}", consumer, e.position.value(), e.type,
                       applied.error().message);
        if (settings.record_dead_letters) {
          tx.exec_params("insert into public.dead_letters (consumer, stream, position, type, reason, payload) "
                         "values ($1, $2, $3, $4, $5, $6)",
                         consumer, e.stream, e.position.value(), e.type, applied.error().message, e.data);
        }
      }
    }
    const auto last = batch.back().position.value();
    tx.exec_params("insert into projection_checkpoints (model, position, updated_at) values ($1, $2, now()) "
                   "on conflict (model) do update set position = excluded.position, updated_at = now()",
                   model.name(), last);
    tx.commit();
    checkpoint = last;
  }

  // One batch: 0 when there was nothing to do.
  Result<std::size_t> step(std::int64_t up_to) {
    connect();
    const auto want = std::min<std::int64_t>(static_cast<std::int64_t>(settings.batch), up_to - checkpoint);
    if (want <= 0) return std::size_t{0};
    auto batch = store.read_all(events::GlobalPosition{checkpoint}, static_cast<std::size_t>(want));
    if (!batch) return batch.error();
    while (!batch->empty() && batch->back().position.value() > up_to) batch->pop_back();
    if (batch->empty()) return std::size_t{0};
    try {
      commit_batch(*batch, false);
    } catch (const pqxx::broken_connection&) {
      conn.reset();
      throw;
    } catch (const std::exception& e) {
      logger()->warn("{}: batch failed ({}); retrying event by event", consumer, e.what());
      commit_batch(*batch, true);
    }
    return batch->size();
  }
};

Projector::Projector(const ReadModel& model, const std::string& pg_connection, Settings settings)
    : impl_(std::make_unique<Impl>(model, pg_connection, std::move(settings))) {}

Projector::~Projector() = default;

Result<std::int64_t> Projector::catch_up(std::int64_t up_to) {
  std::int64_t total = 0;
  try {
    while (true) {
      auto n = impl_->step(up_to);
      if (!n) return n.error();
      if (*n == 0) break;
      total += static_cast<std::int64_t>(*n);
      position_ = impl_->checkpoint;
    }
  } catch (const std::exception& e) {
    return events::make_error(events::ErrorCode::unavailable, e.what());
  }
  position_ = impl_->checkpoint;
  return total;
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
        logger()->info("{}: leading", m.consumer);
      }
      if (std::chrono::steady_clock::now() - last_ping > std::chrono::seconds(1)) {
        last_ping = std::chrono::steady_clock::now();
        if (!m.still_leading()) {
          leader_ = false;
          logger()->warn("{}: lost the lead", m.consumer);
          continue;
        }
      }
      auto n = m.step(std::numeric_limits<std::int64_t>::max());
      if (!n) {
        logger()->warn("{}: {}", m.consumer, n.error().message);
        nap(stop, std::chrono::milliseconds(500));
        continue;
      }
      position_ = m.checkpoint;
      if (*n == 0) nap(stop, m.settings.idle_poll);
    } catch (const std::exception& e) {
      logger()->warn("{}: {}; standing down", m.consumer, e.what());
      m.conn.reset();
      m.leader.reset();  // ends the session, releasing the lock if we still had it
      leader_ = false;
      nap(stop, std::chrono::milliseconds(500));
    }
  }
}

}  // namespace projector
