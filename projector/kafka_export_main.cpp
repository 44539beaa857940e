// kafka-export: streams the public events from the log to Kafka (CloudEvents binary mode, keyed
// by resource id; projector/include/projector/kafka/export.hpp). Settings from the environment
// (`kafka-export --help`); infra/up starts it when KAFKA_BROKERS is set. SIGTERM stops it.
#include "events/bus/hints.hpp"
#include "projector/kafka/export.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  std::string database_url;
  std::string nats_url;
  projector::kafka::ExportSettings settings;
  events::settings::Declared declared("kafka-export");
  declared.text("DATABASE_URL", database_url, "the PostgreSQL connection string (libpq form)", true);
  declared.text("NATS_URL", nats_url, "the NATS server whose append hints wake the export (empty: poll the log)");
  declared.text("KAFKA_BROKERS", settings.brokers, "Kafka's bootstrap servers, host:port[,host:port]", true);
  declared.text("KAFKA_TOPIC", settings.topic, "the topic the public events go to");
  if (auto code = declared.load_for_main(argc, argv)) return *code;
  settings.database_url = database_url;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // the threads started below inherit the mask

  auto wake = events::bus::wake_on_appends(nats_url, "kafka-export");
  if (!wake) {
    std::cerr << "kafka-export: " << wake.error().message << "\n";
    return 1;
  }
  auto exporter = projector::kafka::Export::start(settings, wake->bell);
  if (!exporter) {
    std::cerr << "kafka-export: " << exporter.error().message << "\n";
    return 1;
  }
  spdlog::info("kafka-export started (topic {})", settings.topic);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("kafka-export stopping at position {}", (*exporter)->position());
  return 0;
}
