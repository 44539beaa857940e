// Group commit (events/store/group_commit.hpp) against a real PostgreSQL: appends from many
// threads share a transaction, and each still gets the answer it would get alone.
#include "events/catalogue.hpp"
#include "events/store/pg_event_store.hpp"
#include "support/catch.hpp"
#include "support/sandbox_fixtures.hpp"
#include "support/servers.hpp"

#include <pqxx/pqxx>

#include <thread>

using namespace events;
using testing_support::shared_postgres;

namespace {

std::vector<NewEvent> one_event() { return {NewEvent{encode(SandboxEvent{fixtures::spec()}), Metadata{}}}; }

StreamName new_sandbox_stream() { return StreamName::of("sandbox", SandboxId::generate()); }

GroupedAppend request(const StreamName& stream, ExpectedVersion expected, AppendOptions options = {}) {
  return GroupedAppend{stream, expected, events_json(one_event()), std::move(options)};
}

// Holds the append lock (an append in an open transaction) until released: appends that come
// meanwhile wait, and the group commit gathers them.
class HeldAppend {
 public:
  explicit HeldAppend(const std::string& conn) : conn_(conn), tx_(conn_) {
    tx_.exec("select pg_advisory_xact_lock(7700001)");
  }
  void release() { tx_.commit(); }

 private:
  pqxx::connection conn_;
  pqxx::work tx_;
};

long count_events(const std::string& conn) {
  pqxx::connection c(conn);
  return pqxx::nontransaction(c).exec("select count(*) from events")[0][0].as<long>();
}

// Sends requests[0] (which leads and waits on `held`), then the others in order while it waits,
// releases `held`, and returns every answer.
std::vector<std::optional<Result<AppendResult>>> send_while_held(GroupCommit& group, HeldAppend& held,
                                                                 const std::vector<GroupedAppend>& requests) {
  std::vector<std::optional<Result<AppendResult>>> answers(requests.size());
  std::vector<std::thread> threads;
  threads.emplace_back([&] { answers[0] = group.append(requests[0]); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the leader is in PostgreSQL
  for (std::size_t i = 1; i < requests.size(); ++i) {
    threads.emplace_back([&, i] { answers[i] = group.append(requests[i]); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // queued in this order
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  held.release();
  for (auto& t : threads) t.join();
  return answers;
}

}  // namespace

TEST_CASE("group commit: appends waiting together go in one transaction, each with its own answer") {
  const auto conn = shared_postgres().create_database();
  PgEventStore setup(conn);
  const auto taken = new_sandbox_stream();  // exists: a create of it conflicts
  REQUIRE(setup.append(taken, ExpectedVersion::no_stream(), one_event()));
  REQUIRE(setup.append(new_sandbox_stream(), ExpectedVersion::no_stream(), one_event(),
                       AppendOptions{"", "org/1/key-a", "hash-a"}));

  GroupCommit group(conn);
  int hooks = 0;
  group.on_append([&] { ++hooks; });
  HeldAppend held(conn);
  const auto before = GroupCommit::counts();

  // The first append leads and waits on the lock; the seven after it queue behind it.
  std::vector<StreamName> fresh;
  for (int i = 0; i < 5; ++i) fresh.push_back(new_sandbox_stream());
  std::vector<GroupedAppend> requests = {
      request(fresh[0], ExpectedVersion::no_stream()),
      request(fresh[1], ExpectedVersion::no_stream()),
      request(taken, ExpectedVersion::no_stream()),                                               // conflict
      request(new_sandbox_stream(), ExpectedVersion::no_stream(), {"", "org/1/key-a", "hash-b"}),  // other request
      request(new_sandbox_stream(), ExpectedVersion::no_stream(), {"", "org/1/key-a", "hash-a"}),  // seen: duplicate
      request(fresh[2], ExpectedVersion::no_stream(), {"runner-1", "org/1/key-c", "hash-c"}),
      request(fresh[2], ExpectedVersion::no_stream()),  // the one before it in the group created it
      request(fresh[3], ExpectedVersion::any()),
  };
  const auto answers = send_while_held(group, held, requests);

  const auto after = GroupCommit::counts();
  CHECK(after.groups - before.groups == 2);  // the leader alone, then the seven together
  CHECK(after.appends - before.appends == 8);
  CHECK(hooks == 2);

  for (std::size_t i : {0, 1, 5, 7}) {
    REQUIRE(answers[i]);
    REQUIRE(*answers[i]);
    CHECK_FALSE((*answers[i])->duplicate);
    CHECK((*answers[i])->version.value() == 0);
  }
  REQUIRE_FALSE(*answers[2]);
  CHECK(answers[2]->error().code == ErrorCode::version_conflict);
  REQUIRE_FALSE(*answers[3]);
  CHECK(answers[3]->error().code == ErrorCode::idempotency_conflict);
  REQUIRE(*answers[4]);
  CHECK((*answers[4])->duplicate);
  REQUIRE_FALSE(*answers[6]);
  CHECK(answers[6]->error().code == ErrorCode::version_conflict);
  // Positions follow the order of the group.
  CHECK((*answers[1])->first.value() < (*answers[5])->first.value());
  CHECK((*answers[5])->first.value() < (*answers[7])->first.value());
  CHECK(count_events(conn) == 2 + 4);

  auto routed = setup.read_stream(fresh[2]);
  REQUIRE(routed);
  REQUIRE(routed->size() == 1);
  CHECK(routed->front().routing_key == "runner-1");
}

TEST_CASE("group commit: a group PostgreSQL refuses as a whole is sent again append by append") {
  const auto conn = shared_postgres().create_database();
  GroupCommit group(conn);
  HeldAppend held(conn);
  const auto before = GroupCommit::counts();
  std::vector<GroupedAppend> requests = {request(new_sandbox_stream(), ExpectedVersion::no_stream()),
                                         request(new_sandbox_stream(), ExpectedVersion::no_stream()),
                                         request(new_sandbox_stream(), ExpectedVersion::no_stream()),
                                         request(new_sandbox_stream(), ExpectedVersion::no_stream())};
  requests[2].events_json = R"([{"type":"SandboxCreated","schema_version":"two","data":{},"metadata":{}}])";
  const auto answers = send_while_held(group, held, requests);

  CHECK(GroupCommit::counts().groups - before.groups == 2);
  for (std::size_t i : {0, 1, 3}) {
    REQUIRE(*answers[i]);
    CHECK((*answers[i])->version.value() == 0);
  }
  REQUIRE_FALSE(*answers[2]);
  CHECK(answers[2]->error().code == ErrorCode::invalid_argument);
  CHECK(count_events(conn) == 3);
}

TEST_CASE("group commit: sixteen threads, every append answered once and in the log once") {
  const auto conn = shared_postgres().create_database();
  GroupCommit group(conn);
  constexpr int kThreads = 16;
  constexpr int kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  std::atomic<int> conflicts{0};
  const auto shared = new_sandbox_stream();  // every thread also races to create this one
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto r = group.append(request(i == kEach / 2 ? shared : new_sandbox_stream(), ExpectedVersion::no_stream()));
        if (r) ++ok;
        else if (r.error().code == ErrorCode::version_conflict) ++conflicts;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok.load() == kThreads * (kEach - 1) + 1);
  CHECK(conflicts.load() == kThreads - 1);
  CHECK(count_events(conn) == ok.load());
}

TEST_CASE("group commit: a group of distinct streams is checked and written in one statement") {
  const auto conn = shared_postgres().create_database();
  PgEventStore setup(conn);
  const auto taken = new_sandbox_stream();
  const auto existing = new_sandbox_stream();
  REQUIRE(setup.append(taken, ExpectedVersion::no_stream(), one_event()));
  REQUIRE(setup.append(existing, ExpectedVersion::no_stream(), one_event()));

  GroupCommit group(conn);
  HeldAppend held(conn);
  const auto fresh = new_sandbox_stream();
  const auto any = new_sandbox_stream();
  std::vector<NewEvent> three;
  for (int i = 0; i < 3; ++i) {
    three.push_back(NewEvent{encode(SandboxEvent{SandboxLabelsReplaced{StringMap{{"n", std::to_string(i)}}}}), Metadata{}});
  }
  std::vector<GroupedAppend> requests = {
      request(new_sandbox_stream(), ExpectedVersion::no_stream()),  // leads alone
      GroupedAppend{fresh, ExpectedVersion::no_stream(), events_json(three), AppendOptions{"runner-2"}},
      request(taken, ExpectedVersion::no_stream()),                         // exists: conflict
      request(existing, ExpectedVersion::exactly(StreamVersion{0})),        // fits
      request(any, ExpectedVersion::any()),
      request(new_sandbox_stream(), ExpectedVersion::exactly(StreamVersion{4})),  // no such version
  };
  const auto answers = send_while_held(group, held, requests);

  REQUIRE(*answers[1]);
  CHECK((*answers[1])->version.value() == 2);
  CHECK((*answers[1])->last.value() - (*answers[1])->first.value() == 2);
  REQUIRE_FALSE(*answers[2]);
  CHECK(answers[2]->error().code == ErrorCode::version_conflict);
  CHECK_THAT(answers[2]->error().message, Catch::Contains("is at version 0, expected -1"));
  REQUIRE(*answers[3]);
  CHECK((*answers[3])->version.value() == 1);
  REQUIRE(*answers[4]);
  CHECK((*answers[4])->version.value() == 0);
  REQUIRE_FALSE(*answers[5]);
  CHECK(answers[5]->error().code == ErrorCode::version_conflict);
  CHECK((*answers[1])->last.value() < (*answers[3])->first.value());  // the group's order
  CHECK((*answers[3])->first.value() < (*answers[4])->first.value());
  CHECK(count_events(conn) == 2 + 1 + 3 + 1 + 1);

  auto stream = setup.read_stream(fresh);
  REQUIRE(stream);
  REQUIRE(stream->size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK((*stream)[i].version.value() == static_cast<std::int64_t>(i));
    CHECK((*stream)[i].routing_key == "runner-2");
    CHECK_THAT((*stream)[i].data, Catch::Contains("\"n\": \"" + std::to_string(i) + "\""));
    if (i > 0) CHECK((*stream)[i].position.value() == (*stream)[i - 1].position.value() + 1);
  }
}

TEST_CASE("group commit: appends that commit together join a group as a unit, all or none") {
  const auto conn = shared_postgres().create_database();
  PgEventStore setup(conn);
  const auto taken = new_sandbox_stream();  // exists: a create of it conflicts
  REQUIRE(setup.append(taken, ExpectedVersion::no_stream(), one_event()));

  GroupCommit group(conn);
  HeldAppend held(conn);
  const auto before = GroupCommit::counts();
  const auto single_a = new_sandbox_stream();
  const auto single_b = new_sandbox_stream();
  const auto claim_ok = new_sandbox_stream();
  const auto sandbox_ok = new_sandbox_stream();
  const auto claim_refused = new_sandbox_stream();  // its unit's second append conflicts
  const auto claim_idem = new_sandbox_stream();
  const auto sandbox_idem = new_sandbox_stream();

  // The leader waits on the lock; a single, two units and a single queue behind it.
  std::optional<Result<AppendResult>> lead, after_units;
  std::optional<Result<std::vector<AppendResult>>> unit_ok, unit_refused, unit_idem;
  std::vector<std::thread> threads;
  threads.emplace_back([&] { lead = group.append(request(single_a, ExpectedVersion::no_stream())); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  threads.emplace_back([&] {
    unit_ok = group.append_together({request(claim_ok, ExpectedVersion::no_stream()),
                                     request(sandbox_ok, ExpectedVersion::no_stream(), {"runner-1", std::nullopt, ""})});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  threads.emplace_back([&] {
    unit_refused = group.append_together({request(claim_refused, ExpectedVersion::no_stream()),
                                          request(taken, ExpectedVersion::no_stream())});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  threads.emplace_back([&] {
    unit_idem = group.append_together({request(claim_idem, ExpectedVersion::no_stream()),
                                       request(sandbox_idem, ExpectedVersion::no_stream(), {"", "org/1/key-u", "hash-u"})});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  threads.emplace_back([&] { after_units = group.append(request(single_b, ExpectedVersion::no_stream())); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  held.release();
  for (auto& t : threads) t.join();

  const auto after = GroupCommit::counts();
  CHECK(after.groups - before.groups == 2);  // the leader alone, then the others together
  REQUIRE(lead);
  CHECK(*lead);
  REQUIRE(after_units);
  REQUIRE(*after_units);
  // The unit that fits: both appends, in order, the second with its routing key.
  REQUIRE(unit_ok);
  REQUIRE(*unit_ok);
  REQUIRE((*unit_ok)->size() == 2);
  CHECK((*unit_ok)->at(0).first.value() < (*unit_ok)->at(1).first.value());
  auto routed = setup.read_stream(sandbox_ok);
  REQUIRE(routed);
  REQUIRE(routed->size() == 1);
  CHECK(routed->front().routing_key == "runner-1");
  // The refused unit: its conflict is the answer, and its first append wrote nothing.
  REQUIRE(unit_refused);
  REQUIRE_FALSE(*unit_refused);
  CHECK(unit_refused->error().code == ErrorCode::version_conflict);
  CHECK(setup.read_stream(claim_refused)->empty());
  // The groups around it still committed: the single after the units comes after them.
  CHECK((*unit_ok)->at(1).first.value() < (*after_units)->first.value());
  // A unit with an idempotency key: written; the same unit again answers as a duplicate for the
  // keyed append, and the other append conflicts, so the unit is refused and writes nothing.
  REQUIRE(unit_idem);
  REQUIRE(*unit_idem);
  CHECK_FALSE((*unit_idem)->at(1).duplicate);
  auto again = group.append_together({request(claim_idem, ExpectedVersion::no_stream()),
                                      request(sandbox_idem, ExpectedVersion::no_stream(), {"", "org/1/key-u", "hash-u"})});
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::version_conflict);
  CHECK(setup.read_stream(claim_idem)->size() == 1);
  CHECK(setup.read_stream(sandbox_idem)->size() == 1);
  CHECK(count_events(conn) == 1 + 2 + 2 + 2);

  // Through a store: append_together goes through the store's group.
  PgEventStore grouped(conn);
  grouped.group_appends(&group);
  const auto x = new_sandbox_stream();
  const auto y = new_sandbox_stream();
  const StreamAppend both[] = {{x, ExpectedVersion::no_stream(), one_event()}, {y, ExpectedVersion::no_stream(), one_event()}};
  const auto groups_before = GroupCommit::counts().groups;
  auto written = grouped.append_together(both);
  REQUIRE(written);
  CHECK(written->size() == 2);
  CHECK(GroupCommit::counts().groups == groups_before + 1);
  const StreamAppend clash[] = {{new_sandbox_stream(), ExpectedVersion::no_stream(), one_event()},
                                {x, ExpectedVersion::no_stream(), one_event()}};
  auto refused = grouped.append_together(clash);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::version_conflict);
  CHECK(count_events(conn) == 1 + 2 + 2 + 2 + 2);
}
