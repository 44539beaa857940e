#include "command_service/pg/db.hpp"

#include <pqxx/pqxx>

namespace command_service {

namespace {

struct ThreadState {
  std::string for_connection;
  std::unique_ptr<events::PgEventStore> store;
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<DbContext> context;
  events::AggregateCache<events::sandbox::State> sandboxes;
};

}  // namespace

Db::Db(std::string pg_connection, std::function<void()> on_append)
    : pg_connection_(std::move(pg_connection)), on_append_(std::move(on_append)) {}

DbContext& Db::context() {
  thread_local ThreadState state;
  if (!state.context || state.for_connection != pg_connection_ || !state.conn->is_open()) {
    state.context.reset();
    state.store = std::make_unique<events::PgEventStore>(pg_connection_);
    if (on_append_) state.store->on_append(on_append_);
    state.conn = std::make_unique<pqxx::connection>(pg_connection_);
    pqxx::nontransaction tx(*state.conn);
    tx.exec("set search_path to read, public");
    state.for_connection = pg_connection_;
    state.context = std::make_unique<DbContext>(DbContext{*state.store, *state.conn, state.sandboxes});
  }
  return *state.context;
}

}  // namespace command_service
