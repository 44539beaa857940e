// The relay and the subscriber against real PostgreSQL and NATS JetStream servers.
#include "events/bus/hints.hpp"
#include "events/bus/relay.hpp"
#include "events/bus/subscriber.hpp"
#include "events/catalogue.hpp"
#include "events/store/pg_event_store.hpp"
#include "support/catch.hpp"
#include "support/sandbox_fixtures.hpp"
#include "support/servers.hpp"

#include <nats/nats.h>
#include <pqxx/pqxx>

#include <mutex>
#include <set>
#include <thread>

using namespace events;
using namespace events::bus;
using testing_support::NatsServer;
using testing_support::shared_postgres;

namespace {

using testing_support::eventually;

// Appends `n` one-event streams; every other one routed to runner 1, the rest to runner 2.
std::vector<std::int64_t> append_events(PgEventStore& store, int n) {
  std::vector<std::int64_t> positions;
  for (int i = 0; i < n; ++i) {
    const std::vector<NewEvent> one = {NewEvent{encode(SandboxEvent{fixtures::spec()}), {}}};
    AppendOptions options{i % 2 == 0 ? fixtures::kRunner1.str() : fixtures::kRunner2.str()};
    auto r = store.append(StreamName::of("sandbox", SandboxId::generate()), ExpectedVersion::no_stream(), one, options);
    REQUIRE(r);
    positions.push_back(r->last.value());
  }
  return positions;
}

std::vector<std::int64_t> positions_in_store(const std::string& conn, const ReadFilter& filter = {}) {
  PgEventStore store(conn);
  std::vector<std::int64_t> out;
  GlobalPosition after{0};
  while (true) {
    auto batch = store.read_all(after, 1000, filter);
    REQUIRE(batch);
    if (batch->empty()) return out;
    for (const auto& e : *batch) out.push_back(e.position.value());
    after = batch->back().position;
  }
}

// The Nats-Msg-Id of every message in the stream, in stream order.
std::vector<std::int64_t> positions_in_stream(NatsClient& nats, const std::string& stream) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr{};
  REQUIRE(js_GetStreamInfo(&si, nats.jetstream(), stream.c_str(), nullptr, &jerr) == NATS_OK);
  const auto first = si->State.FirstSeq;
  const auto last = si->State.LastSeq;
  const auto msgs = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  std::vector<std::int64_t> out;
  if (msgs == 0) return out;
  for (auto seq = first; seq <= last; ++seq) {
    natsMsg* msg = nullptr;
    REQUIRE(js_GetMsg(&msg, nats.jetstream(), stream.c_str(), seq, nullptr, &jerr) == NATS_OK);
    const char* id = nullptr;
    REQUIRE(natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK);
    out.push_back(std::stoll(id));
    natsMsg_Destroy(msg);
  }
  return out;
}

struct Collector {
  std::mutex mutex;
  std::vector<std::int64_t> positions;
  Handler handler() {
    return [this](const RecordedEvent& e) {
      std::lock_guard lock(mutex);
      positions.push_back(e.position.value());
      return HandleResult{};
    };
  }
  std::vector<std::int64_t> snapshot() {
    std::lock_guard lock(mutex);
    return positions;
  }
  std::size_t size() { return snapshot().size(); }
};

SubscriberSettings quick_subscriber(std::string name, ReadFilter filter = {}) {
  SubscriberSettings s;
  s.name = std::move(name);
  s.filter = std::move(filter);
  s.fetch_wait = std::chrono::milliseconds(200);
  s.check_every = std::chrono::milliseconds(300);
  s.retry_delay = std::chrono::milliseconds(50);
  return s;
}

RelaySettings quick_relay() {
  RelaySettings s;
  s.idle_poll = std::chrono::milliseconds(50);
  s.max_backoff = std::chrono::milliseconds(300);
  s.publish_timeout = std::chrono::milliseconds(1000);
  return s;
}

struct Stack {
  std::string conn = shared_postgres().create_database();
  NatsServer nats_server;
  std::unique_ptr<NatsClient> nats = NatsClient::connect(nats_server.url(), "test").value();
  PgEventStore store{conn};
  Stack() { store.on_append(append_hint(*nats)); }
};

}  // namespace

TEST_CASE("relay: with NATS down, 1,000 appends arrive exactly once and in order when it is back") {
  Stack s;
  Relay relay(quick_relay(), s.conn, *s.nats);
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });

  auto before = append_events(s.store, 10);
  REQUIRE(eventually([&] { return relay.position() == before.back(); }));

  s.nats_server.stop();
  auto during = append_events(s.store, 1000);  // commands keep working without NATS
  CHECK(relay.position() == before.back());
  s.nats_server.start();
  REQUIRE(eventually([&] { return relay.position() == during.back(); }));

  const auto in_stream = positions_in_stream(*s.nats, "EVENTS");
  CHECK(in_stream.size() == 1010);
  CHECK(in_stream == positions_in_store(s.conn));  // each once, in position order
  PgEventStore check(s.conn);
  // Recorded once the relay is idle (not after every batch).
  CHECK(eventually([&] { return check.load_checkpoint("relay")->value() == during.back(); }));
}

TEST_CASE("relay: NATS restarted after its duplicate window, the relay goes on publishing") {
  // The server remembers the last message id only within the duplicate window: a relay that
  // chained its publishes by message id was refused forever after such a restart.
  Stack s;
  RelaySettings settings = quick_relay();
  settings.stream.duplicate_window_seconds = 1;
  Relay relay(settings, s.conn, *s.nats);
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
  auto before = append_events(s.store, 20);
  REQUIRE(eventually([&] { return relay.position() == before.back(); }));
  s.nats_server.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  s.nats_server.start();
  auto after = append_events(s.store, 20);
  REQUIRE(eventually([&] { return relay.position() == after.back(); }));
  CHECK(positions_in_stream(*s.nats, "EVENTS") == positions_in_store(s.conn));
}

TEST_CASE("relay: a restarted relay continues where the stream is, without duplicates") {
  Stack s;
  auto first = append_events(s.store, 50);
  {
    Relay relay(quick_relay(), s.conn, *s.nats);
    std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
    REQUIRE(eventually([&] { return relay.position() == first.back(); }));
  }
  // Pretend the relay died after publishing but before recording its checkpoint.
  s.store.save_checkpoint("relay", GlobalPosition{first[10]});
  auto second = append_events(s.store, 50);
  Relay relay(quick_relay(), s.conn, *s.nats);
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
  REQUIRE(eventually([&] { return relay.position() == second.back(); }));
  CHECK(positions_in_stream(*s.nats, "EVENTS") == positions_in_store(s.conn));
}

TEST_CASE("subscriber: sees only its routing key, in order, once") {
  Stack s;
  Relay relay(quick_relay(), s.conn, *s.nats);
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
  const ReadFilter mine{"sandbox", fixtures::kRunner1.str()};
  Collector got;
  Subscriber subscriber(quick_subscriber("runner-1", mine), s.conn, *s.nats, got.handler());
  std::jthread subscribing([&](std::stop_token stop) { subscriber.run(stop); });

  append_events(s.store, 100);
  const auto expected = positions_in_store(s.conn, mine);
  REQUIRE(expected.size() == 50);
  REQUIRE(eventually([&] { return got.size() >= 50; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // nothing more should come
  CHECK(got.snapshot() == expected);
}

TEST_CASE("subscriber: behind the stream's retention, it catches up from PostgreSQL without gaps or duplicates") {
  Stack s;
  auto relay_settings = quick_relay();
  relay_settings.stream.max_msgs = 50;
  Relay relay(relay_settings, s.conn, *s.nats);
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
  auto settings = quick_subscriber("projector-x");
  settings.stream.max_msgs = 50;

  Collector got;
  auto first = append_events(s.store, 20);
  {
    Subscriber subscriber(settings, s.conn, *s.nats, got.handler());
    std::jthread subscribing([&](std::stop_token stop) { subscriber.run(stop); });
    REQUIRE(eventually([&] { return got.size() == 20; }));
  }
  auto missed = append_events(s.store, 300);
  REQUIRE(eventually([&] { return relay.position() == missed.back(); }));
  REQUIRE(positions_in_stream(*s.nats, "EVENTS").size() == 50);  // the first 270 are gone from NATS

  Subscriber subscriber(settings, s.conn, *s.nats, got.handler());
  std::jthread subscribing([&](std::stop_token stop) { subscriber.run(stop); });
  REQUIRE(eventually([&] { return got.size() == 320; }));
  CHECK(subscriber.stats().catch_ups >= 1);
  CHECK(subscriber.stats().caught_up_events >= 250);

  auto live = append_events(s.store, 10);  // and it is back on the live stream
  REQUIRE(eventually([&] { return got.size() == 330; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(got.snapshot() == positions_in_store(s.conn));
}

TEST_CASE("subscriber: the stream is lost, while stopped and while running") {
  Stack s;
  Relay relay(quick_relay(), s.conn, *s.nats);
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
  Collector got;
  auto first = append_events(s.store, 10);
  {
    Subscriber subscriber(quick_subscriber("lost"), s.conn, *s.nats, got.handler());
    std::jthread subscribing([&](std::stop_token stop) { subscriber.run(stop); });
    REQUIRE(eventually([&] { return got.size() == 10; }));
  }
  jsErrCode jerr{};
  REQUIRE(js_DeleteStream(s.nats->jetstream(), "EVENTS", nullptr, &jerr) == NATS_OK);
  append_events(s.store, 40);

  Subscriber subscriber(quick_subscriber("lost"), s.conn, *s.nats, got.handler());
  std::jthread subscribing([&](std::stop_token stop) { subscriber.run(stop); });
  REQUIRE(eventually([&] { return got.size() == 50; }));

  REQUIRE(js_DeleteStream(s.nats->jetstream(), "EVENTS", nullptr, &jerr) == NATS_OK);
  append_events(s.store, 25);
  REQUIRE(eventually([&] { return got.size() == 75; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(got.snapshot() == positions_in_store(s.conn));
}

TEST_CASE("subscriber: a handler that asks for a retry gets the event again, still in order") {
  // Live and during catch-up: refusals happen on both paths.
  Stack s;
  Relay relay(quick_relay(), s.conn, *s.nats);
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
  std::mutex mutex;
  std::vector<std::int64_t> handled;
  std::set<std::int64_t> refused_once;
  int refusals = 0;
  Handler flaky = [&](const RecordedEvent& e) {
    std::lock_guard lock(mutex);
    if (e.position.value() % 7 == 0 && refused_once.insert(e.position.value()).second) {
      ++refusals;
      return HandleResult{Outcome::retry, "not yet"};
    }
    handled.push_back(e.position.value());
    return HandleResult{};
  };
  Subscriber subscriber(quick_subscriber("flaky"), s.conn, *s.nats, flaky);
  std::jthread subscribing([&](std::stop_token stop) { subscriber.run(stop); });
  append_events(s.store, 60);
  const bool all = eventually([&] {
    std::lock_guard lock(mutex);
    return handled.size() == 60;
  });
  std::lock_guard lock(mutex);
  INFO("handled " << handled.size() << ", last " << (handled.empty() ? 0 : handled.back()));
  REQUIRE(all);
  CHECK(refusals >= 8);
  CHECK(handled == positions_in_store(s.conn));
}

TEST_CASE("subscriber: poison events go to dead letters and do not stall the consumer") {
  Stack s;
  Relay relay(quick_relay(), s.conn, *s.nats);
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
  std::mutex mutex;
  std::vector<std::string> names;
  auto handler = typed_handler<SandboxEvent>([&](const RecordedEvent&, const SandboxEvent& e) {
    std::lock_guard lock(mutex);
    names.push_back(std::get<SandboxCreated>(e).name);
    return HandleResult{};
  });
  Subscriber subscriber(quick_subscriber("typed", {"sandbox", ""}), s.conn, *s.nats, handler);
  std::jthread subscribing([&](std::stop_token stop) { subscriber.run(stop); });

  append_events(s.store, 1);
  REQUIRE(eventually([&] { return subscriber.stats().live.load(); }));
  const auto poison_stream = StreamName::of("sandbox", SandboxId::generate());
  const std::vector<NewEvent> poison = {NewEvent{EncodedEvent{"SandboxCreated", 2, R"({"bogus":1})"}, {}}};
  auto poisoned = s.store.append(poison_stream, ExpectedVersion::no_stream(), poison);
  REQUIRE(poisoned);
  // Something that is not an envelope at all, straight onto the subject.
  const std::string junk = "\x01not json";
  REQUIRE(natsConnection_Publish(s.nats->connection(), "ev.sandbox._.x.Junk", junk.data(),
                                 static_cast<int>(junk.size())) == NATS_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  append_events(s.store, 3);

  REQUIRE(eventually([&] {
    std::lock_guard lock(mutex);
    return names.size() == 4;
  }));
  REQUIRE(eventually([&] { return subscriber.stats().dead_lettered == 2; }));
  pqxx::connection c(s.conn);
  pqxx::nontransaction tx(c);
  const auto rows = tx.exec("select stream, position, type, reason from dead_letters order by stream like 'ev.%', id");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][0].as<std::string>() == poison_stream.str());
  CHECK(rows[0][1].as<std::int64_t>() == poisoned->first.value());
  CHECK_THAT(rows[0][3].as<std::string>(), Catch::Contains("SandboxCreated"));
  CHECK(rows[1][0].as<std::string>() == "ev.sandbox._.x.Junk");
  CHECK_THAT(rows[1][3].as<std::string>(), Catch::Contains("envelope"));
}

TEST_CASE("subscriber: a restarted subscriber resumes after its checkpoint") {
  Stack s;
  Relay relay(quick_relay(), s.conn, *s.nats);
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
  auto positions = append_events(s.store, 30);
  const auto stuck_at = positions[12];
  std::vector<std::int64_t> first_run;
  {
    // This one stops making progress at the 13th event (say its database went away).
    Handler stuck = [&](const RecordedEvent& e) {
      if (e.position.value() >= stuck_at) return HandleResult{Outcome::retry, "database down"};
      first_run.push_back(e.position.value());
      return HandleResult{};
    };
    Subscriber subscriber(quick_subscriber("resumer"), s.conn, *s.nats, stuck);
    std::jthread subscribing([&](std::stop_token stop) { subscriber.run(stop); });
    REQUIRE(eventually([&] { return subscriber.stats().position == positions[11]; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  CHECK(first_run.size() == 12);
  append_events(s.store, 5);
  Collector got;
  Subscriber subscriber(quick_subscriber("resumer"), s.conn, *s.nats, got.handler());
  std::jthread subscribing([&](std::stop_token stop) { subscriber.run(stop); });
  REQUIRE(eventually([&] { return got.size() == 23; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto all = positions_in_store(s.conn);
  CHECK(got.snapshot() == std::vector<std::int64_t>(all.begin() + 12, all.end()));
}

TEST_CASE("relay: an append hint wakes it at once; without hints it still polls") {
  Stack s;
  auto settings = quick_relay();
  settings.idle_poll = std::chrono::seconds(30);  // only a hint can wake it within the test
  Relay relay(settings, s.conn, *s.nats);
  std::jthread relaying([&](std::stop_token stop) { relay.run(stop); });
  append_events(s.store, 1);
  REQUIRE(eventually([&] { return relay.position() == 1; }, std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the relay is waiting again
  auto later = append_events(s.store, 1);  // woken well before its 30 s poll
  REQUIRE(eventually([&] { return relay.position() == later.back(); }, std::chrono::seconds(10)));

  PgEventStore silent(s.conn);  // no hint hook: found by polling
  auto quick = quick_relay();
  Relay polling(quick, s.conn, *s.nats);
  relaying.request_stop();
  relaying.join();
  std::jthread relaying2([&](std::stop_token stop) { polling.run(stop); });
  auto unhinted = append_events(silent, 1);
  REQUIRE(eventually([&] { return polling.position() == unhinted.back(); }, std::chrono::seconds(10)));
}
