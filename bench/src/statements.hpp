#pragma once
// BENCH_STATEMENTS=1: which statements took PostgreSQL's time (pg_stat_statements, which
// testing_support::PostgresServer loads when the variable is set).
#include <pqxx/pqxx>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace bench {

inline bool statements_wanted() { return std::getenv("BENCH_STATEMENTS") != nullptr; }

// Counts from here on.
inline void start_statements(pqxx::transaction_base& tx) {
  tx.exec("create extension if not exists pg_stat_statements");
  tx.exec("select pg_stat_statements_reset()");
}

// The `limit` statements that took the most time since start_statements, over `what`.
inline void print_statements(const std::string& conn, const std::string& what, int limit) {
  pqxx::connection c(conn);
  pqxx::nontransaction tx(c);
  std::printf("calls, total ms, rows, statement (pg_stat_statements, %s)\n", what.c_str());
  for (const auto& r : tx.exec("select calls, round(total_exec_time::numeric, 0), rows, "
                               "left(regexp_replace(query, '\\s+', ' ', 'g'), 160) from pg_stat_statements "
                               "order by total_exec_time desc limit " + std::to_string(limit))) {
    std::printf("%10s %8s ms %10s rows  %s\n", r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str());
  }
}

}  // namespace bench
