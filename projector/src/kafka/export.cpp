#include "projector/kafka/export.hpp"

#include "events/published/mapping.hpp"
#include "events/store/follow.hpp"
#include "events/store/pg_event_store.hpp"

#include <librdkafka/rdkafka.h>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

namespace projector::kafka {

using namespace events;

namespace {

constexpr const char* kTables = R"(
create schema if not exists kafka_export;
create table if not exists kafka_export.checkpoint (id int primary key, position bigint not null);
insert into kafka_export.checkpoint values (1, 0) on conflict do nothing;
)";

// Acknowledgements of one batch: the delivery-report callback counts them.
struct Acks {
  std::atomic<int> failed{0};
  std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* acks = static_cast<Acks*>(m->_private);
  if (acks == nullptr || m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  if (acks->failed++ == 0) acks->first_error = rd_kafka_err2str(m->err);
}

struct Producer {
  rd_kafka_t* rk = nullptr;
  ~Producer() {
    if (rk != nullptr) {
      rd_kafka_flush(rk, 5000);
      rd_kafka_destroy(rk);
    }
  }
};

// The producer's configuration, or the setting librdkafka refuses.
Result<rd_kafka_conf_t*> make_conf(const ExportSettings& s) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> all{{"bootstrap.servers", s.brokers},
                                         {"enable.idempotence", "true"},
                                         {"acks", "all"},
                                         {"linger.ms", "5"},
                                         {"message.timeout.ms", std::to_string(s.flush.count())}};
  for (const auto& [k, v] : s.config) all[k] = v;
  for (const auto& [k, v] : all) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return make_error(ErrorCode::invalid_argument, "kafka setting " + k + ": " + err);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &on_delivery);
  return conf;
}

Result<std::unique_ptr<Producer>> make_producer(const ExportSettings& s) {
  auto conf = make_conf(s);
  if (!conf) return conf.error();
  char err[512];
  auto p = std::make_unique<Producer>();
  p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err);  // takes the configuration over
  if (p->rk == nullptr) {
    rd_kafka_conf_destroy(*conf);  // kept by the caller when rd_kafka_new fails
    return make_error(ErrorCode::unavailable, std::string("kafka producer: ") + err);
  }
  return p;
}

// Produces one public event; the record's headers are its CloudEvent attributes.
rd_kafka_resp_err_t produce(rd_kafka_t* rk, const std::string& topic, const published::PublicEvent& e, Acks& acks) {
  const auto value = boost::json::serialize(e.data);
  rd_kafka_headers_t* headers = rd_kafka_headers_new(8);
  for (const auto& [name, v] : cloudevent_headers(e)) {
    rd_kafka_header_add(headers, name.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
  }
  const auto err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                                     RD_KAFKA_V_KEY(e.subject.data(), e.subject.size()),
                                     RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
                                     RD_KAFKA_V_OPAQUE(&acks), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(headers);  // not taken over
  return err;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> cloudevent_headers(const published::PublicEvent& e) {
  const auto ce = published::to_cloudevent(e, published::kSource);
  return {{"ce_specversion", "1.0"},
          {"ce_id", e.id},
          {"ce_source", std::string(published::kSource)},
          {"ce_type", e.type},
          {"ce_subject", e.subject},
          {"ce_time", e.time},
          {"ce_dataschema", std::string(ce.at("dataschema").as_string())},
          {"content-type", "application/json"}};
}

Result<std::unique_ptr<Export>> Export::start(ExportSettings settings, std::shared_ptr<Doorbell> wake) {
  if (settings.brokers.empty()) return make_error(ErrorCode::invalid_argument, "kafka export: no brokers");
  try {
    pqxx::connection c(settings.database_url);
    pqxx::work tx(c);
    tx.exec(kTables);
    tx.commit();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::unavailable, std::string("kafka export: cannot make its tables: ") + e.what());
  }
  auto conf = make_conf(settings);  // a wrong setting is refused now, not in the thread
  if (!conf) return conf.error();
  rd_kafka_conf_destroy(*conf);
  std::unique_ptr<Export> x(new Export(std::move(settings), std::move(wake)));
  x->thread_ = std::jthread([p = x.get()](std::stop_token stop) { p->run(stop); });
  return x;
}

Export::Export(ExportSettings settings, std::shared_ptr<Doorbell> wake)
    : settings_(std::move(settings)), wake_(wake ? std::move(wake) : std::make_shared<Doorbell>()) {}

Export::~Export() {
  thread_.request_stop();
  wake_->ring();
}

void Export::run(std::stop_token stop) {
  std::unique_ptr<PgEventStore> store;
  std::unique_ptr<Producer> producer;
  published::Publisher publisher;
  while (!stop.stop_requested()) {
    try {
      if (!producer) producer = std::move(*make_producer(settings_));
      if (!store) {
        store = std::make_unique<PgEventStore>(settings_.database_url);
        pqxx::nontransaction tx(store->connection());
        position_ = tx.exec("select position from kafka_export.checkpoint where id = 1")[0][0].as<std::int64_t>();
        publisher = published::Publisher{};
        spdlog::info("kafka-export: following the log after position {}", position_.load());
      }
      auto batch = next_batch(*store, position_, 500, *wake_, stop, settings_.poll);
      if (batch.empty()) continue;
      Acks acks;
      int produced = 0;
      for (const auto& e : batch) {
        if (!published::is_published_category(e.category())) continue;
        for (const auto& p : publisher.publish(e, [&](const StreamName& s) { return store->read_stream(s); })) {
          for (;;) {
            const auto err = produce(producer->rk, settings_.topic, p, acks);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw std::runtime_error(rd_kafka_err2str(err));
            rd_kafka_poll(producer->rk, 100);  // the local queue is full: let it drain
          }
          ++produced;
        }
      }
      const auto flushed = rd_kafka_flush(producer->rk, static_cast<int>(settings_.flush.count()));
      if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR || acks.failed > 0) {
        ++retried_;
        spdlog::warn("kafka-export: a batch of {} records after position {} was not acknowledged ({}); sending it again",
                     produced, position_.load(), acks.failed > 0 ? acks.first_error : rd_kafka_err2str(flushed));
        producer.reset();                      // a new producer: the old one's queue is given up
        publisher = published::Publisher{};    // and the batch is mapped again, streams read from their start
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      const auto last = batch.back().position.value();
      {
        pqxx::work tx(store->connection());
        tx.exec_params("update kafka_export.checkpoint set position = $1 where id = 1", last);
        tx.commit();
      }
      position_ = last;
    } catch (const std::exception& e) {
      spdlog::warn("kafka-export: {}; again shortly", e.what());
      store.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

}  // namespace projector::kafka
