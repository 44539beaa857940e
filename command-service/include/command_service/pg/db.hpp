#pragma once
// PostgreSQL work (libpqxx, blocking) runs inline on the I/O thread that serves the request.
// The io_context is run by several threads, so a thread waiting on PostgreSQL holds up only
// its own request; every hop to another thread costs a wake-up (measured 0.1-0.3 ms each on
// this kind of VM), and a request that stays on one thread has none. Each thread has its own
// event store and query connection (search_path: read, public).
#include "events/command_runner.hpp"
#include "events/deciders/sandbox.hpp"
#include "events/store/pg_event_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>

namespace pqxx {
class connection_base;
}

namespace command_service {

struct DbContext {
  events::PgEventStore& store;
  pqxx::connection_base& conn;
  // Sandboxes this thread has loaded: a command reads only the events since (command_runner.hpp).
  events::AggregateCache<events::sandbox::State>& sandboxes;
};

class Db {
 public:
  explicit Db(std::string pg_connection, std::function<void()> on_append = {});

  // Runs f(DbContext&) on this thread; an awaitable so call sites stay free to move it later.
  template <class F>
  auto run(F f) -> boost::asio::awaitable<decltype(f(std::declval<DbContext&>()))> {
    co_return f(context());
  }

  // For tests and tools outside a coroutine.
  template <class F>
  auto run_blocking(F f) -> decltype(f(std::declval<DbContext&>())) {
    return f(context());
  }

  const std::string& connection_string() const { return pg_connection_; }

 private:
  DbContext& context();
  std::string pg_connection_;
  std::function<void()> on_append_;
};

}  // namespace command_service
