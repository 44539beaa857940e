// bench/events: the event store and the bus, each figure beside a reference measured in the
// same run on the same servers (a durable PostgreSQL and a NATS JetStream, both on loopback).
#include "events/bus/hints.hpp"
#include "events/bus/relay.hpp"
#include "events/bus/subscriber.hpp"
#include "events/catalogue.hpp"
#include "events/store/pg_event_store.hpp"
#include "profile.hpp"
#include "stats.hpp"
#include "support/servers.hpp"

#include <nats/nats.h>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <barrier>
#include <mutex>
#include <thread>

using namespace events;
using bench::Clock;

namespace {

const std::string kPayload = encode(SandboxEvent{SandboxActivityRecorded{1764400000000}}).data;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Runs `body(writer index)` on `writers` threads started together; returns the wall time.
template <class F>
double timed_threads(int writers, F& body) {
  std::barrier start(writers + 1);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      body.prepare(w);
      start.arrive_and_wait();
      body.run(w);
    });
  }
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  return bench::seconds_since(t0);
}

double raw_insert_rate(const std::string& conn, int writers, int total) {
  struct Body {
    const std::string& conn;
    int per_writer;
    std::vector<std::unique_ptr<pqxx::connection>> conns;
    void prepare(int w) {
      conns[w] = std::make_unique<pqxx::connection>(conn);
      conns[w]->prepare("ins", "insert into raw_events (stream, data) values ($1, $2::jsonb)");
    }
    void run(int w) {
      for (int i = 0; i < per_writer; ++i) {
        pqxx::nontransaction tx(*conns[w]);
        tx.exec_prepared("ins", "raw-" + std::to_string(w), kPayload);
      }
    }
  } body{conn, total / writers, {}};
  body.conns.resize(writers);
  return (total / writers) * writers / timed_threads(writers, body);
}

// Appends as the services do: each append also sends the relay's wake-up hint over NATS, and
// several writers share one group commit, as the API's threads do (command-service Db).
double append_rate(const std::string& conn, int writers, int total, int events_per_append,
                   const std::function<void()>& hint) {
  GroupCommit group(conn);
  if (hint) group.on_append(hint);
  struct Body {
    const std::string& conn;
    int per_writer;
    int batch;
    const std::function<void()>& hint;
    GroupCommit* group;
    std::vector<std::unique_ptr<PgEventStore>> stores;
    void prepare(int w) {
      stores[w] = std::make_unique<PgEventStore>(conn);
      if (hint) stores[w]->on_append(hint);
      stores[w]->group_appends(group);
    }
    void run(int w) {
      const auto stream = StreamName::of("sandbox", SandboxId::generate());
      std::vector<NewEvent> events(batch, NewEvent{EncodedEvent{"SandboxActivityRecorded", 1, kPayload}, {}});
      for (int i = 0; i < per_writer; ++i) {
        auto r = stores[w]->append(stream, ExpectedVersion::after(static_cast<std::int64_t>(i) * batch), events);
        if (!r) throw std::runtime_error(r.error().message);
      }
    }
  } body{conn, total / writers, events_per_append, hint, writers > 1 ? &group : nullptr, {}};
  body.stores.resize(writers);
  return static_cast<double>(total / writers) * writers * events_per_append /
         timed_threads(writers, body);
}

double raw_read_rate(const std::string& conn) {
  pqxx::connection c(conn);
  c.prepare("read", "select position, stream, version, type, schema_version, data::text, metadata::text, "
                    "routing_key, recorded_at::text from events where position > $1 order by position limit 1000");
  std::int64_t after = 0;
  std::size_t n = 0;
  const auto t0 = Clock::now();
  while (true) {
    pqxx::nontransaction tx(c);
    auto rows = tx.exec_prepared("read", after);
    if (rows.empty()) break;
    for (const auto& r : rows) {
      std::string data = r[5].as<std::string>();  // the same conversions the store does
      after = r[0].as<std::int64_t>();
      ++n;
    }
  }
  return n / bench::seconds_since(t0);
}

double read_all_rate(const std::string& conn) {
  PgEventStore store(conn);
  GlobalPosition after{0};
  std::size_t n = 0;
  const auto t0 = Clock::now();
  while (true) {
    auto batch = store.read_all(after, 1000);
    if (!batch || batch->empty()) break;
    n += batch->size();
    after = batch->back().position;
  }
  return n / bench::seconds_since(t0);
}

// Append → relay → JetStream → subscriber handler, one event every `gap`.
// `append_ms` gets how long each append itself took (its commit and WAL flush included).
std::vector<double> pipeline_latencies_ms(const std::string& conn, const std::string& nats_url, int samples,
                                          double& relay_rate, std::vector<double>& append_ms) {
  auto nats = bus::NatsClient::connect(nats_url, "bench").value();
  bus::Relay relay({}, conn, *nats);
  std::mutex mutex;
  std::vector<double> latencies;
  bus::SubscriberSettings settings;
  settings.name = "bench";
  settings.filter = {"volume", ""};
  bus::Subscriber subscriber(settings, conn, *nats, [&](const RecordedEvent& e) {
    const auto meta = parse_metadata(e.metadata);
    const double ms = (now_ns() - std::stoll(meta->correlation_id)) / 1e6;
    std::lock_guard lock(mutex);
    latencies.push_back(ms);
    return bus::HandleResult{};
  });
  PgEventStore store(conn);
  store.on_append(bus::append_hint(*nats));
  const auto backlog = store.safe_head().value().value();
  const auto t0 = Clock::now();
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
  // The earlier phases left a backlog: let the relay publish it before measuring latency.
  while (relay.position() < backlog) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  relay_rate = backlog / bench::seconds_since(t0);
  std::jthread subscribing([&](std::stop_token stop) { subscriber.run(stop); });
  while (!subscriber.stats().live) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto stream = StreamName::of("volume", VolumeId::generate());
  for (int i = 0; i < samples; ++i) {
    Metadata meta;
    meta.correlation_id = std::to_string(now_ns());
    const std::vector<NewEvent> one = {NewEvent{EncodedEvent{"VolumeReady", 1, "{}"}, meta}};
    const auto t0 = Clock::now();
    if (!store.append(stream, ExpectedVersion::after(i), one)) throw std::runtime_error("append failed");
    append_ms.push_back(bench::seconds_since(t0) * 1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline) {
    std::lock_guard lock(mutex);
    if (static_cast<int>(latencies.size()) == samples) break;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard lock(mutex);
  return latencies;
}

// One raw INSERT at a time (autocommit, so its own WAL flush), each timed: the append's reference.
std::vector<double> raw_insert_latencies_ms(const std::string& conn, int samples) {
  pqxx::connection c(conn);
  c.prepare("ins", "insert into raw_events (stream, data) values ($1, $2::jsonb)");
  std::vector<double> out;
  for (int i = 0; i < samples; ++i) {
    const auto t0 = Clock::now();
    pqxx::nontransaction(c).exec_prepared("ins", "raw-latency", "{}");
    out.push_back(bench::seconds_since(t0) * 1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return out;
}

// The same path with nothing of ours: js_Publish → pull consumer fetch.
std::vector<double> raw_jetstream_latencies_ms(const std::string& nats_url, int samples) {
  auto nats = bus::NatsClient::connect(nats_url, "bench-raw").value();
  bus::StreamSettings stream;
  stream.name = "RAW";
  stream.subjects = "raw.>";
  nats->ensure_stream(stream).value();
  natsSubscription* sub = nullptr;
  jsErrCode jerr{};
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = "RAW";
  if (js_PullSubscribe(&sub, nats->jetstream(), "raw.>", "raw", nullptr, &so, &jerr) != NATS_OK) {
    throw std::runtime_error("raw pull subscribe failed");
  }
  std::vector<double> latencies;
  std::jthread consumer([&](std::stop_token stop) {
    while (!stop.stop_requested() && static_cast<int>(latencies.size()) < samples) {
      natsMsgList list{};
      if (natsSubscription_Fetch(&list, sub, 200, 500, &jerr) != NATS_OK) continue;
      for (int i = 0; i < list.Count; ++i) {
        latencies.push_back((now_ns() - std::stoll(natsMsg_GetData(list.Msgs[i]))) / 1e6);
        natsMsg_Ack(list.Msgs[i], nullptr);
      }
      natsMsgList_Destroy(&list);
    }
  });
  for (int i = 0; i < samples; ++i) {
    const std::string body = std::to_string(now_ns());
    jsPubAck* ack = nullptr;
    js_Publish(&ack, nats->jetstream(), "raw.x", body.c_str(), static_cast<int>(body.size() + 1), nullptr, &jerr);
    jsPubAck_Destroy(ack);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  consumer.join();
  natsSubscription_Destroy(sub);
  return latencies;
}

template <class F>
double median_of(int rounds, F f) {
  std::vector<double> v;
  for (int i = 0; i < rounds; ++i) v.push_back(f());
  return bench::percentile(v, 50);
}

}  // namespace

int main() {
  spdlog::set_level(spdlog::level::warn);
  testing_support::PostgresServer pg(/*durable=*/true);
  testing_support::NatsServer nats;
  const auto conn = pg.create_database();
  {
    pqxx::connection c(conn);
    pqxx::nontransaction tx(c);
    tx.exec("create table raw_events (id bigserial primary key, stream text not null, data jsonb not null)");
  }
  auto hint_client = bus::NatsClient::connect(nats.url(), "bench-appender").value();
  const auto hint = bus::append_hint(*hint_client);
  std::vector<bench::Row> rows;
  auto rate_row = [&](const std::string& figure, double ours, double ref, const std::string& target) {
    rows.push_back({figure, bench::fmt(ours, "/s"), bench::fmt(ref, "/s"), bench::ratio(ours, ref), target});
  };

  std::fprintf(stderr, "single-event appends, 1 writer...\n");
  const double raw1 = median_of(3, [&] { return raw_insert_rate(conn, 1, 2000); });
  const double app1 = median_of(3, [&] { return append_rate(conn, 1, 2000, 1, hint); });
  rate_row("single-event appends, 1 writer (ref: raw INSERT, 1 client)", app1, raw1, ">= 0.6x");
  std::fprintf(stderr, "single-event appends, 8 writers...\n");
  const double raw8 = median_of(3, [&] { return raw_insert_rate(conn, 8, 8000); });
  const double app8 = median_of(3, [&] {
    bench::Profiled profiled;  // BENCH_PROFILE=1: the appends of 8 writers
    return append_rate(conn, 8, 8000, 1, hint);
  });
  rate_row("single-event appends, 8 writers through one group commit (ref: raw INSERT, 8 clients)", app8, raw8,
           ">= 0.8x");
  std::fprintf(stderr, "batched appends...\n");
  const double batched = median_of(3, [&] { return append_rate(conn, 1, 300, 100, hint); });
  rate_row("batched appends, 100 events each, events/s (ref: raw INSERT, 1 client)", batched, raw1, "");
  std::fprintf(stderr, "read all...\n");
  const double raw_read = median_of(3, [&] { return raw_read_rate(conn); });
  const double read_all = median_of(3, [&] { return read_all_rate(conn); });
  rate_row("read all, events/s (ref: plain SELECT by position)", read_all, raw_read, ">= 100,000/s");
  std::fprintf(stderr, "append → subscriber latency...\n");
  const auto raw_lat = raw_jetstream_latencies_ms(nats.url(), 1000);
  double relay_rate = 0;
  std::vector<double> append_lat;
  const auto our_lat = pipeline_latencies_ms(conn, nats.url(), 1000, relay_rate, append_lat);
  const auto raw_insert_lat = raw_insert_latencies_ms(conn, 1000);
  for (double p : {50.0, 99.0}) {
    const double ours = bench::percentile(our_lat, p);
    const double ref = bench::percentile(raw_lat, p);
    rows.push_back({"append → subscriber latency p" + std::to_string(static_cast<int>(p)) +
                        " (ref: raw JetStream publish → pull consumer)",
                    bench::fmt(ours, "ms", 2), bench::fmt(ref, "ms", 2), bench::ratio(ours, ref),
                    p == 99.0 ? "<= 10 ms" : ""});
  }
  // Where that goes: the append's own commit, against a raw INSERT's; the rest is the hint, the
  // relay's read and publish, and the consumer's fetch.
  rows.push_back({"  of it: the append itself, p50 / p99 (ref: one raw INSERT, autocommit)",
                  bench::p50_p99(append_lat, 2), bench::p50_p99(raw_insert_lat, 2),
                  bench::ratio(bench::percentile(append_lat, 50), bench::percentile(raw_insert_lat, 50)), ""});
  rows.push_back({"relay publishing a backlog, events/s", bench::fmt(relay_rate, "/s"), "", "", ""});
  std::printf("events bench: %zu append→subscriber samples, %zu raw samples, %u cores\n\n", our_lat.size(),
              raw_lat.size(), std::thread::hardware_concurrency());
  bench::print_table(rows);
  return 0;
}
