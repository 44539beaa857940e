#include "projector/replay.hpp"

#include "events/store/copy_log.hpp"
#include "projector/projector.hpp"
#include "shared_read.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace projector {

using events::Result;

namespace {

// Events per transaction when rebuilding: big batches, since the models write set-wise.
constexpr std::size_t kReplayBatch = 5000;

events::Error fail(const std::string& what) { return events::make_error(events::ErrorCode::unavailable, what); }

// A fresh schema is loaded faster without its secondary indexes: each one is built once from the
// loaded table instead of growing row by row (audit_log has two). The unique ones stay, since
// the upserts name them as conflict targets; no model's apply looks a row up by anything else.
// Returns the dropped indexes' definitions, for build_indexes.
std::vector<std::string> drop_secondary_indexes(pqxx::connection_base& c, const std::string& schema) {
  pqxx::work tx(c);
  const auto rows = tx.exec_params(
      "select pg_get_indexdef(x.indexrelid), quote_ident(n.nspname) || '.' || quote_ident(i.relname) "
      "from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace "
      "where n.nspname = $1 and not x.indisunique",
      schema);
  std::vector<std::string> definitions;
  for (const auto& r : rows) {
    definitions.push_back(r[0].as<std::string>());
    tx.exec("drop index " + r[1].as<std::string>());
  }
  tx.commit();
  return definitions;
}

void build_indexes(pqxx::connection_base& c, const std::vector<std::string>& definitions) {
  pqxx::work tx(c);
  for (const auto& d : definitions) tx.exec(d);
  tx.commit();
}

}  // namespace

Settings replay_settings(const std::string& schema) {
  Settings settings;
  settings.schema = schema;
  settings.record_dead_letters = false;
  settings.batch = kReplayBatch;
  settings.defer_writes = false;
  return settings;
}

Result<std::int64_t> position_as_of(const std::string& pg_connection, const std::string& position_or_time) {
  const bool numeric = !position_or_time.empty() &&
                       position_or_time.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) return std::stoll(position_or_time);
  try {
    pqxx::connection c(pg_connection);
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_params(
        "select coalesce(max(position), 0) from events where recorded_at <= $1::timestamptz", position_or_time);
    return rows[0][0].as<std::int64_t>();
  } catch (const pqxx::data_exception&) {
    return events::make_error(events::ErrorCode::invalid_argument,
                              "'" + position_or_time + "' is neither a position nor an ISO-8601 time");
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

Result<ReplayResult> replay_into(const std::string& pg_connection, const std::string& schema, std::int64_t up_to,
                                 const ReplayProgress& progress) {
  const auto models = all_models();
  try {
    pqxx::connection c(pg_connection);
    pqxx::nontransaction tx(c);
    if (!tx.exec_params("select 1 from pg_namespace where nspname = $1", schema).empty()) {
      return events::make_error(events::ErrorCode::already_exists,
                                "schema " + schema + " already exists; drop it or choose another");
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (auto made = ensure_schema(pg_connection, schema, models); !made) return made.error();
  ReplayResult result;
  const auto t0 = std::chrono::steady_clock::now();
  const auto settings = replay_settings(schema);
  try {
    pqxx::connection c(pg_connection);
    const auto deferred = drop_secondary_indexes(c, schema);
    // Two projectors side by side, each on its own thread and connections: `audit` and `usage`,
    // and the others. One alone left both cores idle a quarter of the time, since it and its
    // PostgreSQL backend take turns. The split is the one measured fastest (bench/replay, 300k
    // events): with `audit` alone beside the rest 85k events/s, with `usage` beside it 104k/s,
    // with `runners` too 90k/s. The log is read once for both (SharedRead).
    std::vector<const ReadModel*> audit_usage;
    std::vector<const ReadModel*> others;
    for (const auto& m : models) {
      (m->name() == "audit" || m->name() == "usage" ? audit_usage : others).push_back(m.get());
    }
    std::vector<std::unique_ptr<Projector>> projectors;
    for (auto* group : {&others, &audit_usage}) {
      if (!group->empty()) projectors.push_back(std::make_unique<Projector>(*group, pg_connection, settings));
    }
    auto lowest = [&] {
      std::int64_t low = up_to;
      for (const auto& p : projectors) low = std::min(low, p->position());
      return low;
    };
    SharedRead log(projectors.size());
    std::vector<Result<void>> outcomes(projectors.size());
    Result<void> read;
    {
      std::vector<std::jthread> threads;
      for (std::size_t i = 0; i < projectors.size(); ++i) {
        threads.emplace_back([&, i] {
          while (auto batch = log.take(i)) {
            outcomes[i] = projectors[i]->apply(*batch);
            if (!outcomes[i]) return log.stop();
          }
        });
      }
      // However the reading ends, the projectors hear of it before their threads are joined.
      const std::unique_ptr<SharedRead, void (*)(SharedRead*)> ends(&log, [](SharedRead* l) { l->finish(); });
      std::int64_t reported = 0;
      auto copied = events::copy_log(pg_connection, 0, up_to, kReplayBatch, [&](std::vector<events::RecordedEvent>&& batch) {
        result.events += static_cast<std::int64_t>(batch.size());
        if (!log.put(std::make_shared<const std::vector<events::RecordedEvent>>(std::move(batch)))) return false;
        if (progress && result.events - reported >= 100000) {
          reported = result.events;
          progress(result.events, lowest());
        }
        return true;
      });
      if (!copied) read = copied.error();
      if (!read) log.stop();
    }
    if (!read) return read.error();
    for (const auto& o : outcomes) {
      if (!o) return o.error();
    }
    build_indexes(c, deferred);
    result.position = lowest();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

// Compares a replay with the live models as of one fixed moment: the live tables and their
// checkpoints are copied in one repeatable-read transaction (one snapshot, so nothing the live
// projector applies meanwhile — a heartbeat — moves them), then each model is replayed up to its
// copied checkpoint and the two are compared.
Result<VerifyResult> verify(const std::string& pg_connection, const std::string& live_schema) {
  const auto models = all_models();
  const std::string scratch = "replay_verify_" + std::to_string(getpid());
  const std::string frozen = scratch + "_live";
  VerifyResult out;
  try {
    pqxx::connection c(pg_connection);
    auto drop_both = [&] {
      pqxx::nontransaction tx(c);
      tx.exec("drop schema if exists " + tx.quote_name(scratch) + " cascade");
      tx.exec("drop schema if exists " + tx.quote_name(frozen) + " cascade");
    };
    drop_both();
    std::map<std::string, std::int64_t> positions;
    {
      pqxx::work tx(c);
      tx.exec("set transaction isolation level repeatable read");
      tx.exec("create schema " + tx.quote_name(frozen));
      for (const auto& model : models) {
        const auto rows = tx.exec_params("select position from " + tx.quote_name(live_schema) +
                                             ".projection_checkpoints where model = $1",
                                         model->name());
        positions[model->name()] = rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
        for (const auto& table : model->tables()) {
          tx.exec("create table " + tx.quote_name(frozen) + "." + tx.quote_name(table.name) + " as select * from " +
                  tx.quote_name(live_schema) + "." + tx.quote_name(table.name));
        }
      }
      tx.commit();
    }
    if (auto made = ensure_schema(pg_connection, scratch, models); !made) return made.error();
    const auto deferred = drop_secondary_indexes(c, scratch);
    const auto settings = replay_settings(scratch);
    const auto t0 = std::chrono::steady_clock::now();
    // The models whose live checkpoints agree (usually all) are replayed together, from one read.
    std::map<std::int64_t, std::vector<const ReadModel*>> by_position;
    for (const auto& model : models) by_position[positions[model->name()]].push_back(model.get());
    for (const auto& [live_position, group] : by_position) {
      Projector p(group, pg_connection, settings);
      auto n = p.catch_up(live_position);
      if (!n) return n.error();
      out.replay.events = std::max(out.replay.events, *n);
      out.replay.position = std::max(out.replay.position, live_position);
    }
    build_indexes(c, deferred);
    int tables = 0;
    std::int64_t rows_compared = 0;
    for (const auto& model : models) {
      pqxx::nontransaction tx(c);
      for (const auto& table : model->tables()) {
        ++tables;
        const auto live = tx.quote_name(frozen) + "." + tx.quote_name(table.name);
        const auto rebuilt = tx.quote_name(scratch) + "." + tx.quote_name(table.name);
        rows_compared += tx.exec("select count(*) from " + live)[0][0].as<std::int64_t>();
        for (const auto& [from, to, label] :
             {std::tuple{live, rebuilt, "only in live"}, std::tuple{rebuilt, live, "only in replay"}}) {
          const auto diff = tx.exec("select to_jsonb(d)::text from (select * from " + from + " except select * from " +
                                    to + " order by " + table.order_by + " limit 10) d");
          for (const auto& row : diff) {
            out.equal = false;
            out.diff += std::string(label) + " " + table.name + ": " + row[0].as<std::string>() + "\n";
          }
        }
      }
    }
    out.replay.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    drop_both();
    char line[256];
    std::snprintf(line, sizeof line, "%s: %zu models, %d tables, %lld live rows; %lld events replayed in %.2f s",
                  out.equal ? "equal" : "DIFFERENT", models.size(), tables,
                  static_cast<long long>(rows_compared), static_cast<long long>(out.replay.events),
                  out.replay.seconds);
    out.summary = line;
    return out;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

}  // namespace projector
