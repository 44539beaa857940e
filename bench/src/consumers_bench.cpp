// bench/consumers: the log's outside consumers (issue 14), each beside a reference measured in the
// same run against the same receiver:
//   - webhook deliveries/s draining a backlog of sandbox.created events (projector/webhooks:
//     follow the log, queue, sign, POST with a connection per attempt, record the attempt),
//     beside the same signed POSTs sent straight to the same receiver by the same post();
//   - append → receipt lag of a webhook with the delivery running (woken by the append hints,
//     as the webhook-delivery binary is), beside one direct POST's latency;
//   - Kafka export events/s draining a backlog (projector/kafka: CloudEvents binary mode,
//     idempotent producer, checkpoint after the acknowledgements), beside librdkafka producing
//     the same records with the same settings to the same mock cluster.
// Real PostgreSQL (durable) and NATS; the events are appended through the event store.
#include "events/bus/hints.hpp"
#include "events/catalogue.hpp"
#include "events/codec.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/organization.hpp"
#include "events/deciders/webhook.hpp"
#include "events/published/mapping.hpp"
#include "events/store/pg_event_store.hpp"
#include "events/webhooks/signing.hpp"
#include "projector/kafka/export.hpp"
#include "projector/webhooks/delivery.hpp"
#include "projector/webhooks/post.hpp"
#include "stats.hpp"
#include "support/servers.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <thread>

using namespace events;
using bench::Clock;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr int kRounds = 3;
constexpr int kBacklog = 1000;     // webhook deliveries per throughput round
constexpr int kLagEvents = 200;    // paced appends per lag round
constexpr int kKafkaBacklog = 5000;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// A webhook receiver on loopback: answers 204 to every POST and notes when each webhook-id first
// arrived. One connection at a time, as both senders measured here send one request at a time.
class Receiver {
 public:
  Receiver() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::jthread([this] { serve(); });
  }
  ~Receiver() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);  // wakes the blocking accept
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  std::optional<Clock::time_point> received(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = received_.find(id);
    if (it == received_.end()) return std::nullopt;
    return it->second;
  }
  // Waits (bounded) until `n` distinct ids have arrived.
  bool wait_for(std::size_t n, std::chrono::seconds limit) {
    const auto until = Clock::now() + limit;
    while (count() < n) {
      if (Clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
  }

 private:
  void serve() {
    while (!stopping_) {
      tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stopping_) continue;
      beast::flat_buffer buffer;
      for (;;) {
        bhttp::request<bhttp::string_body> req;
        bhttp::read(s, buffer, req, ec);
        if (ec) break;
        const auto at = Clock::now();
        {
          std::lock_guard lock(mutex_);
          received_.emplace(std::string(req["webhook-id"]), at);
        }
        bhttp::response<bhttp::empty_body> res{bhttp::status::no_content, 11};
        res.keep_alive(req.keep_alive());
        bhttp::write(s, res, ec);
        if (ec || !req.keep_alive()) break;
      }
    }
  }

  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::map<std::string, Clock::time_point> received_;
  std::jthread thread_;
};

OrganizationId make_org(PgEventStore& store) {
  const auto org = OrganizationId::generate();
  auto r = execute<OrganizationEvent, organization::State>(
      store, StreamName::of("organization", org), Metadata{},
      [&](const organization::State& s) { return organization::decide(organization::Create{org, "bench"}, s); },
      [](organization::State s, const OrganizationEvent& e) { return organization::evolve(std::move(s), e); });
  if (!r) throw std::runtime_error(r.error().message);
  return org;
}

void make_endpoint(PgEventStore& store, const OrganizationId& org, const std::string& url, const std::string& secret) {
  const auto id = WebhookEndpointId::generate();
  WebhookEndpointCreated spec{id, org, url, "bench", std::nullopt, false, secret, std::nullopt, {}};
  auto r = execute<WebhookEndpointEvent, webhook::State>(
      store, StreamName::of("webhookendpoint", id), Metadata{},
      [&](const webhook::State& s) { return webhook::decide(webhook::Create{spec}, s); },
      [](webhook::State s, const WebhookEndpointEvent& e) { return webhook::evolve(std::move(s), e); });
  if (!r) throw std::runtime_error(r.error().message);
}

NewEvent sandbox_created(const OrganizationId& org, const SandboxId& id) {
  SandboxCreated e;
  e.sandbox_id = id;
  e.organization_id = org;
  e.name = "bench-" + id.str().substr(0, 8);
  e.snapshot = "default";
  return NewEvent{encode(SandboxEvent{e}), Metadata{new_uuid(), "", "", "bench", org.str(), ""}};
}

// `n` new sandboxes of `org`, a sandbox.created each, appended a hundred streams a transaction.
void append_sandboxes(PgEventStore& store, const OrganizationId& org, int n) {
  for (int done = 0; done < n;) {
    std::vector<StreamAppend> appends;
    for (; done < n && appends.size() < 100; ++done) {
      const auto id = SandboxId::generate();
      appends.push_back(StreamAppend{StreamName::of("sandbox", id), ExpectedVersion::no_stream(), {sandbox_created(org, id)}});
    }
    if (auto r = store.append_together(appends); !r) throw std::runtime_error(r.error().message);
  }
}

// The webhook id a sandbox.created appended at `position` is delivered under.
std::string webhook_id(std::int64_t position) { return "msg_" + std::to_string(position) + "_0"; }

projector::webhooks::Post signed_post(const std::string& url, const std::string& secret, const std::string& id) {
  const std::string body =
      R"({"event":"sandbox.created","timestamp":"2026-12-01T10:00:00.000Z","id":"9b0c5a3e-8f7e-4c57-a3f1-1f6f1f5b2a10",)"
      R"("organizationId":"5f2d3c1b-0a9e-4d8c-b7a6-958473625140","state":"creating","class":"small",)"
      R"("createdAt":"2026-12-01T10:00:00.000Z"})";
  auto headers = webhooks::signed_headers({secret}, id, std::time(nullptr), body);
  if (!headers) throw std::runtime_error(headers.error().message);
  return projector::webhooks::Post{url, *headers, body};
}

struct WebhookFigures {
  std::vector<double> rates, reference_rates;
  std::vector<double> lag_ms, reference_ms;
};

WebhookFigures bench_webhooks(const std::string& conn, const std::string& nats_url) {
  WebhookFigures out;
  Receiver receiver;
  PgEventStore store(conn);
  auto nats = bus::NatsClient::connect(nats_url, "bench-consumers").value();
  store.on_append(bus::append_hint(*nats));  // as the command service does: the follower is woken
  const auto org = make_org(store);
  const auto secret = webhooks::new_secret();
  make_endpoint(store, org, receiver.url("/hook"), secret);
  projector::webhooks::DeliverySettings settings;
  settings.database_url = conn;
  settings.targets = *webhooks::TargetPolicy::parse("loopback");
  auto start = [&](std::shared_ptr<Doorbell> wake) {
    auto d = projector::webhooks::Delivery::start(settings, std::move(wake));
    if (!d) throw std::runtime_error(d.error().message);
    return std::move(*d);
  };
  const auto policy = settings.targets;
  std::size_t expected = 0;
  for (int round = 0; round < kRounds; ++round) {
    // Throughput: a backlog appended while no delivery runs, then drained.
    append_sandboxes(store, org, kBacklog);
    expected += kBacklog;
    const auto t0 = Clock::now();
    auto delivery = start(nullptr);
    if (!receiver.wait_for(expected, std::chrono::seconds(120))) throw std::runtime_error("webhook backlog not delivered");
    out.rates.push_back(kBacklog / bench::seconds_since(t0));
    delivery.reset();
    // Reference: the same number of signed POSTs, straight to the same receiver.
    const auto r0 = Clock::now();
    for (int i = 0; i < kBacklog; ++i) {
      const auto id = "ref_" + std::to_string(round) + "_" + std::to_string(i);
      const auto a = projector::webhooks::post(signed_post(receiver.url("/hook"), secret, id), policy, std::chrono::seconds(15));
      if (a.status != 204) throw std::runtime_error("reference POST: " + a.excerpt);
    }
    out.reference_rates.push_back(kBacklog / bench::seconds_since(r0));
    expected += kBacklog;

    // Lag: the delivery runs, woken by the append hints; an event every 10 ms.
    auto wake = bus::wake_on_appends(nats_url, "bench-delivery");
    if (!wake) throw std::runtime_error(wake.error().message);
    delivery = start(wake->bell);
    std::vector<std::pair<std::string, Clock::time_point>> appended;
    for (int i = 0; i < kLagEvents; ++i) {
      const auto id = SandboxId::generate();
      const auto at = Clock::now();
      const std::vector<NewEvent> one{sandbox_created(org, id)};
      auto r = store.append(StreamName::of("sandbox", id), ExpectedVersion::no_stream(), one);
      if (!r) throw std::runtime_error(r.error().message);
      appended.emplace_back(webhook_id(r->last.value()), at);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    expected += kLagEvents;
    if (!receiver.wait_for(expected, std::chrono::seconds(60))) throw std::runtime_error("paced webhooks not delivered");
    for (const auto& [id, at] : appended) out.lag_ms.push_back(ms_between(at, *receiver.received(id)));
    delivery.reset();
    // Reference: one direct POST's latency, as often.
    for (int i = 0; i < kLagEvents; ++i) {
      const auto id = "lag_" + std::to_string(round) + "_" + std::to_string(i);
      const auto at = Clock::now();
      projector::webhooks::post(signed_post(receiver.url("/hook"), secret, id), policy, std::chrono::seconds(15));
      out.reference_ms.push_back(ms_between(at, *receiver.received(id)));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    expected += kLagEvents;
  }
  return out;
}

// ---- Kafka ----

struct MockCluster {
  rd_kafka_t* host = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  MockCluster() {
    char err[256];
    host = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
    if (host == nullptr) throw std::runtime_error(err);
    cluster = rd_kafka_mock_cluster_new(host, 3);
    if (cluster == nullptr) throw std::runtime_error("no mock cluster");
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(host);
  }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;
};

// librdkafka alone: the public events of `positions` as the exporter makes them (key, value,
// ce_* headers), produced with the exporter's settings and flushed. Records per second, the
// producer's start included as the exporter's is.
double raw_produce_rate(const std::string& brokers, const std::string& topic,
                        const std::vector<published::PublicEvent>& records) {
  const auto t0 = Clock::now();
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : std::map<std::string, std::string>{
           {"bootstrap.servers", brokers}, {"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "5"}}) {
    rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) throw std::runtime_error(err);
  for (const auto& e : records) {
    const auto value = boost::json::serialize(e.data);
    rd_kafka_headers_t* headers = rd_kafka_headers_new(8);
    for (const auto& [name, v] : projector::kafka::cloudevent_headers(e)) {
      rd_kafka_header_add(headers, name.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
    }
    for (;;) {
      const auto r = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(e.subject.data(), e.subject.size()),
                                       RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
      if (r == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (r != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw std::runtime_error(rd_kafka_err2str(r));
      rd_kafka_poll(rk, 100);
    }
  }
  if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error("raw produce: not flushed");
  rd_kafka_destroy(rk);
  return static_cast<double>(records.size()) / bench::seconds_since(t0);
}

struct KafkaFigures {
  std::vector<double> rates, reference_rates;
};

KafkaFigures bench_kafka(const std::string& conn) {
  KafkaFigures out;
  MockCluster kafka;
  const std::string topic = "bench-events";
  if (rd_kafka_mock_topic_create(kafka.cluster, topic.c_str(), 3, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("mock topic");
  }
  const std::string brokers = rd_kafka_mock_cluster_bootstraps(kafka.cluster);
  PgEventStore store(conn);
  const auto org = make_org(store);
  projector::kafka::ExportSettings settings;
  settings.database_url = conn;
  settings.brokers = brokers;
  settings.topic = topic;
  auto drain = [&] {
    const auto head = store.safe_head()->value();
    auto exporter = projector::kafka::Export::start(settings, nullptr);
    if (!exporter) throw std::runtime_error(exporter.error().message);
    const auto until = Clock::now() + std::chrono::seconds(120);
    while ((*exporter)->position() < head) {
      if (Clock::now() > until) throw std::runtime_error("kafka backlog not exported");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  };
  drain();  // what the log held before (the webhook rounds' events): not measured
  for (int round = 0; round < kRounds; ++round) {
    const auto from = store.safe_head()->value();
    append_sandboxes(store, org, kKafkaBacklog);
    const auto t0 = Clock::now();
    drain();
    out.rates.push_back(kKafkaBacklog / bench::seconds_since(t0));
    // The reference produces the same public events.
    published::Publisher publisher;
    std::vector<published::PublicEvent> records;
    for (std::int64_t at = from;;) {
      auto batch = store.read_all(GlobalPosition{at}, 1000);
      if (!batch || batch->empty()) break;
      for (const auto& e : *batch) {
        for (auto& p : publisher.publish(e)) records.push_back(std::move(p));
      }
      at = batch->back().position.value();
    }
    out.reference_rates.push_back(raw_produce_rate(brokers, topic, records));
  }
  return out;
}

std::string spread(const std::vector<double>& rates) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.0f /s (%.0f–%.0f)", bench::percentile(rates, 50),
                *std::min_element(rates.begin(), rates.end()), *std::max_element(rates.begin(), rates.end()));
  return buf;
}

}  // namespace

int main() {
  spdlog::set_level(spdlog::level::warn);
  testing_support::PostgresServer pg(/*durable=*/true);
  testing_support::NatsServer nats_server;
  const auto conn = pg.create_database();
  {
    PgEventStore store(conn);  // makes the log's tables
  }
  const auto hooks = bench_webhooks(conn, nats_server.url());
  const auto kafka = bench_kafka(conn);
  const auto rounds = std::to_string(kRounds);
  bench::print_table({
      {"webhook deliveries/s, draining " + std::to_string(kBacklog) + " sandbox.created (follow, queue, sign, POST, record; median of " +
           rounds + " rounds, min–max)",
       spread(hooks.rates), "the same signed POSTs sent directly " + spread(hooks.reference_rates),
       bench::ratio(bench::percentile(hooks.rates, 50), bench::percentile(hooks.reference_rates, 50)), ""},
      {"webhook append → receipt p50 / p99 (an event each 10 ms, " + std::to_string(kLagEvents * kRounds) + " events)",
       bench::p50_p99(hooks.lag_ms), "a direct POST " + bench::p50_p99(hooks.reference_ms),
       bench::ratio(bench::percentile(hooks.lag_ms, 50), bench::percentile(hooks.reference_ms, 50)), ""},
      {"Kafka export events/s, draining " + std::to_string(kKafkaBacklog) +
           " sandbox.created (CloudEvents binary, idempotent, checkpointed; mock cluster; median of " + rounds + ")",
       spread(kafka.rates), "librdkafka producing the same records " + spread(kafka.reference_rates),
       bench::ratio(bench::percentile(kafka.rates, 50), bench::percentile(kafka.reference_rates, 50)), ""},
  });
  return 0;
}
