// A reader that follows global positions never skips an event: appends commit in position order
// (infra/schema/0002_group_commit.sql), so no event can commit late with a lower position.
#include "events/catalogue.hpp"
#include "events/store/pg_event_store.hpp"
#include "support/catch.hpp"
#include "support/sandbox_fixtures.hpp"
#include "support/servers.hpp"

#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>

using namespace events;
using testing_support::shared_postgres;

namespace {

std::string one_event_batch() {
  const auto e = encode(SandboxEvent{fixtures::spec()});
  return R"([{"type":")" + e.type + R"(","schema_version":2,"data":)" + e.data + R"(,"metadata":{}}])";
}

// Appends inside an explicit transaction that the caller commits (or not) later.
std::int64_t append_in(pqxx::work& tx) {
  const auto stream = StreamName::of("sandbox", SandboxId::generate()).str();
  const auto r = tx.exec_params("select first_position from append_events($1, -1, $2::jsonb, '', null, '')",
                                stream, one_event_batch());
  return r[0][0].as<std::int64_t>();
}

std::vector<std::int64_t> positions_in_log(const std::string& conn) {
  pqxx::connection c(conn);
  pqxx::nontransaction tx(c);
  std::vector<std::int64_t> out;
  for (const auto& row : tx.exec("select position from events order by position")) {
    out.push_back(row[0].as<std::int64_t>());
  }
  return out;
}

}  // namespace

TEST_CASE("gap safety: appends commit in position order: one waits for an open one, and a reader sees neither before") {
  const auto conn = shared_postgres().create_database();
  pqxx::connection slow_conn(conn);
  pqxx::work slow(slow_conn);
  const auto low = append_in(slow);  // drawn first, still open

  // The hazard it prevents: an append that drew a higher position and committed first would be
  // seen alone, and a reader would move past the lower one for good. Instead it waits.
  std::atomic<bool> appended{false};
  Result<AppendResult> high = make_error(ErrorCode::unavailable, "not yet");
  std::thread fast([&] {
    PgEventStore store(conn);
    const std::vector<NewEvent> one = {NewEvent{encode(SandboxEvent{fixtures::spec()}), {}}};
    high = store.append(StreamName::of("sandbox", SandboxId::generate()), ExpectedVersion::no_stream(), one);
    appended = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(appended.load());  // waiting for the open append
  PgEventStore reader(conn);
  auto before = reader.read_all(GlobalPosition{0}, 100);
  REQUIRE(before);
  CHECK(before->empty());
  CHECK(reader.safe_head()->value() == 0);

  slow.commit();
  fast.join();
  REQUIRE(high);
  CHECK(high->first.value() > low);
  auto seen = reader.read_all(GlobalPosition{0}, 100);
  REQUIRE(seen);
  REQUIRE(seen->size() == 2);
  CHECK((*seen)[0].position.value() == low);
  CHECK((*seen)[1].position.value() == high->first.value());
}

TEST_CASE("gap safety: 8 appenders with delayed commits and rollbacks, a following reader sees every event once, in order") {
  const auto conn = shared_postgres().create_database();
  constexpr int kAppenders = 8;
  constexpr int kPerAppender = 60;
  std::atomic<int> running{kAppenders};
  std::vector<std::thread> appenders;
  for (int a = 0; a < kAppenders; ++a) {
    appenders.emplace_back([&, a] {
      std::mt19937 rng(1000 + a);
      pqxx::connection c(conn);
      for (int i = 0; i < kPerAppender; ++i) {
        pqxx::work tx(c);
        append_in(tx);
        // Hold the transaction open a while after drawing the position.
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 4000));
        if (rng() % 10 == 0) {
          tx.abort();  // leaves a permanent hole in the positions
        } else {
          tx.commit();
        }
      }
      --running;
    });
  }

  PgEventStore store(conn);
  std::vector<std::int64_t> seen;
  GlobalPosition after{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    const bool finished = running.load() == 0;
    auto batch = store.read_all(after, 7);  // small batches: many reads while appends go on
    REQUIRE(batch);
    for (const auto& e : *batch) seen.push_back(e.position.value());
    if (!batch->empty()) after = batch->back().position;
    if (batch->empty() && finished) break;
    if (batch->empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& t : appenders) t.join();

  const auto log = positions_in_log(conn);
  CHECK(log.size() > kAppenders * kPerAppender * 8 / 10);
  CHECK(log.size() < kAppenders * kPerAppender);  // some rolled back: there are holes
  REQUIRE(seen.size() == log.size());
  CHECK(seen == log);  // every committed event, each once, in position order
}
