#pragma once
// PostgreSQL work (libpqxx, blocking) runs inline on the I/O thread that serves the request.
// The io_context is run by several threads, so a thread waiting on PostgreSQL holds up only
// its own request; every hop to another thread costs a wake-up (measured 0.1-0.3 ms each on
// this kind of VM), and a request that stays on one thread has none. Each thread has its own
// event store and query connection (search_path: read, public); the threads' single-stream
// appends go through one GroupCommit (events/store/group_commit.hpp), so concurrent commands
// share a transaction and a WAL flush.
#include "events/command_runner.hpp"
#include "events/deciders/sandbox.hpp"
#include "events/store/pg_event_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace pqxx {
class connection_base;
}

namespace command_service {

// Sandbox id → its creation time as the projection shows it (it never changes), shared by the
// threads: a command's answer is built from the decider's state and this.
class CreationTimes {
 public:
  std::optional<std::string> find(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = times_.find(id);
    return it == times_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  void put(const std::string& id, const std::string& at) {
    std::lock_guard lock(mutex_);
    if (times_.size() >= 16384) times_.clear();  // crude, bounded
    times_.emplace(id, at);
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> times_;
};

struct DbContext {
  events::PgEventStore& store;
  pqxx::connection_base& conn;
  // Sandboxes this process has loaded: a command decides on them and reads no events, or only
  // those since (command_runner.hpp).
  events::AggregateCache<events::sandbox::State>& sandboxes;
  CreationTimes& created_at;
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
  std::unique_ptr<events::AggregateCache<events::sandbox::State>> sandboxes_ =
      std::make_unique<events::AggregateCache<events::sandbox::State>>();
  std::unique_ptr<CreationTimes> created_at_ = std::make_unique<CreationTimes>();
  std::unique_ptr<events::GroupCommit> appends_;
  std::uint64_t serial_;
};

}  // namespace command_service
