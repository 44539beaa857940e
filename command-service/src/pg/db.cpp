#include "command_service/pg/db.hpp"

#include <pqxx/pqxx>

#include <atomic>

namespace command_service {

namespace {

std::atomic<std::uint64_t> g_serials{0};

struct ThreadState {
  std::uint64_t owner = 0;  // the Db's serial: a new Db at the same address is another owner
  std::string for_connection;
  std::unique_ptr<events::PgEventStore> store;
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<DbContext> context;
};

}  // namespace

Db::Db(std::string pg_connection, std::function<void()> on_append)
    : pg_connection_(std::move(pg_connection)),
      on_append_(std::move(on_append)),
      appends_(std::make_unique<events::GroupCommit>(pg_connection_)),
      serial_(++g_serials) {
  if (on_append_) appends_->on_append(on_append_);
}

DbContext& Db::context() {
  thread_local ThreadState state;
  if (!state.context || state.owner != serial_ || state.for_connection != pg_connection_ || !state.conn->is_open()) {
    state.context.reset();
    state.store = std::make_unique<events::PgEventStore>(pg_connection_);
    if (on_append_) state.store->on_append(on_append_);
    state.store->group_appends(appends_.get());
    state.conn = std::make_unique<pqxx::connection>(pg_connection_);
    pqxx::nontransaction tx(*state.conn);
    tx.exec("set search_path to read, public");
    state.owner = serial_;
    state.for_connection = pg_connection_;
    state.context = std::make_unique<DbContext>(DbContext{*state.store, *state.conn, *sandboxes_, *created_at_});
  }
  return *state.context;
}

}  // namespace command_service
