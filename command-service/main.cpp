// command-service: the REST API on :3000 under /api. Reads settings from the environment,
// wires the parts together, runs until SIGTERM/SIGINT (in-flight requests finish).
#include "command_service/api.hpp"
#include "command_service/event_feed.hpp"
#include "command_service/http_server.hpp"
#include "command_service/metrics.hpp"
#include "command_service/runner_reports.hpp"
#include "command_service/scheduler.hpp"
#include "events/api_keys.hpp"
#include "events/bus/hints.hpp"
#include "events/conn_limits.hpp"
#include "events/tokens.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <thread>

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// Lets in-flight requests finish (at most 10 s), then stops the loop.
boost::asio::awaitable<void> drain(command_service::HttpServer& http, boost::asio::io_context& io) {
  boost::asio::steady_timer timer(io);
  for (int i = 0; i < 1000 && http.in_flight() > 0; ++i) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  io.stop();
}

}  // namespace

int main() {
  using namespace command_service;
  const auto db_url = env_or("DATABASE_URL", "");
  if (db_url.empty()) {
    std::cerr << "command-service: DATABASE_URL is not set (a libpq connection string)\n";
    return 2;
  }
  ServerSettings server;
  server.address = env_or("API_ADDRESS", "127.0.0.1");
  const auto port = env_or("API_PORT", "3000");
  try {
    const int p = std::stoi(port);
    if (p < 0 || p > 65535) throw std::out_of_range(port);
    server.port = static_cast<unsigned short>(p);
  } catch (const std::exception&) {
    std::cerr << "command-service: API_PORT '" << port << "' is not a port number\n";
    return 2;
  }
  auto nats = events::bus::NatsClient::connect(env_or("NATS_URL", "nats://127.0.0.1:4222"), "command-service");
  if (!nats) {
    std::cerr << "command-service: " << nats.error().message << "\n";
    return 2;
  }
  Db db(db_url, events::bus::append_hint(**nats));
  Services services{db, ApiSettings{}, [&nats] { return (*nats)->connected(); }};
  services.settings.proxy_url = env_or("PROXY_URL", "http://127.0.0.1:4000");
  std::string admin_key_hash;  // empty: the admin routes refuse everyone
  if (const auto admin = env_or("ADMIN_API_KEY", ""); !admin.empty()) {
    admin_key_hash = events::sha256_hex(admin);
  }
  auto preview_keys = events::tokens::preview_keys(env_or("PREVIEW_KEYS", ""), env_or("ADMIN_API_KEY", ""));
  if (!preview_keys) {
    std::cerr << "command-service: PREVIEW_KEYS: " << preview_keys.error().message << "\n";
    return 2;
  }
  services.settings.preview_keys = *preview_keys;
  services.settings.forward_key = events::tokens::forward_key(env_or("ADMIN_API_KEY", ""));
  try {
    const int ttl = std::stoi(env_or("PREVIEW_TOKEN_TTL", "86400"));
    if (ttl < 60 || ttl > 30 * 86400) throw std::out_of_range("PREVIEW_TOKEN_TTL");
    services.settings.preview_token_ttl = std::chrono::seconds(ttl);
  } catch (const std::exception&) {
    std::cerr << "command-service: PREVIEW_TOKEN_TTL must be 60 to 2592000 seconds\n";
    return 2;
  }
  // Host directories snapshots may be imported from (oci:DIR, docker-archive:FILE, ...): none
  // unless the operator lists them, colon-separated, as absolute paths.
  const std::string import_dirs = env_or("SNAPSHOT_IMPORT_DIRS", "");
  for (std::string_view dirs = import_dirs; !dirs.empty();) {
    const auto colon = dirs.find(':');
    const std::string dir(dirs.substr(0, colon));
    if (!dir.empty() && dir.front() != '/') {
      std::cerr << "command-service: SNAPSHOT_IMPORT_DIRS: '" << dir << "' is not an absolute path\n";
      return 2;
    }
    if (!dir.empty()) services.settings.snapshot_import_dirs.push_back(dir);
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  // Live streams follow the log, woken by the append hints of every appender.
  auto appended = std::make_shared<events::Doorbell>();
  events::bus::HintListener hints(**nats, appended);
  Metrics metrics;
  services.metrics = &metrics;
  Router router;
  router.set_admin_key_hash(admin_key_hash);
  router.set_metrics(&metrics);
  router.set_authenticator(api_key_authenticator(services));
  RateLimitSettings limits;
  for (auto [name, field] : {std::pair{"RATE_LIMIT_ANONYMOUS", &limits.anonymous},
                             std::pair{"RATE_LIMIT_AUTHENTICATED", &limits.authenticated},
                             std::pair{"RATE_LIMIT_FAILED_AUTH", &limits.failed_auth},
                             std::pair{"RATE_LIMIT_SANDBOX_CREATE", &limits.sandbox_create},
                             std::pair{"RATE_LIMIT_LIFECYCLE", &limits.lifecycle}}) {
    const auto text = env_or(name, "");
    if (text.empty()) continue;
    try {
      *field = std::stoi(text);
      if (*field < 0) throw std::out_of_range(text);
    } catch (const std::exception&) {
      std::cerr << "command-service: " << name << " '" << text << "' is not a count per minute (0 = no limit)\n";
      return 2;
    }
  }
  router.set_rate_limits(limits);
  register_all_routes(router, services);

  // PostgreSQL calls run inline on these threads (see db.hpp): as many as requests may wait on it at once.
  int io_threads = 8;
  try {
    io_threads = std::stoi(env_or("API_THREADS", "8"));
    if (io_threads < 1 || io_threads > 256) throw std::out_of_range("API_THREADS");
  } catch (const std::exception&) {
    std::cerr << "command-service: API_THREADS must be 1 to 256\n";
    return 2;
  }
  // Connections held at once: per source address, and in all (below the descriptors we may open).
  try {
    server.connections.per_source = std::stoi(env_or("API_MAX_CONNECTIONS_PER_SOURCE", "256"));
    server.connections.total = std::stoi(env_or("API_MAX_CONNECTIONS", "8192"));
    if (server.connections.per_source < 0 || server.connections.total < 0) throw std::out_of_range("connections");
  } catch (const std::exception&) {
    std::cerr << "command-service: API_MAX_CONNECTIONS and API_MAX_CONNECTIONS_PER_SOURCE must be counts (0 = no limit)\n";
    return 2;
  }
  if (const long files = events::raise_open_file_limit(); files > 0) {
    // Room for the database connections, NATS and the log besides the clients.
    server.connections.total = static_cast<int>(std::min<long>(server.connections.total, files - 256));
  }
  boost::asio::io_context io(io_threads);
  // After the io_context, so that it goes first: it holds executors of waiting streams.
  EventFeed feed(db, appended);
  services.feed = &feed;
  HttpServer http(io, server, [&router](Request& req, const std::string& remote) { return router.dispatch(req, remote); });
  http.start();
  SchedulerSettings scheduling;
  try {
    scheduling.wait = std::chrono::seconds(std::stoi(env_or("SCHEDULE_WAIT_SECONDS", "30")));
  } catch (const std::exception&) {
    std::cerr << "command-service: SCHEDULE_WAIT_SECONDS is not a number of seconds\n";
    return 2;
  }
  boost::asio::co_spawn(io, run_scheduler(db, scheduling), boost::asio::detached);
  ReportListener reports(**nats, db);
  if (!reports.ok()) {
    std::cerr << "command-service: cannot subscribe to runner reports on " << events::bus::kReportSubjects << "\n";
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    http.stop();
    boost::asio::co_spawn(io, drain(http, io), boost::asio::detached);
  });
  spdlog::info("command-service listening on http://{}:{}/api", server.address, http.port());
  std::vector<std::thread> threads;
  for (int i = 0; i < io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  for (auto& t : threads) t.join();
  spdlog::info("command-service stopped");
  return 0;
}
