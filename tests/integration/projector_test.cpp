// The projector against a real PostgreSQL: read models, checkpoints, replay, leadership.
#include "events/api_keys.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/organization.hpp"
#include "events/deciders/runner.hpp"
#include "events/deciders/sandbox.hpp"
#include "events/deciders/volume.hpp"
#include "events/store/pg_event_store.hpp"
#include "projector/projector.hpp"
#include "projector/replay.hpp"
#include "support/catch.hpp"
#include "support/sandbox_fixtures.hpp"
#include "support/servers.hpp"

#include <pqxx/pqxx>
#include <signal.h>

#include <atomic>
#include <thread>

using namespace events;
using testing_support::shared_postgres;

namespace {

Metadata meta(const std::string& actor = "alice") {
  return Metadata{new_uuid(), "corr-" + new_uuid(), "", actor, fixtures::kOrg.str(), ""};
}

// A sandbox command, for threads where REQUIRE may not run: whether it was applied.
bool try_sandbox_command(EventStore& store, const SandboxId& id, const sandbox::Command& c) {
  return execute<SandboxEvent, sandbox::State>(
             store, StreamName::of("sandbox", id), meta(), [&](const sandbox::State& s) { return sandbox::decide(c, s); },
             [](sandbox::State s, const SandboxEvent& e) { return sandbox::evolve(std::move(s), e); })
      .has_value();
}

void sandbox_command(EventStore& store, const SandboxId& id, const sandbox::Command& c) {
  REQUIRE(try_sandbox_command(store, id, c));
}

void runner_command(EventStore& store, const RunnerId& id, const runner::Command& c) {
  auto r = execute<RunnerEvent, runner::State>(
      store, StreamName::of("runner", id), meta("runner"), [&](const runner::State& s) { return runner::decide(c, s); },
      [](runner::State s, const RunnerEvent& e) { return runner::evolve(std::move(s), e); });
  REQUIRE(r);
}

SandboxCreated spec_for(const SandboxId& id, const std::string& name) {
  auto s = fixtures::spec();
  s.sandbox_id = id;
  s.name = name;
  return s;
}

// A day in the life: an org with a key, a runner, two sandboxes, a volume.
struct History {
  SandboxId archived = SandboxId::generate();
  SandboxId running = SandboxId::generate();
  RunnerId runner = RunnerId::generate();
  std::int64_t position_when_started = 0;

  void write(PgEventStore& store) {
    auto org = execute<OrganizationEvent, organization::State>(
        store, StreamName::of("organization", fixtures::kOrg), meta("admin"),
        [&](const organization::State& s) -> Result<organization::Events> {
          auto a = organization::decide(organization::Create{fixtures::kOrg, "acme"}, s);
          if (!a) return a;
          auto after = s;
          for (const auto& e : *a) after = organization::evolve(std::move(after), e);
          auto b = organization::decide(
              organization::CreateApiKey{ApiKeyId::generate(), "ci", sha256_hex("dtn_x"), "dtn_x"}, after);
          if (!b) return b;
          a->insert(a->end(), b->begin(), b->end());
          return a;
        },
        [](organization::State s, const OrganizationEvent& e) { return organization::evolve(std::move(s), e); });
    REQUIRE(org);
    runner_command(store, runner, runner::Register{RunnerRegistered{runner, "local", "127.0.0.1:7001", {4, 16, 100, 50}}});
    runner_command(store, runner, runner::Heartbeat{1000, {1, 0.5, 1, 2}});
    for (const auto& [id, name] : {std::pair{archived, "one"}, std::pair{running, "two"}}) {
      sandbox_command(store, id, sandbox::Create{spec_for(id, name)});
      sandbox_command(store, id, sandbox::AssignRunner{runner});
      sandbox_command(store, id, sandbox::Report{runner, sandbox::Reported::started});
    }
    position_when_started = store.safe_head()->value();
    sandbox_command(store, running, sandbox::ReplaceLabels{{{"team", "ml"}, {"code-toolbox-language", "python"}}});
    sandbox_command(store, archived, sandbox::Stop{});
    sandbox_command(store, archived, sandbox::Report{runner, sandbox::Reported::stopped});
    sandbox_command(store, archived, sandbox::Archive{});
    sandbox_command(store, archived, sandbox::Report{runner, sandbox::Reported::archived, "archives/one.tar"});
    auto vol = execute<VolumeEvent, volume::State>(
        store, StreamName::of("volume", VolumeId::generate()), meta(),
        [&](const volume::State& s) {
          return volume::decide(volume::Create{VolumeCreated{VolumeId::generate(), fixtures::kOrg, "data"}}, s);
        },
        [](volume::State s, const VolumeEvent& e) { return volume::evolve(std::move(s), e); });
    REQUIRE(vol);
  }
};

// A database holding History's log (a fixture: conn, store, h).
struct WithHistory {
  const std::string conn = shared_postgres().create_database();
  PgEventStore store{conn};
  History h;
  WithHistory() { h.write(store); }
};

void project_all(const std::string& conn, const std::string& schema = "read") {
  const auto models = projector::all_models();
  REQUIRE(projector::ensure_schema(conn, schema, models));
  projector::Settings settings;
  settings.schema = schema;
  for (const auto& m : models) {
    projector::Projector p(*m, conn, settings);
    REQUIRE(p.catch_up(std::numeric_limits<std::int64_t>::max()));
  }
}

std::string one(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction tx(c);
  const auto r = tx.exec(sql);
  return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
}

// Whether every model in `read` has reached `head`, waiting up to a minute.
bool wait_for_models(const std::string& conn, std::int64_t head) {
  auto caught_up = [&] {
    for (const auto& m : projector::all_models()) {
      auto p = projector::checkpoint_of(conn, "read", m->name());
      if (!p || *p < head) return false;
    }
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!caught_up() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return caught_up();
}

}  // namespace

TEST_CASE_METHOD(WithHistory, "projector: read models follow the log") {
  project_all(conn);
  pqxx::connection c(conn);

  const auto archived = "'" + h.archived.str() + "'";
  const auto running = "'" + h.running.str() + "'";
  CHECK(one(c, "select state from read.sandboxes where id = " + archived) == "archived");
  CHECK(one(c, "select desired_state from read.sandboxes where id = " + archived) == "archived");
  CHECK(one(c, "select runner_id from read.sandboxes where id = " + archived).empty());
  CHECK(one(c, "select state from read.sandboxes where id = " + running) == "started");
  CHECK(one(c, "select runner_id from read.sandboxes where id = " + running) == h.runner.str());
  CHECK(one(c, "select labels->>'team' from read.sandboxes where id = " + running) == "ml");
  CHECK(one(c, "select name from read.sandboxes where id = " + running) == "two");
  // Capacity: the running sandbox is on the runner, the archived one gave its share back.
  CHECK(one(c, "select assigned_sandboxes from read.runners") == "1");
  CHECK(one(c, "select assigned_cpu from read.runners") == "1");
  CHECK(one(c, "select reported_sandboxes from read.runners") == "1");
  CHECK(one(c, "select count(*) from read.api_keys where not revoked and key_hash = '" + sha256_hex("dtn_x") + "'") == "1");
  CHECK(one(c, "select state from read.volumes") == "pending_create");
  // Audit: every event, with actor and correlation id.
  CHECK(one(c, "select count(*) from read.audit_log") == one(c, "select count(*) from events"));
  CHECK(one(c, "select actor from read.audit_log where action = 'SandboxStopRequested'") == "alice");
  CHECK(one(c, "select count(*) from read.audit_log where correlation_id like 'corr-%'") == one(c, "select count(*) from events"));
  // Usage: time spent started was accounted for the archived sandbox.
  CHECK(one(c, "select count(*) from read.usage where state = 'started'") == "1");
  CHECK(one(c, "select count(*) from read.usage_open") == "2");
  // Checkpoints: every model reached the head.
  CHECK(one(c, "select min(position) from read.projection_checkpoints") == std::to_string(store.safe_head()->value()));
}

TEST_CASE_METHOD(WithHistory, "projector: replay --verify finds a rebuild equal, and finds a tampered row") {
  project_all(conn);
  auto verified = projector::verify(conn, "read");
  REQUIRE(verified);
  CHECK(verified->equal);
  CHECK_THAT(verified->summary, Catch::StartsWith("equal"));
  CHECK(verified->replay.events > 0);

  pqxx::connection c(conn);
  {
    pqxx::nontransaction tx(c);
    tx.exec("update read.sandboxes set state = 'started' where id = '" + h.archived.str() + "'");
  }
  auto tampered = projector::verify(conn, "read");
  REQUIRE(tampered);
  CHECK_FALSE(tampered->equal);
  CHECK_THAT(tampered->diff, Catch::Contains("only in live sandboxes"));
  CHECK_THAT(tampered->diff, Catch::Contains("only in replay sandboxes"));
  CHECK(one(c, "select count(*) from pg_namespace where nspname like 'replay_verify_%'") == "0");
}

// Models that fold a batch in memory (set-wise) must leave the rows that one event per batch
// leaves, where every event reads the row the previous one wrote.
TEST_CASE_METHOD(WithHistory, "projector: a batch folded set-wise leaves the rows one event at a time leaves") {
  const auto& id = h.running;
  sandbox_command(store, id, sandbox::ReplaceLabels{{{"a", "1"}}});
  sandbox_command(store, id, sandbox::SetTimer{LifecycleTimer::auto_stop, 7});
  sandbox_command(store, id, sandbox::RecordActivity{1764600000123});
  sandbox_command(store, id, sandbox::SetNetwork{NetworkPolicy{true, {}, {}, {}}, std::nullopt, std::nullopt, "user"});
  sandbox_command(store, id, sandbox::ReportError{h.runner, "it fell over", true});
  sandbox_command(store, id, sandbox::ReplaceLabels{{{"b", "2"}}});
  const auto gone = SandboxId::generate();  // its usage interval ends: the row is deleted
  sandbox_command(store, gone, sandbox::Create{spec_for(gone, "three")});
  sandbox_command(store, gone, sandbox::AssignRunner{h.runner});
  sandbox_command(store, gone, sandbox::Report{h.runner, sandbox::Reported::started});
  sandbox_command(store, gone, sandbox::Destroy{});
  sandbox_command(store, gone, sandbox::Report{h.runner, sandbox::Reported::destroyed});
  // Metadata whose actor is not a string: the audit row says no actor, as parse_metadata reads it.
  const auto odd_volume = VolumeId::generate();
  {
    pqxx::connection c(conn);
    pqxx::nontransaction tx(c);
    tx.exec_params("select * from append_events($1, -1, $2::jsonb, '', null, '')", "volume-" + odd_volume.str(),
                   R"([{"type":"VolumeReady","schema_version":1,"data":{},"metadata":{"actor":5,"organization_id":"o-1"}}])");
  }
  const auto models = projector::all_models();
  for (const auto& [schema, batch] : {std::pair{"whole", std::size_t{500}}, std::pair{"single", std::size_t{1}}}) {
    REQUIRE(projector::ensure_schema(conn, schema, models));
    projector::Settings settings;
    settings.schema = schema;
    settings.batch = batch;
    projector::Projector p(projector::borrow(models), conn, settings);
    REQUIRE(p.catch_up(std::numeric_limits<std::int64_t>::max()));
  }
  // The same, one event at a time, each by a new projector: every row read from PostgreSQL, none
  // remembered from an earlier batch.
  {
    REQUIRE(projector::ensure_schema(conn, "fresh", models));
    projector::Settings settings;
    settings.schema = "fresh";
    settings.batch = 1;
    const auto head = store.safe_head()->value();
    for (std::int64_t position = 1; position <= head; ++position) {
      projector::Projector p(projector::borrow(models), conn, settings);
      REQUIRE(p.catch_up(position));
    }
  }
  pqxx::connection c(conn);
  CHECK(one(c, "select count(*) from whole.sandboxes") == "3");
  CHECK(one(c, "select state from whole.sandboxes where id = '" + gone.str() + "'") == "destroyed");
  CHECK(one(c, "select count(*) from whole.usage_open") == "2");
  for (const auto& m : models) {
    for (const auto& t : m->tables()) {
      for (const std::string other : {"single", "fresh"}) {
        INFO(t.name << " in " << other);
        CHECK(one(c, "select count(*) from (select * from whole." + t.name + " except select * from " + other + "." +
                         t.name + ") d") == "0");
        CHECK(one(c, "select count(*) from (select * from " + other + "." + t.name + " except select * from whole." +
                         t.name + ") d") == "0");
      }
    }
  }
  const auto running = "'" + id.str() + "'";
  CHECK(one(c, "select labels::text from whole.sandboxes where id = " + running) == R"({"b": "2"})");
  CHECK(one(c, "select auto_stop_interval from whole.sandboxes where id = " + running) == "7");
  CHECK(one(c, "select state || ' ' || error_reason from whole.sandboxes where id = " + running) == "error it fell over");
  CHECK(one(c, "select network_block_all from whole.sandboxes where id = " + running) == "t");
  CHECK(one(c, "select extract(epoch from last_activity_at)::bigint from whole.sandboxes where id = " + running) ==
        "1764600000");
  CHECK(one(c, "select count(*) from whole.audit_log") == one(c, "select count(*) from events"));
  // An audit row holds the event's metadata, its stream as resource, its type and data as they are.
  CHECK(one(c, "select concat_ws(' ', organization_id, actor, resource_type, resource_id, action, "
               "left(correlation_id, 5), causation_id = '', data->>'name') from whole.audit_log where action = "
               "'SandboxCreated' and resource_id = '" + gone.str() + "'") ==
        fixtures::kOrg.str() + " alice sandbox " + gone.str() + " SandboxCreated corr- t three");
  CHECK(one(c, "select concat_ws('|', organization_id, actor, resource_type, resource_id, action) from whole.audit_log "
               "where resource_id = '" + odd_volume.str() + "'") == "o-1||volume|" + odd_volume.str() + "|VolumeReady");
  CHECK(one(c, "select count(*) from whole.audit_log a join events e using (position) where a.recorded_at = "
               "e.recorded_at and a.data = e.data") == one(c, "select count(*) from events"));
  // Usage: the time each sandbox spent started, from its SandboxStarted to its next state event,
  // to the microsecond (all three sandboxes left it: stopped, errored, destroyed).
  CHECK(one(c, "select (select sandbox_seconds from whole.usage where state = 'started') = "
               "(select sum(extract(epoch from n.recorded_at - a.recorded_at)) from events a join lateral "
               "(select recorded_at from events b where b.stream = a.stream and b.position > a.position and b.type in "
               "('SandboxStopping', 'SandboxStopped', 'SandboxErrored', 'SandboxDestroying', 'SandboxDestroyed') order by b.position limit 1) n on true "
               "where a.type = 'SandboxStarted')") == "t");
  CHECK(one(c, "select cpu_seconds = sandbox_seconds * 1 from whole.usage where state = 'started'") == "t");
}

// A former leader that still runs (it has not noticed that it lost the lead) holds checkpoints
// that another instance has moved past. Applying the batch again would add the usage intervals a
// second time; its transaction must roll back whole instead.
TEST_CASE_METHOD(WithHistory, "projector: an instance whose checkpoints moved under it applies nothing") {
  const auto head = store.safe_head()->value();
  const auto models = projector::all_models();
  REQUIRE(projector::ensure_schema(conn, "read", models));
  std::vector<const projector::ReadModel*> chosen;
  for (const auto& m : models) {
    if (m->name() == "usage" || m->name() == "sandboxes") chosen.push_back(m.get());
  }
  projector::Settings settings;
  projector::Projector stale(chosen, conn, settings);
  REQUIRE(stale.catch_up(h.position_when_started));
  projector::Projector current(chosen, conn, settings);
  REQUIRE(current.catch_up(head));

  pqxx::connection c(conn);
  const std::string usage = "select string_agg(state || ' ' || sandbox_seconds::text, ',' order by state) from read.usage";
  const std::string sandboxes = "select string_agg(id || ' ' || state || ' ' || version, ',' order by id) from read.sandboxes";
  const auto usage_before = one(c, usage);
  const auto sandboxes_before = one(c, sandboxes);
  REQUIRE(usage_before.find("started") != std::string::npos);

  auto again = stale.catch_up(head);
  REQUIRE_FALSE(again);
  CHECK_THAT(again.error().message, Catch::Matchers::Contains("checkpoints moved under us"));
  CHECK(one(c, usage) == usage_before);
  CHECK(one(c, sandboxes) == sandboxes_before);
  CHECK(one(c, "select min(position) || ' ' || max(position) from read.projection_checkpoints") ==
        std::to_string(head) + " " + std::to_string(head));
  CHECK(one(c, "select count(*) from dead_letters") == "0");
}

TEST_CASE_METHOD(WithHistory, "projector: the read models as of a position or a time") {
  auto r = projector::replay_into(conn, "as_of_started", h.position_when_started);
  REQUIRE(r);
  pqxx::connection c(conn);
  CHECK(one(c, "select state from as_of_started.sandboxes where id = '" + h.archived.str() + "'") == "started");
  CHECK(one(c, "select count(*) from as_of_started.volumes") == "0");
  auto again = projector::replay_into(conn, "as_of_started", h.position_when_started);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::already_exists);

  const auto when = one(c, "select recorded_at::text from events where position = " + std::to_string(h.position_when_started));
  auto by_time = projector::position_as_of(conn, when);
  REQUIRE(by_time);
  CHECK(*by_time >= h.position_when_started);
  CHECK_FALSE(projector::position_as_of(conn, "yesterday-ish"));
}

TEST_CASE("projector: an unreadable event is dead-lettered and the projection goes on") {
  const auto conn = shared_postgres().create_database();
  PgEventStore store(conn);
  const auto bad = SandboxId::generate();
  const std::vector<NewEvent> poison = {NewEvent{EncodedEvent{"SandboxCreated", 2, R"({"bogus":1})"}, meta()}};
  REQUIRE(store.append(StreamName::of("sandbox", bad), ExpectedVersion::no_stream(), poison));
  History h;
  h.write(store);
  project_all(conn);
  pqxx::connection c(conn);
  CHECK(one(c, "select count(*) from dead_letters where consumer = 'projector:read:sandboxes'") == "1");
  CHECK(one(c, "select count(*) from read.sandboxes") == "2");
}

TEST_CASE_METHOD(WithHistory, "projector: one leader per model; a standby takes over when the leader is killed -9") {
  const auto log_dir = testing_support::make_temp_dir("sbx-projector");
  auto wait_for = [&](std::int64_t head) { return wait_for_models(conn, head); };

  testing_support::ChildProcess first({PROJECTOR_BIN, "run", "--db", conn}, "", log_dir + "/first.log");
  REQUIRE(wait_for(store.safe_head()->value()));
  testing_support::ChildProcess second({PROJECTOR_BIN, "run", "--db", conn}, "", log_dir + "/second.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  pqxx::connection c(conn);
  // One lock per model, each held once, though two projectors run.
  CHECK(one(c, "select count(*) from pg_locks where locktype = 'advisory' and granted and objid <> 7700001") ==
        std::to_string(projector::all_models().size()));

  sandbox_command(store, h.running, sandbox::Stop{});
  REQUIRE(wait_for(store.safe_head()->value()));
  first.stop(SIGKILL);
  sandbox_command(store, h.running, sandbox::Report{h.runner, sandbox::Reported::stopped});
  REQUIRE(wait_for(store.safe_head()->value()));  // the standby took over
  CHECK(one(c, "select state from read.sandboxes where id = '" + h.running.str() + "'") == "stopped");
  second.stop(SIGTERM);

  auto verified = projector::verify(conn, "read");  // nothing applied twice, nothing lost
  REQUIRE(verified);
  CHECK(verified->equal);
  testing_support::remove_tree(log_dir);
}

TEST_CASE_METHOD(WithHistory, "projector: replay --swap puts a rebuild in place while the live projector and commands go on") {
  const auto log_dir = testing_support::make_temp_dir("sbx-projector");
  testing_support::ChildProcess live({PROJECTOR_BIN, "run", "--db", conn}, "", log_dir + "/live.log");
  REQUIRE(wait_for_models(conn, store.safe_head()->value()));
  pqxx::connection c(conn);
  const auto schema_before = one(c, "select oid from pg_namespace where nspname = 'read'");
  {
    pqxx::nontransaction tx(c);  // a row the log does not say: the rebuild must not keep it
    tx.exec("update read.sandboxes set state = 'started' where id = '" + h.archived.str() + "'");
  }

  // Label commands keep coming before, during and after the swap (bounded: 3000 at most).
  std::atomic<bool> swapped_in{false};
  std::atomic<int> written{0};
  std::atomic<int> failed{0};
  std::atomic<int> after_swap{0};
  std::jthread writer([&] {
    PgEventStore own(conn);
    for (int i = 0; i < 3000 && after_swap < 20; ++i) {
      if (!try_sandbox_command(own, h.running, sandbox::ReplaceLabels{{{"n", std::to_string(i)}}})) {
        ++failed;
        continue;
      }
      written = i + 1;
      if (swapped_in) ++after_swap;
    }
  });
  while (written < 20 && failed == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto swapped = projector::rebuild_and_swap(conn, "read");
  swapped_in = true;
  writer.join();
  REQUIRE(swapped);
  CHECK(failed == 0);
  CHECK(swapped->replay.events > 0);

  // The live projector follows the new schema: it finds its checkpoints moved, and leads again.
  REQUIRE(wait_for_models(conn, store.safe_head()->value()));
  CHECK(one(c, "select oid from pg_namespace where nspname = 'read'") != schema_before);
  CHECK(one(c, "select count(*) from pg_namespace where nspname like 'read\\_%'") == "0");
  CHECK(one(c, "select state from read.sandboxes where id = '" + h.archived.str() + "'") == "archived");
  CHECK(one(c, "select labels->>'n' from read.sandboxes where id = '" + h.running.str() + "'") ==
        std::to_string(written - 1));
  CHECK(one(c, "select count(*) from read.audit_log") == one(c, "select count(*) from events"));
  CHECK(one(c, "select count(*) from dead_letters") == "0");
  auto verified = projector::verify(conn, "read");  // nothing applied twice, nothing lost
  REQUIRE(verified);
  CHECK(verified->equal);
  live.stop(SIGTERM);
  testing_support::remove_tree(log_dir);
}

TEST_CASE_METHOD(WithHistory, "projector: replay --swap refuses a live schema holding a table no model makes") {
  project_all(conn);
  pqxx::connection c(conn);
  {
    pqxx::nontransaction tx(c);
    tx.exec("create table read.notes (note text)");
    tx.exec("insert into read.notes values ('kept')");
  }
  const auto schema_before = one(c, "select oid from pg_namespace where nspname = 'read'");
  auto swapped = projector::rebuild_and_swap(conn, "read");
  REQUIRE_FALSE(swapped);
  CHECK(swapped.error().code == ErrorCode::invalid_argument);
  CHECK_THAT(swapped.error().message, Catch::Contains("notes"));
  CHECK(one(c, "select oid from pg_namespace where nspname = 'read'") == schema_before);
  CHECK(one(c, "select note from read.notes") == "kept");
  CHECK(one(c, "select count(*) from pg_namespace where nspname like 'read\\_%'") == "0");
  auto missing = projector::rebuild_and_swap(conn, "nowhere");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::not_found);
}
