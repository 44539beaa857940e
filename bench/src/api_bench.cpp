// bench/api: commands over HTTP (set labels, the cheap command) at 1, 16 and 64 connections, and
// projection lag under that load, beside raw PostgreSQL INSERTs at the same concurrency; three
// rounds of each, the reference measured in every round.
// Everything real: durable PostgreSQL, NATS, the projector and the command service in-process.
#include "command_service/app.hpp"
#include "events/api_keys.hpp"
#include "events/bus/hints.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/organization.hpp"
#include "events/store/group_commit.hpp"
#include "projector/projector.hpp"
#include "profile.hpp"
#include "statements.hpp"
#include "stats.hpp"
#include "support/servers.hpp"

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <barrier>
#include <mutex>
#include <optional>
#include <thread>

using namespace events;
using bench::Clock;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

// One keep-alive connection.
class Client {
 public:
  explicit Client(int port) : stream_(io_) {
    stream_.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  }
  bhttp::response<bhttp::string_body> call(bhttp::verb verb, const std::string& target, const std::string& body,
                                         const std::string& key) {
    bhttp::request<bhttp::string_body> req{verb, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::authorization, "Bearer " + key);
    req.set(bhttp::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(stream_, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream_, buffer_, res);
    return res;
  }

 private:
  boost::asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

std::string make_org(PgEventStore& store) {
  const auto org = OrganizationId::generate();
  const auto key = generate_api_key();
  auto r = execute<OrganizationEvent, organization::State>(
      store, StreamName::of("organization", org), Metadata{},
      [&](const organization::State& s) -> Result<organization::Events> {
        auto a = organization::decide(organization::Create{org, "bench"}, s);
        auto b = organization::decide(
            organization::CreateApiKey{ApiKeyId::generate(), "bench", sha256_hex(key), api_key_prefix(key)},
            organization::evolve(s, a->front()));
        a->insert(a->end(), b->begin(), b->end());
        return a;
      },
      [](organization::State s, const OrganizationEvent& e) { return organization::evolve(std::move(s), e); });
  if (!r) throw std::runtime_error(r.error().message);
  return key;
}

double raw_insert_rate(const std::string& conn, int clients, int per_client) {
  std::barrier start(clients + 1);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      pqxx::connection pc(conn);
      pc.prepare("ins", "insert into raw_events (stream, data) values ($1, $2::jsonb)");
      start.arrive_and_wait();
      for (int i = 0; i < per_client; ++i) {
        pqxx::nontransaction tx(pc);
        tx.exec_prepared("ins", "raw-" + std::to_string(c), R"({"labels":{"bench":"x"}})");
      }
    });
  }
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  return clients * per_client / bench::seconds_since(t0);
}

struct Load {
  double rate = 0;
  std::vector<double> latencies_ms;
  std::vector<double> lag_ms;
};

// `connections` clients, each setting labels round-robin over its own sandboxes.
Load command_load(int port, const std::string& key, const std::vector<std::vector<std::string>>& sandboxes,
                  int per_connection, const std::string& conn) {
  const int connections = static_cast<int>(sandboxes.size());
  std::mutex mutex;
  Load load;
  std::vector<std::pair<std::int64_t, Clock::time_point>> answered;  // position, when answered
  std::atomic<bool> done{false};
  std::vector<std::pair<std::int64_t, Clock::time_point>> projected;  // checkpoint seen, when
  std::thread watcher([&] {
    pqxx::connection c(conn);
    c.prepare("cp", "select position from read.projection_checkpoints where model = 'sandboxes'");
    while (!done) {
      pqxx::nontransaction tx(c);
      const auto p = tx.exec_prepared("cp")[0][0].as<std::int64_t>();
      if (projected.empty() || projected.back().first != p) projected.emplace_back(p, Clock::now());
      // Every millisecond: the lag is read to within 1 ms, and the watcher's own queries (at
      // 200 µs it sent 5000 a second) do not take PostgreSQL's time from the system measured.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::barrier start(connections + 1);
  std::vector<std::thread> threads;
  for (int w = 0; w < connections; ++w) {
    threads.emplace_back([&, w] {
      Client client(port);
      std::vector<double> mine;
      std::vector<std::pair<std::int64_t, Clock::time_point>> positions;
      start.arrive_and_wait();
      for (int i = 0; i < per_connection; ++i) {
        const auto& id = sandboxes[w][static_cast<std::size_t>(i) % sandboxes[w].size()];
        const auto t0 = Clock::now();
        auto res = client.call(bhttp::verb::put, "/api/sandbox/" + id + "/labels",
                               R"({"labels":{"bench":")" + std::to_string(i) + R"("}})", key);
        const auto t1 = Clock::now();
        if (res.result() != bhttp::status::ok) throw std::runtime_error("labels: " + res.body());
        mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        positions.emplace_back(std::stoll(std::string(res["X-Event-Position"])), t1);
      }
      std::lock_guard lock(mutex);
      load.latencies_ms.insert(load.latencies_ms.end(), mine.begin(), mine.end());
      answered.insert(answered.end(), positions.begin(), positions.end());
    });
  }
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  load.rate = connections * per_connection / bench::seconds_since(t0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  done = true;
  watcher.join();
  for (const auto& [position, at] : answered) {
    auto it = std::lower_bound(projected.begin(), projected.end(), position,
                               [](const auto& p, std::int64_t pos) { return p.first < pos; });
    if (it == projected.end()) continue;
    load.lag_ms.push_back(std::max(0.0, std::chrono::duration<double, std::milli>(it->second - at).count()));
  }
  return load;
}

}  // namespace

int main() {
  spdlog::set_level(spdlog::level::warn);
  testing_support::PostgresServer pg(/*durable=*/true);
  testing_support::NatsServer nats_server;
  const auto conn = pg.create_database();
  {
    pqxx::connection c(conn);
    pqxx::nontransaction tx(c);
    if (bench::statements_wanted()) bench::start_statements(tx);
    tx.exec("create table raw_events (id bigserial primary key, stream text not null, data jsonb not null)");
  }
  auto nats = bus::NatsClient::connect(nats_server.url(), "bench-api").value();
  const auto models = projector::all_models();
  if (!projector::ensure_schema(conn, "read", models)) return 1;
  projector::Settings ps;  // as the projector service runs: woken by append hints, polling every 250 ms
  ps.wake = std::make_shared<Doorbell>();
  bus::HintListener hints(*nats, ps.wake);
  ps.idle_poll = std::chrono::milliseconds(250);
  projector::Projector projection(projector::borrow(models), conn, ps);
  std::jthread projecting([&](std::stop_token stop) { projection.run(stop); });
  PgEventStore store(conn);
  const auto key = make_org(store);
  // The service as main builds it (App::build), without its scheduler loop and rate limits.
  command_service::Settings settings;
  settings.database_url = conn;
  settings.nats_url = nats_server.url();
  settings.port = 0;
  settings.threads = 8;
  settings.limits = command_service::RateLimitSettings{0, 0, 0, 0, 0};
  settings.run_scheduler = false;
  settings.admin_api_key = "adm_bench";  // preview and forwarding keys derive from it
  auto app = command_service::App::build(settings);
  if (!app) {
    std::fprintf(stderr, "bench/api: %s\n", app.error().message.c_str());
    return 1;
  }
  (*app)->start();
  struct {
    command_service::App& app;
    unsigned short port() const { return app.port(); }
  } server{**app};
  {
    pqxx::connection c(conn);
    while (pqxx::nontransaction(c).exec("select count(*) from read.api_keys")[0][0].as<int>() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  constexpr int kMostConnections = 64;
  std::fprintf(stderr, "creating sandboxes...\n");
  std::vector<std::vector<std::string>> per_connection(kMostConnections);
  {
    Client client(server.port());
    for (int c = 0; c < kMostConnections; ++c) {
      for (int i = 0; i < 8; ++i) {
        auto res = client.call(bhttp::verb::post, "/api/sandbox", "{}", key);
        per_connection[c].push_back(std::string(boost::json::parse(res.body()).as_object().at("id").as_string()));
      }
    }
  }
  constexpr int kRounds = 3;
  std::vector<bench::Row> rows;
  std::vector<int> levels = {1, 16, kMostConnections};
  if (const char* only = std::getenv("BENCH_CONNECTIONS")) levels = {std::clamp(std::atoi(only), 1, kMostConnections)};
  for (int connections : levels) {
    int per = connections == 1 ? 1000 : connections == 16 ? 150 : 60;
    if (const char* scale = std::getenv("BENCH_SCALE")) per *= std::clamp(std::atoi(scale), 1, 100);  // for profiles
    std::vector<double> rates;
    std::vector<double> raws;
    Load pooled;
    const auto groups_before = GroupCommit::counts();
    for (int round = 0; round < kRounds; ++round) {
      std::fprintf(stderr, "%d connection(s), round %d...\n", connections, round + 1);
      raws.push_back(raw_insert_rate(conn, connections, per));
      std::vector<std::vector<std::string>> mine(per_connection.begin(), per_connection.begin() + connections);
      std::optional<bench::Profiled> profiled;  // BENCH_PROFILE=1: the commands at 16 connections
      if (connections == 16) profiled.emplace();
      auto load = command_load(server.port(), key, mine, per, conn);
      profiled.reset();
      rates.push_back(load.rate);
      pooled.latencies_ms.insert(pooled.latencies_ms.end(), load.latencies_ms.begin(), load.latencies_ms.end());
      pooled.lag_ms.insert(pooled.lag_ms.end(), load.lag_ms.begin(), load.lag_ms.end());
    }
    const auto groups_after = GroupCommit::counts();
    const double rate = bench::percentile(rates, 50);
    const double raw = bench::percentile(raws, 50);
    const std::string c = std::to_string(connections);
    auto range = [](const std::vector<double>& v) {
      return " (" + std::to_string(static_cast<long>(*std::min_element(v.begin(), v.end()))) + "–" +
             std::to_string(static_cast<long>(*std::max_element(v.begin(), v.end()))) + ")";
    };
    rows.push_back({"set-labels commands/s over HTTP, " + c + " connection(s), median of " +
                        std::to_string(kRounds) + " (ref: raw INSERT, " + c + " client(s))",
                    bench::fmt(rate, "/s") + range(rates), bench::fmt(raw, "/s") + range(raws),
                    bench::ratio(rate, raw), connections == 1 ? ">= 0.5x" : ">= 0.6x"});
    rows.push_back({"command latency p50 / p99, " + c + " connection(s)",
                    bench::fmt(bench::percentile(pooled.latencies_ms, 50), "ms", 2) + " / " +
                        bench::fmt(bench::percentile(pooled.latencies_ms, 99), "ms", 2),
                    "", "", ""});
    rows.push_back({"projection lag p50 / p99 under that load (" + std::to_string(pooled.lag_ms.size()) + " samples)",
                    bench::fmt(bench::percentile(pooled.lag_ms, 50), "ms", 2) + " / " +
                        bench::fmt(bench::percentile(pooled.lag_ms, 99), "ms", 2),
                    "", "", "p99 <= 20 ms"});
    const auto groups = groups_after.groups - groups_before.groups;
    const auto grouped = groups_after.appends - groups_before.appends;
    rows.push_back({"appends per group commit, " + c + " connection(s)",
                    bench::fmt(groups == 0 ? 0.0 : static_cast<double>(grouped) / static_cast<double>(groups), "", 2) +
                        "(" + std::to_string(grouped) + " in " + std::to_string(groups) + " transactions)",
                    "", "", ""});
  }
  if (bench::statements_wanted()) {  // where PostgreSQL's time went: the WAL, then by statement
    pqxx::connection c(conn);
    pqxx::nontransaction tx(c);
    const auto wal = tx.exec("select wal_records, wal_fpi, wal_bytes, wal_write, wal_sync, round(wal_write_time::numeric), round(wal_sync_time::numeric) from pg_stat_wal")[0];
    std::printf("WAL: %s records, %s full pages, %s bytes, %s writes, %s syncs, %s ms writing, %s ms syncing\n",
                wal[0].c_str(), wal[1].c_str(), wal[2].c_str(), wal[3].c_str(), wal[4].c_str(), wal[5].c_str(), wal[6].c_str());
    bench::print_statements(conn, "the whole run", 30);
  }
  std::printf("api bench: %u cores\n\n", std::thread::hardware_concurrency());
  bench::print_table(rows);
  app->reset();
  return 0;
}
