// Kafka export against librdkafka's mock cluster (three brokers on loopback; no Kafka broker is
// packaged for this machine): produce requests fail and a broker goes down mid-stream, and a
// consumer still reads every public event at least once, each key's records in log order, with
// the CloudEvents binary-mode headers; deduplicated on ce_id they are exactly the log's public
// events.
#include "api_fixture.hpp"
#include "events/published/mapping.hpp"
#include "projector/kafka/export.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <map>
#include <set>

namespace {

struct MockCluster {
  rd_kafka_t* host = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  MockCluster() {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    REQUIRE(host != nullptr);
    cluster = rd_kafka_mock_cluster_new(host, 3);
    REQUIRE(cluster != nullptr);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(host);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster); }
};

struct Record {
  std::string key;
  std::map<std::string, std::string> headers;
  std::string value;
};

std::vector<Record> consume_all(const std::string& brokers, const std::string& topic, std::size_t at_least) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : std::map<std::string, std::string>{{"bootstrap.servers", brokers},
                                                               {"group.id", "test-reader"},
                                                               {"auto.offset.reset", "earliest"},
                                                               {"enable.auto.commit", "false"}}) {
    REQUIRE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK);
  }
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  REQUIRE(consumer != nullptr);
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  REQUIRE(rd_kafka_subscribe(consumer, topics) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(topics);
  std::vector<Record> out;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  // Past `at_least`, read on a little for duplicates still in flight.
  auto quiet_until = std::chrono::steady_clock::time_point::max();
  while (std::chrono::steady_clock::now() < std::min(until, quiet_until)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 200);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Record r;
      r.key.assign(static_cast<const char*>(m->key), m->key_len);
      r.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
          r.headers[name] = std::string(static_cast<const char*>(value), size);
        }
      }
      out.push_back(std::move(r));
      if (out.size() >= at_least && quiet_until == std::chrono::steady_clock::time_point::max()) {
        quiet_until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      }
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return out;
}

// The log's public events, as a consumer should see them (by id: type, key).
std::map<std::string, events::published::PublicEvent> expected_events(events::PgEventStore& store) {
  events::published::Publisher publisher;
  std::map<std::string, events::published::PublicEvent> out;
  std::int64_t after = 0;
  for (;;) {
    auto batch = store.read_all(events::GlobalPosition{after}, 1000);
    REQUIRE(batch);
    if (batch->empty()) break;
    for (const auto& e : *batch) {
      for (auto& p : publisher.publish(e)) out.emplace(p.id, std::move(p));
      after = e.position.value();
    }
  }
  return out;
}

std::int64_t position_of(const std::string& ce_id) { return std::stoll(ce_id.substr(0, ce_id.find('.'))); }

}  // namespace

TEST_CASE("kafka: public events reach a consumer through produce errors and a broker going down", "[kafka]") {
  Api api;
  MockCluster kafka;
  const std::string topic = "platform-events";
  REQUIRE(rd_kafka_mock_topic_create(kafka.cluster, topic.c_str(), 3, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  // The first produce requests fail: not the leader, a dropped connection, a timeout.
  rd_kafka_mock_push_request_errors(kafka.cluster, 0, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  projector::kafka::ExportSettings settings;
  settings.database_url = api.conn;
  settings.brokers = kafka.bootstraps();
  settings.topic = topic;
  settings.poll = std::chrono::milliseconds(100);
  settings.flush = std::chrono::milliseconds(5000);
  auto exporter = projector::kafka::Export::start(settings, nullptr);
  REQUIRE(exporter);

  std::vector<std::string> boxes;
  for (int i = 0; i < 6; ++i) {
    auto made = api.call("POST", "/api/sandbox", "{\"name\":\"k-" + std::to_string(i) + "\"}");
    REQUIRE(made.status == 200);
    boxes.push_back(str(parse(made), "id"));
    if (i == 2) rd_kafka_mock_broker_set_down(kafka.cluster, 1);  // mid-stream
  }
  for (int i = 0; i < 3; ++i) REQUIRE(api.call("DELETE", "/api/sandbox/" + boxes[static_cast<std::size_t>(i)]).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  rd_kafka_mock_broker_set_up(kafka.cluster, 1);

  const auto head = api.store.safe_head()->value();
  REQUIRE(testing_support::eventually([&] { return (*exporter)->position() >= head; }, std::chrono::seconds(60)));
  const auto expected = expected_events(api.store);
  REQUIRE(expected.size() >= 12);  // 6 created; 3 state updates and 3 deletions
  const auto records = consume_all(settings.brokers, topic, expected.size());

  std::map<std::string, int> copies;
  std::map<std::string, std::int64_t> last_position_of_key;
  for (const auto& r : records) {
    const auto& id = r.headers.at("ce_id");
    ++copies[id];
    REQUIRE(expected.contains(id));
    const auto& want = expected.at(id);
    CHECK(r.key == want.subject);
    CHECK(r.headers.at("ce_type") == want.type);
    CHECK(r.headers.at("ce_specversion") == "1.0");
    CHECK(r.headers.at("ce_subject") == want.subject);
    CHECK(r.headers.at("ce_source") == events::published::kSource);
    CHECK(r.headers.at("content-type") == "application/json");
    CHECK(boost::json::parse(r.value).at("event") == boost::json::value(want.type));
    // A key's records in log order (a resent batch may repeat earlier ones: dedupe on ce_id).
    if (copies[id] == 1) {
      CHECK(position_of(id) >= last_position_of_key[r.key]);
      last_position_of_key[r.key] = position_of(id);
    }
  }
  CHECK(copies.size() == expected.size());  // every public event, none missing
  INFO("batches sent again: " << (*exporter)->batches_retried());
}
