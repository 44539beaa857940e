#include "events/store/pg_event_store.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace events {

Result<int> apply_migrations(const std::string& connection_string, const std::string& schema_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(schema_dir, ec)) {
    return make_error(ErrorCode::invalid_argument, "schema directory '" + schema_dir + "' not found");
  }
  const std::regex pattern(R"(^(\d{4})_[a-z0-9_]+\.sql$)");
  std::vector<std::pair<int, fs::path>> files;
  for (const auto& entry : fs::directory_iterator(schema_dir)) {
    std::smatch m;
    const auto name = entry.path().filename().string();
    if (std::regex_match(name, m, pattern)) files.emplace_back(std::stoi(m[1]), entry.path());
  }
  std::sort(files.begin(), files.end());

  try {
    pqxx::connection conn(connection_string);
    {
      pqxx::work tx(conn);
      tx.exec("select pg_advisory_xact_lock(7700000)");
      tx.exec(
          "create table if not exists schema_migrations (version int primary key, name text not "
          "null, applied_at timestamptz not null default now())");
      tx.commit();
    }
    int applied = 0;
    for (const auto& [version, path] : files) {
      pqxx::work tx(conn);
      tx.exec("select pg_advisory_xact_lock(7700000)");
      if (!tx.exec_params("select 1 from schema_migrations where version = $1", version).empty()) {
        continue;
      }
      std::ifstream in(path);
      std::stringstream sql;
      sql << in.rdbuf();
      tx.exec(sql.str());
      tx.exec_params("insert into schema_migrations (version, name) values ($1, $2)", version,
                     path.filename().string());
      tx.commit();
      ++applied;
    }
    return applied;
  } catch (const pqxx::sql_error& e) {
    return make_error(ErrorCode::invalid_argument, std::string("migration failed: ") + e.what());
  } catch (const pqxx::failure& e) {
    return make_error(ErrorCode::unavailable, std::string("migration failed: ") + e.what());
  }
}

}  // namespace events
