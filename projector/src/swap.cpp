// `projector replay --swap`: a rebuild put in place of the live read models (replay.hpp).
#include "projector/projector.hpp"
#include "projector/replay.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <set>
#include <thread>
#include <unistd.h>

namespace projector {

using events::Result;

namespace {

// Tries at the live tables' locks. Each waits at most kLockWait: the live projector may hold one
// table while it waits for another this swap already holds, and a reader may be in the middle of
// a query; giving up and trying again lets them finish instead of deadlocking.
constexpr int kLockAttempts = 100;
constexpr const char* kLockWait = "200ms";

std::int64_t log_head(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  return tx.exec("select coalesce(max(position), 0) from events")[0][0].as<std::int64_t>();
}

// The live schema's tables, and those of them that no model makes (the swap would drop them).
Result<std::vector<std::string>> live_tables(pqxx::connection& c, const std::string& live,
                                             const std::vector<std::unique_ptr<ReadModel>>& models) {
  std::set<std::string> known{"projection_checkpoints"};
  for (const auto& m : models) {
    for (const auto& t : m->tables()) known.insert(t.name);
  }
  pqxx::nontransaction tx(c);
  if (tx.exec_params("select 1 from pg_namespace where nspname = $1", live).empty()) {
    return events::make_error(events::ErrorCode::not_found, "schema " + live + " does not exist: nothing to swap");
  }
  const auto rows = tx.exec_params(
      "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
      "where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f') order by 1",
      live);
  std::vector<std::string> tables;
  std::string foreign;
  for (const auto& r : rows) {
    const auto name = r[0].as<std::string>();
    if (!known.contains(name)) foreign += (foreign.empty() ? "" : ", ") + name;
    tables.push_back(name);
  }
  if (!foreign.empty()) {
    return events::make_error(events::ErrorCode::invalid_argument,
                              "schema " + live + " holds tables that no read model makes (" + foreign +
                                  "); the swap would drop them: move them elsewhere first");
  }
  return tables;
}

void drop_schema(pqxx::connection& c, const std::string& schema) {
  pqxx::nontransaction tx(c);
  tx.exec("drop schema if exists " + tx.quote_name(schema) + " cascade");
}

// The work of rebuild_and_swap, into `fresh`; the caller drops `fresh` when this fails.
Result<SwapResult> build_and_swap(const std::string& pg_connection, const std::string& live, const std::string& fresh,
                                  const ReplayProgress& progress) {
  const auto models = all_models();
  const std::string replaced = live + "_replaced_" + std::to_string(getpid());
  SwapResult out;
  pqxx::connection c(pg_connection);
  auto tables = live_tables(c, live, models);
  if (!tables) return tables.error();
  auto rebuilt = replay_into(pg_connection, fresh, log_head(c), progress);
  if (!rebuilt) return rebuilt.error();
  out.replay = *rebuilt;
  Projector following(borrow(models), pg_connection, replay_settings(fresh));
  // What was appended during the rebuild, beside the live models (no lock yet).
  auto before = following.catch_up(std::numeric_limits<std::int64_t>::max());
  if (!before) return before.error();
  out.caught_up = *before;
  std::string lock = "lock table ";
  {
    pqxx::nontransaction quoting(c);
    for (std::size_t i = 0; i < tables->size(); ++i) {
      lock += (i ? ", " : "") + quoting.quote_name(live) + "." + quoting.quote_name((*tables)[i]);
    }
  }
  lock += " in access exclusive mode";
  for (out.attempts = 1;; ++out.attempts) {
    pqxx::work tx(c);
    tx.exec(std::string("set local lock_timeout = '") + kLockWait + "'");
    const auto asked = std::chrono::steady_clock::now();
    try {
      tx.exec(lock);
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() != "55P03" || out.attempts == kLockAttempts) {
        return events::make_error(events::ErrorCode::unavailable,
                                  "cannot lock the live read models in " + live + ": " + e.what());
      }
      tx.abort();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    // The live checkpoints cannot move now: the new schema takes the rest of the log (on its
    // own connection: its tables are not locked) and so reaches at least where they are.
    auto last = following.catch_up(std::numeric_limits<std::int64_t>::max());
    if (!last) return last.error();
    out.caught_up += *last;
    tx.exec("alter schema " + tx.quote_name(live) + " rename to " + tx.quote_name(replaced));
    tx.exec("alter schema " + tx.quote_name(fresh) + " rename to " + tx.quote_name(live));
    tx.exec("drop schema " + tx.quote_name(replaced) + " cascade");
    tx.commit();
    out.locked_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - asked).count();
    return out;
  }
}

}  // namespace

Result<SwapResult> rebuild_and_swap(const std::string& pg_connection, const std::string& live,
                                    const ReplayProgress& progress) {
  const std::string fresh = live + "_rebuild_" + std::to_string(getpid());
  Result<SwapResult> out = SwapResult{};
  try {
    out = build_and_swap(pg_connection, live, fresh, progress);
  } catch (const std::exception& e) {
    out = events::make_error(events::ErrorCode::unavailable, e.what());
  }
  if (!out) {
    try {
      pqxx::connection c(pg_connection);
      drop_schema(c, fresh);
    } catch (const std::exception&) {
      // PostgreSQL is gone: the schema named after this process stays, and says whose it was
    }
  }
  return out;
}

}  // namespace projector
