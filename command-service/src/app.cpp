#include "command_service/app.hpp"

#include "command_service/app/scheduler.hpp"
#include "events/bus/placements.hpp"
#include "events/api_keys.hpp"
#include "events/tokens.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace command_service {

using events::ErrorCode;
using events::make_error;

events::Result<std::unique_ptr<App>> App::build(const Settings& settings) {
  std::unique_ptr<App> app(new App());
  app->settings_ = settings;
  auto nats = events::bus::NatsClient::connect(settings.nats_url, "command-service");
  if (!nats) return nats.error();
  app->nats_ = std::move(*nats);
  app->db_ = std::make_unique<Db>(settings.database_url, events::bus::append_hint(*app->nats_));
  app->services_ = std::make_unique<Services>(
      Services{*app->db_, ApiSettings{}, [n = app->nats_.get()] { return n->connected(); }});
  auto& api = app->services_->settings;
  api.proxy_url = settings.proxy_url;
  api.ssh_gateway = settings.ssh_gateway;
  api.preview_token_ttl = settings.preview_token_ttl;
  api.snapshot_import_dirs = settings.snapshot_import_dirs;
  auto keys = events::tokens::preview_keys(settings.preview_keys, settings.admin_api_key);
  if (!keys) return make_error(ErrorCode::invalid_argument, "PREVIEW_KEYS: " + keys.error().message);
  api.preview_keys = *keys;
  api.forward_key = events::tokens::forward_key(settings.admin_api_key);
  auto targets = events::webhooks::TargetPolicy::parse(settings.webhook_allow_ranges);
  if (!targets) return make_error(ErrorCode::invalid_argument, "WEBHOOK_ALLOW_RANGES: " + targets.error().message);
  api.webhook_targets = *targets;

  // Live streams follow the log, woken by the append hints of every appender.
  app->appended_ = std::make_shared<events::Doorbell>();
  app->hints_ = std::make_unique<events::bus::HintListener>(*app->nats_, app->appended_);
  app->services_->metrics = &app->metrics_;
  app->services_->hand_off = [n = app->nats_.get()](const events::wire::PlacementHandOff& handed) {
    events::bus::hand_off_placement(*n, handed);
  };
  auto& router = app->router_;
  router.set_admin_key_hash(settings.admin_api_key.empty() ? std::string() : events::sha256_hex(settings.admin_api_key));
  router.set_metrics(&app->metrics_);
  router.set_authenticator(api_key_authenticator(*app->services_));
  router.set_rate_limits(settings.limits);
  register_all_routes(router, *app->services_);

  app->io_ = std::make_unique<boost::asio::io_context>(settings.threads);
  app->feed_ = std::make_unique<EventFeed>(*app->db_, app->appended_);
  app->services_->feed = app->feed_.get();
  app->feed_->observe([keys = &app->keys_](const std::vector<events::RecordedEvent>& seen) { keys->saw(seen); });
  // Runners hear what to converge to right after the append, instead of asking (runner_targets.hpp).
  // The proxies hear where a sandbox started after its request runs, and which key asked (started_placements.hpp).
  app->started_ = std::make_unique<StartedPlacements>(
      app->services_->hand_off, [keys = &app->keys_](const std::string& actor) { return keys->revoked(Identity{"", actor}); });
  app->services_->expect_start = [started = app->started_.get()](const events::SandboxId& id, std::string key, std::string actor) {
    started->expect(id, {std::move(key), std::move(actor)});
  };
  app->targets_ = std::make_unique<TargetHandOffs>(
      *app->db_, *app->nats_,
      [started = app->started_.get()](DbContext& db, const events::sandbox::State& st) { started->started(db, st); });
  app->feed_->observe([targets = app->targets_.get()](const std::vector<events::RecordedEvent>& seen) { targets->saw(seen); });
  app->services_->keys = &app->keys_;
  ServerSettings server;
  server.address = settings.address;
  server.port = settings.port;
  server.body_limit = static_cast<std::size_t>(settings.body_limit);
  server.idle_timeout = settings.idle_timeout;
  server.connections = settings.connections;
  // Connections held at once stay below the descriptors the process may open (room is left for
  // the database connections, NATS and the log).
  if (const long files = events::raise_open_file_limit(); files > 0 && server.connections.total > 0) {
    server.connections.total = static_cast<int>(std::min<long>(server.connections.total, std::max(16L, files - 256)));
  }
  try {
    app->http_ = std::make_unique<HttpServer>(*app->io_, server, [r = &app->router_](Request& req, const std::string& remote) {
      return r->dispatch(req, remote);
    });
  } catch (const std::exception& e) {
    return make_error(ErrorCode::unavailable, "cannot listen on " + settings.address + ":" +
                                                  std::to_string(settings.port) + ": " + e.what());
  }
  app->http_->start();
  if (settings.run_scheduler) {
    SchedulerSettings scheduling;
    scheduling.wait = settings.schedule_wait;
    boost::asio::co_spawn(*app->io_, run_scheduler(*app->db_, scheduling, app->services_->clock), boost::asio::detached);
  }
  app->reports_ = std::make_unique<ReportListener>(*app->nats_, *app->db_);
  if (!app->reports_->ok()) {
    return make_error(ErrorCode::unavailable,
                      std::string("cannot subscribe to runner reports on ") + events::bus::kReportSubjects);
  }
  return app;
}

App::~App() {
  stop();
  for (auto& t : threads_) t.join();
}

// Lets in-flight requests finish (at most 10 s), then stops the loop.
boost::asio::awaitable<void> App::drain() {
  boost::asio::steady_timer timer(*io_);
  for (int i = 0; i < 1000 && http_->in_flight() > 0; ++i) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  io_->stop();
}

void App::run() {
  boost::asio::signal_set signals(*io_, SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    http_->stop();
    boost::asio::co_spawn(*io_, drain(), boost::asio::detached);
  });
  spdlog::info("command-service listening on http://{}:{}/api", settings_.address, http_->port());
  start();
  for (auto& t : threads_) t.join();
  threads_.clear();
  spdlog::info("command-service stopped");
}

void App::start() {
  for (int i = 0; i < settings_.threads; ++i) threads_.emplace_back([this] { io_->run(); });
}

void App::stop() {
  if (http_) http_->stop();
  if (io_) io_->stop();
}

}  // namespace command_service
