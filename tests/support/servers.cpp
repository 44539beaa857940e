#include "support/servers.hpp"

#include "events/store/pg_event_store.hpp"

#include <pqxx/pqxx>

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#ifndef PROJECT_SOURCE_DIR
#error "PROJECT_SOURCE_DIR must be defined"
#endif

namespace testing_support {

namespace {

const char* kPgBin = "/usr/lib/postgresql/15/bin/";

std::string pg_user() { return geteuid() == 0 ? "postgres" : ""; }

void give_to_postgres(const std::string& dir) {
  if (geteuid() != 0) return;
  passwd* pw = getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("no postgres user: run infra/install-deps");
  if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown failed");
}

}  // namespace

PostgresServer::PostgresServer(bool durable) {
  dir_ = make_temp_dir("sbx-pg");
  give_to_postgres(dir_);
  const std::string data = dir_ + "/data";
  const std::string log = dir_ + "/log";
  if (run_command({std::string(kPgBin) + "initdb", "-D", data, "-U", "postgres",
                   "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"},
                  pg_user(), log) != 0) {
    throw std::runtime_error("initdb failed, see " + log);
  }
  port_ = free_port();
  std::vector<std::string> argv = {std::string(kPgBin) + "postgres", "-D", data, "-p",
                                   std::to_string(port_), "-k", dir_, "-c",
                                   "listen_addresses=127.0.0.1", "-c", "max_connections=200"};
  // For benches that say which statements took PostgreSQL's time (bench/api).
  if (std::getenv("BENCH_STATEMENTS") != nullptr) {
    argv.insert(argv.end(), {"-c", "shared_preload_libraries=pg_stat_statements", "-c", "track_wal_io_timing=on"});
  }
  if (!durable) {
    for (const char* setting : {"fsync=off", "synchronous_commit=off", "full_page_writes=off"}) {
      argv.insert(argv.end(), {"-c", setting});
    }
  }
  process_ = ChildProcess(argv, pg_user(), log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (true) {
    try {
      pqxx::connection c(connection_string("postgres"));
      break;
    } catch (const pqxx::broken_connection&) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("PostgreSQL did not start, see " + log);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

PostgresServer::~PostgresServer() {
  process_.stop(SIGINT);  // fast shutdown
  remove_tree(dir_);
}

std::string PostgresServer::connection_string(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + database;
}

std::string PostgresServer::create_database() {
  const std::string name = "test_" + std::to_string(++databases_);
  {
    pqxx::connection c(connection_string("postgres"));
    pqxx::nontransaction tx(c);
    tx.exec("create database " + name);
  }
  auto applied = events::apply_migrations(connection_string(name), PROJECT_SOURCE_DIR "/infra/schema");
  if (!applied) throw std::runtime_error("migrations failed: " + applied.error().message);
  return connection_string(name);
}

PostgresServer& shared_postgres() {
  static PostgresServer server;
  return server;
}

NatsServer::NatsServer() {
  dir_ = make_temp_dir("sbx-nats");
  port_ = free_port();
  start();
}

NatsServer::~NatsServer() {
  stop();
  remove_tree(dir_);
}

void NatsServer::start() {
  process_ = ChildProcess({"nats-server", "-js", "-sd", dir_ + "/store", "-a", "127.0.0.1", "-p",
                           std::to_string(port_)},
                          "", dir_ + "/log");
  if (!wait_for_port(port_, 10000)) throw std::runtime_error("nats-server did not start");
}

void NatsServer::stop() {
  if (process_.running()) process_.stop(SIGTERM);
}

void NatsServer::kill9() {
  if (process_.running()) process_.stop(SIGKILL);
}

}  // namespace testing_support
