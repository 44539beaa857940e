#pragma once
// The command-service's composition root: everything main runs, built from Settings in one place
// and used alike by main and by the tests (tests/integration/api_fixture.hpp).
#include "command_service/http/api.hpp"
#include "command_service/pg/event_feed.hpp"
#include "command_service/http/http_server.hpp"
#include "command_service/http/key_cache.hpp"
#include "command_service/http/metrics.hpp"
#include "command_service/app/runner_reports.hpp"
#include "command_service/app/runner_targets.hpp"
#include "command_service/app/started_placements.hpp"
#include "command_service/settings.hpp"
#include "events/bus/hints.hpp"
#include "events/bus/nats_client.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <thread>
#include <vector>

namespace command_service {

class App {
 public:
  // Connects to NATS and PostgreSQL, wires the routes, listens. A setting that cannot work
  // (bad preview keys, a port taken) is the error.
  static events::Result<std::unique_ptr<App>> build(const Settings& settings);
  ~App();

  // Serves on the settings' threads until stop() (SIGTERM in main): in-flight requests finish.
  void run();
  // The same on threads of its own (tests); stop() and the destructor end them.
  void start();
  void stop();

  unsigned short port() const { return http_->port(); }
  Db& db() { return *db_; }
  Router& router() { return router_; }
  Services& services() { return *services_; }
  events::bus::NatsClient& nats() { return *nats_; }

 private:
  App() = default;
  boost::asio::awaitable<void> drain();

  Settings settings_;
  std::unique_ptr<events::bus::NatsClient> nats_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Services> services_;
  std::shared_ptr<events::Doorbell> appended_;
  std::unique_ptr<events::bus::HintListener> hints_;
  Metrics metrics_;
  KeyCache keys_;  // before feed_: the feed's thread hands it what it reads
  Router router_;
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<StartedPlacements> started_;  // before targets_, which calls it
  std::unique_ptr<TargetHandOffs> targets_;  // before feed_: the feed's thread hands it what it reads
  std::unique_ptr<EventFeed> feed_;  // after io_: it holds executors of waiting streams
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<ReportListener> reports_;
  std::vector<std::thread> threads_;
};

}  // namespace command_service
