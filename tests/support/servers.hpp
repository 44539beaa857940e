#pragma once
// Real PostgreSQL and NATS JetStream servers for integration tests: temp dirs, free ports,
// stopped (and their files removed) when the object goes, also when a test fails.
#include "support/process.hpp"

#include <memory>
#include <string>

namespace testing_support {

class PostgresServer {
 public:
  // initdb + start; throws when it cannot. Tests run with fsync off; benchmarks ask for a
  // durable server (fsync and synchronous commit on), as the var/ stack runs.
  explicit PostgresServer(bool durable = false);
  ~PostgresServer();
  int port() const { return port_; }
  // A fresh database with every migration in infra/schema applied.
  std::string create_database();
  std::string connection_string(const std::string& database) const;

 private:
  std::string dir_;
  int port_ = 0;
  int databases_ = 0;
  ChildProcess process_;
};

// One PostgreSQL server for the whole test binary (initdb takes about a second).
PostgresServer& shared_postgres();

class NatsServer {
 public:
  NatsServer();  // starts with JetStream on a free port
  ~NatsServer();
  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  void stop();   // graceful; keeps the store
  void kill9();  // SIGKILL; keeps the store
  void start();  // again, same port and store

 private:
  std::string dir_;
  int port_ = 0;
  ChildProcess process_;
};

}  // namespace testing_support
