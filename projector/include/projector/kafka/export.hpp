#pragma once
// Kafka export of the public events (events/published/), from the log, in the CloudEvents Kafka
// binding, binary mode: the value is the event's data (JSON), the attributes are `ce_*` headers
// (ce_specversion, ce_id, ce_source, ce_type, ce_subject, ce_time, ce_dataschema) with
// content-type, and the key is the resource's id, so one sandbox's events stay in one partition
// and in order. The producer is idempotent; the log position is checkpointed (table
// kafka_export.checkpoint) only after every record of a batch is acknowledged, so a crash or a
// failed batch sends again at most that batch: consumers dedupe on ce_id.
#include "events/doorbell.hpp"
#include "events/error.hpp"
#include "events/published/contract.hpp"
#include "events/settings.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

namespace projector::kafka {

// A public event's CloudEvent attributes as Kafka headers (binary mode): ce_specversion, ce_id,
// ce_source, ce_type, ce_subject, ce_time, ce_dataschema, and content-type.
std::vector<std::pair<std::string, std::string>> cloudevent_headers(const events::published::PublicEvent& e);

struct ExportSettings {
  std::string database_url;
  std::string brokers;                        // bootstrap.servers
  std::string topic = "sandbox-platform.events";
  std::chrono::milliseconds poll{250};        // without a wake-up, the log is looked at this often
  std::chrono::milliseconds flush{30000};     // how long a batch may wait for its acknowledgements
  std::map<std::string, std::string> config;  // more librdkafka settings (security, tuning)
};

class Export {
 public:
  static events::Result<std::unique_ptr<Export>> start(ExportSettings settings, std::shared_ptr<events::Doorbell> wake);
  ~Export();
  Export(const Export&) = delete;
  Export& operator=(const Export&) = delete;
  std::int64_t position() const { return position_.load(); }  // checkpointed up to
  std::int64_t batches_retried() const { return retried_.load(); }

 private:
  Export(ExportSettings settings, std::shared_ptr<events::Doorbell> wake);
  void run(std::stop_token stop);
  ExportSettings settings_;
  std::shared_ptr<events::Doorbell> wake_;
  std::atomic<std::int64_t> position_{0};
  std::atomic<std::int64_t> retried_{0};
  std::jthread thread_;
};

}  // namespace projector::kafka
