// The event store against a real PostgreSQL.
#include "events/catalogue.hpp"
#include "events/store/copy_log.hpp"
#include "events/store/pg_event_store.hpp"
#include "support/catch.hpp"
#include "support/sandbox_fixtures.hpp"
#include "support/servers.hpp"

#include <pqxx/pqxx>

#include <atomic>
#include <thread>

using namespace events;
using testing_support::shared_postgres;

namespace {

NewEvent new_event(const SandboxEvent& e, std::string actor = "test") {
  return NewEvent{encode(e), Metadata{new_uuid(), "corr-1", "", std::move(actor), "", ""}};
}

StreamName new_sandbox_stream() { return StreamName::of("sandbox", SandboxId::generate()); }

}  // namespace

TEST_CASE("event store: append with expected version, read back a stream") {
  PgEventStore store(shared_postgres().create_database());
  const auto stream = new_sandbox_stream();
  const std::vector<NewEvent> first = {new_event(fixtures::spec()),
                                       new_event(SandboxRunnerAssigned{fixtures::kRunner1})};
  auto appended = store.append(stream, ExpectedVersion::no_stream(), first);
  REQUIRE(appended);
  CHECK(appended->version.value() == 1);
  CHECK(appended->last.value() == appended->first.value() + 1);

  SECTION("a wrong expected version is a typed conflict and writes nothing") {
    const std::vector<NewEvent> more = {new_event(SandboxStarted{fixtures::kRunner1})};
    auto conflict = store.append(stream, ExpectedVersion::no_stream(), more);
    REQUIRE_FALSE(conflict);
    CHECK(conflict.error().code == ErrorCode::version_conflict);
    conflict = store.append(stream, ExpectedVersion::exactly(StreamVersion{0}), more);
    REQUIRE_FALSE(conflict);
    CHECK(conflict.error().code == ErrorCode::version_conflict);
    CHECK_THAT(conflict.error().message, Catch::Contains("is at version 1, expected 0"));
    CHECK(store.read_stream(stream)->size() == 2);
    auto ok = store.append(stream, ExpectedVersion::exactly(StreamVersion{1}), more);
    REQUIRE(ok);
    CHECK(ok->version.value() == 2);
  }

  SECTION("read a stream in version order with every field") {
    auto events = store.read_stream(stream);
    REQUIRE(events);
    REQUIRE(events->size() == 2);
    const auto& e0 = (*events)[0];
    CHECK(e0.stream == stream.str());
    CHECK(e0.version.value() == 0);
    CHECK(e0.type == "SandboxCreated");
    CHECK(e0.schema_version == 2);
    CHECK(e0.category() == "sandbox");
    CHECK(e0.recorded_at.size() == 27);
    auto decoded = decode<SandboxEvent>(e0);
    REQUIRE(decoded);
    CHECK(std::get<SandboxCreated>(*decoded).name == "box");
    auto meta = parse_metadata(e0.metadata);
    REQUIRE(meta);
    CHECK(meta->actor == "test");
    CHECK(meta->correlation_id == "corr-1");
    CHECK((*events)[1].version.value() == 1);
    CHECK(store.read_stream(stream, StreamVersion{1})->size() == 1);
  }
}

TEST_CASE("event store: recorded_at reads back as ISO-8601 UTC with six fraction digits") {
  const auto conn = shared_postgres().create_database();
  PgEventStore store(conn);
  pqxx::connection c(conn);
  {
    pqxx::nontransaction tx(c);
    tx.exec("set timezone to 'America/New_York'");  // the writer's zone does not matter
    tx.exec("set datestyle to 'SQL, DMY'");         // nor its date style
    int version = 0;
    for (const char* at : {"2026-12-02 10:22:08.123456+00", "2026-12-02 10:22:08.1234+00", "2026-12-02 10:22:08+00",
                           "2026-01-31 23:59:59.000001+00", "2026-06-30 20:00:00.5-04"}) {
      tx.exec_params("insert into events (stream, version, type, schema_version, data, metadata, recorded_at) "
                     "values ('clock-1', $1, 'Tick', 1, '{}', '{}', $2)",
                     version++, at);
    }
  }
  auto events = store.read_stream(StreamName::parse("clock-1").value());
  REQUIRE(events);
  std::vector<std::string> read;
  for (const auto& e : *events) read.push_back(e.recorded_at);
  CHECK(read == std::vector<std::string>{"2026-12-02T10:22:08.123456Z", "2026-12-02T10:22:08.123400Z",
                                         "2026-12-02T10:22:08.000000Z", "2026-01-31T23:59:59.000001Z",
                                         "2026-07-01T00:00:00.500000Z"});
  auto all = store.read_all(GlobalPosition{0}, 10);
  REQUIRE(all);
  REQUIRE(all->size() == 5);
  CHECK(all->back().recorded_at == "2026-07-01T00:00:00.500000Z");
}

TEST_CASE("event store: the log read with COPY is the log read with SELECT, escapes and all") {
  const auto conn = shared_postgres().create_database();
  PgEventStore store(conn);
  // Data and metadata that COPY's text format escapes (names are JSON text: \t is a tab, \\ a
  // backslash), and characters beyond ASCII.
  const std::vector<std::string> names = {R"(tab\there)", R"(line\nbreak)", R"(back\\slash)", R"(quote\"d)",
                                          "ünïcødé ✓", "plain", R"(carriage\rreturn)"};
  for (const auto& name : names) {
    const std::vector<NewEvent> one = {
        NewEvent{EncodedEvent{"Noted", 1, "{\"name\":\"" + name + "\"}"},
                 Metadata{new_uuid(), "corr\t" + name, "", "actor", fixtures::kOrg.str(), ""}}};
    REQUIRE(store.append(StreamName::parse("note-" + new_uuid()).value(), ExpectedVersion::no_stream(), one));
  }
  auto selected = store.read_all(GlobalPosition{0}, 100);
  REQUIRE(selected);
  REQUIRE(selected->size() == names.size());
  std::vector<RecordedEvent> copied;
  std::vector<std::size_t> batches;
  auto n = copy_log(conn, 0, std::numeric_limits<std::int64_t>::max(), 3, [&](std::vector<RecordedEvent>&& batch) {
    batches.push_back(batch.size());
    copied.insert(copied.end(), batch.begin(), batch.end());
    return true;
  });
  REQUIRE(n);
  CHECK(*n == static_cast<std::int64_t>(names.size()));
  CHECK(batches == std::vector<std::size_t>{3, 3, 1});
  REQUIRE(copied.size() == selected->size());
  for (std::size_t i = 0; i < copied.size(); ++i) {
    const auto& a = copied[i];
    const auto& b = (*selected)[i];
    CHECK(std::tie(a.position, a.stream, a.version, a.type, a.schema_version, a.data, a.metadata, a.routing_key,
                   a.recorded_at) == std::tie(b.position, b.stream, b.version, b.type, b.schema_version, b.data,
                                              b.metadata, b.routing_key, b.recorded_at));
  }
  // A window of positions, and a stop after the first batch.
  const auto second = (*selected)[1].position.value();
  const auto fifth = (*selected)[4].position.value();
  std::vector<std::int64_t> window;
  REQUIRE(copy_log(conn, second, fifth, 2, [&](std::vector<RecordedEvent>&& batch) {
    for (const auto& e : batch) window.push_back(e.position.value());
    return false;
  }));
  CHECK(window == std::vector<std::int64_t>{(*selected)[2].position.value(), (*selected)[3].position.value()});
  CHECK_FALSE(copy_log("host=127.0.0.1 port=1 dbname=none connect_timeout=2", 0, 10, 10,
                       [](std::vector<RecordedEvent>&&) { return true; }));
}

TEST_CASE("event store: a multi-event append is atomic") {
  const auto conn = shared_postgres().create_database();
  PgEventStore store(conn);
  const auto stream = new_sandbox_stream();
  // The second event's data is not JSON: PostgreSQL rejects the batch, and neither is stored.
  std::vector<NewEvent> batch = {new_event(fixtures::spec()),
                                 NewEvent{EncodedEvent{"SandboxStarted", 1, "{broken"}, {}}};
  auto r = store.append(stream, ExpectedVersion::no_stream(), batch);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::invalid_argument);
  CHECK(store.read_stream(stream)->empty());
  CHECK(store.safe_head()->value() == 0);
}

TEST_CASE("event store: the log cannot be updated or deleted") {
  const auto conn = shared_postgres().create_database();
  PgEventStore store(conn);
  const std::vector<NewEvent> one = {new_event(fixtures::spec())};
  REQUIRE(store.append(new_sandbox_stream(), ExpectedVersion::any(), one));
  pqxx::connection c(conn);
  pqxx::nontransaction tx(c);
  CHECK_THROWS_WITH(tx.exec("update events set type = 'X'"), Catch::Contains("immutable"));
  CHECK_THROWS_WITH(tx.exec("delete from events"), Catch::Contains("immutable"));
}

TEST_CASE("event store: idempotency keys") {
  const std::string connection = shared_postgres().create_database();
  PgEventStore store(connection);
  const auto stream = new_sandbox_stream();
  const std::vector<NewEvent> one = {new_event(fixtures::spec())};
  AppendOptions options{"", std::string("org-1/key-1"), "hash-a"};
  auto first = store.append(stream, ExpectedVersion::no_stream(), one, options);
  REQUIRE(first);
  CHECK_FALSE(first->duplicate);

  // Same key, same request: the first result again, nothing new written.
  auto again = store.append(stream, ExpectedVersion::no_stream(), one, options);
  REQUIRE(again);
  CHECK(again->duplicate);
  CHECK(again->first == first->first);
  CHECK(again->version == first->version);
  CHECK(store.read_stream(stream)->size() == 1);

  // Same key, different request: a conflict.
  options.request_hash = "hash-b";
  auto other = store.append(new_sandbox_stream(), ExpectedVersion::no_stream(), one, options);
  REQUIRE_FALSE(other);
  CHECK(other.error().code == ErrorCode::idempotency_conflict);

  // Racing appends with one key: exactly one writes; the others get its result.
  const auto raced = new_sandbox_stream();
  std::atomic<int> written{0};
  std::atomic<int> duplicates{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      PgEventStore mine(connection);
      auto r = mine.append(raced, ExpectedVersion::no_stream(), one,
                           AppendOptions{"", std::string("org-1/race"), "same"});
      if (r && !r->duplicate) ++written;
      if (r && r->duplicate) ++duplicates;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(written == 1);
  CHECK(duplicates == 5);
  CHECK(store.read_stream(raced)->size() == 1);
}

TEST_CASE("event store: concurrent appends to one stream, exactly one wins") {
  const auto conn = shared_postgres().create_database();
  PgEventStore store(conn);
  const auto stream = new_sandbox_stream();
  const std::vector<NewEvent> one = {new_event(fixtures::spec())};
  REQUIRE(store.append(stream, ExpectedVersion::no_stream(), one));
  std::atomic<int> won{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      PgEventStore mine(conn);
      const std::vector<NewEvent> next = {new_event(SandboxRunnerAssigned{fixtures::kRunner1})};
      auto r = mine.append(stream, ExpectedVersion::exactly(StreamVersion{0}), next);
      if (r) ++won;
      if (!r && r.error().code == ErrorCode::version_conflict) ++conflicts;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(won == 1);
  CHECK(conflicts == 7);
  CHECK(store.read_stream(stream)->size() == 2);
}

TEST_CASE("event store: read all in batches, with filters") {
  const auto conn = shared_postgres().create_database();
  PgEventStore store(conn);
  for (int i = 0; i < 25; ++i) {
    const std::vector<NewEvent> one = {new_event(fixtures::spec())};
    AppendOptions options{i % 2 == 0 ? fixtures::kRunner1.str() : fixtures::kRunner2.str()};
    REQUIRE(store.append(new_sandbox_stream(), ExpectedVersion::no_stream(), one, options));
  }
  const std::vector<NewEvent> volume = {
      NewEvent{encode(VolumeEvent{VolumeCreated{VolumeId::generate(), fixtures::kOrg, "v"}}), {}}};
  REQUIRE(store.append(StreamName::of("volume", VolumeId::generate()), ExpectedVersion::no_stream(), volume));

  std::vector<std::int64_t> seen;
  GlobalPosition after{0};
  while (true) {
    auto batch = store.read_all(after, 10);
    REQUIRE(batch);
    if (batch->empty()) break;
    CHECK(batch->size() <= 10);
    for (const auto& e : *batch) seen.push_back(e.position.value());
    after = batch->back().position;
  }
  REQUIRE(seen.size() == 26);
  for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] > seen[i - 1]);

  auto sandboxes = store.read_all(GlobalPosition{0}, 100, ReadFilter{"sandbox", ""});
  REQUIRE(sandboxes);
  CHECK(sandboxes->size() == 25);
  auto routed = store.read_all(GlobalPosition{0}, 100, ReadFilter{"sandbox", fixtures::kRunner1.str()});
  REQUIRE(routed);
  CHECK(routed->size() == 13);
  for (const auto& e : *routed) CHECK(e.routing_key == fixtures::kRunner1.str());
}

TEST_CASE("event store: migrations are recorded and applied once") {
  const auto conn = shared_postgres().create_database();
  auto again = apply_migrations(conn, PROJECT_SOURCE_DIR "/infra/schema");
  REQUIRE(again);
  CHECK(*again == 0);
  pqxx::connection c(conn);
  pqxx::nontransaction tx(c);
  CHECK(tx.exec("select count(*) from schema_migrations")[0][0].as<int>() >= 1);
  auto missing = apply_migrations(conn, "/nonexistent");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("/nonexistent"));
}

TEST_CASE("event store: PostgreSQL going away is an error value, not a crash") {
  const auto conn = shared_postgres().create_database();
  PgEventStore store(conn);
  {
    pqxx::connection admin(shared_postgres().connection_string("postgres"));
    pqxx::nontransaction tx(admin);
    tx.exec("select pg_terminate_backend(pid) from pg_stat_activity where datname = '" +
            std::string(store.connection().dbname()) + "' and pid <> pg_backend_pid()");
  }
  const std::vector<NewEvent> one = {new_event(fixtures::spec())};
  auto r = store.append(new_sandbox_stream(), ExpectedVersion::no_stream(), one);
  if (!r) CHECK(r.error().code == ErrorCode::unavailable);
  // libpqxx reconnects on the next use; the store keeps working.
  auto later = store.append(new_sandbox_stream(), ExpectedVersion::no_stream(), one);
  REQUIRE(later);
}
