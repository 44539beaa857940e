#pragma once
// Blocking PostgreSQL work (libpqxx) runs on its own thread pool, never on the I/O threads.
// Each pool thread has its own event store and query connection (search_path: read, public).
#include "events/store/pg_event_store.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <functional>
#include <future>
#include <optional>

namespace pqxx {
class connection_base;
}

namespace command_service {

struct DbContext {
  events::PgEventStore& store;
  pqxx::connection_base& conn;
};

class Db {
 public:
  Db(std::string pg_connection, std::size_t threads, std::function<void()> on_append = {});
  ~Db();

  // Runs f(DbContext&) on the pool; the coroutine resumes on its own executor with the result.
  template <class F>
  auto run(F f) -> boost::asio::awaitable<decltype(f(std::declval<DbContext&>()))> {
    using R = decltype(f(std::declval<DbContext&>()));
    auto result = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                       void(std::exception_ptr, std::optional<R>)>(
        [this, f = std::move(f)](auto handler) mutable {
          boost::asio::post(pool_, [this, f = std::move(f), handler = std::move(handler)]() mutable {
            std::exception_ptr error;
            std::optional<R> value;
            try {
              value.emplace(f(context()));
            } catch (...) {
              error = std::current_exception();
            }
            auto ex = boost::asio::get_associated_executor(handler);
            boost::asio::post(ex, [handler = std::move(handler), error, value = std::move(value)]() mutable {
              std::move(handler)(error, std::move(value));
            });
          });
        },
        boost::asio::use_awaitable);
    co_return std::move(*result);
  }

  // For tests and tools outside a coroutine: runs f on the pool and waits for it.
  template <class F>
  auto run_blocking(F f) -> decltype(f(std::declval<DbContext&>())) {
    using R = decltype(f(std::declval<DbContext&>()));
    std::promise<R> done;
    boost::asio::post(pool_, [&] {
      try {
        done.set_value(f(context()));
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    return done.get_future().get();
  }

  const std::string& connection_string() const { return pg_connection_; }

 private:
  DbContext& context();
  std::string pg_connection_;
  std::function<void()> on_append_;
  boost::asio::thread_pool pool_;
};

}  // namespace command_service
