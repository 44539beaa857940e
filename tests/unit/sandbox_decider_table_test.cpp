// Every (state, command) pair of the sandbox decider, as a table.
//
// Columns are the states reached along the usual path on runner 1 (see sandbox_fixtures.hpp):
//   C creating  P pending_build  B building_snapshot  U pulling_snapshot  S starting  R started
//   T stopping  O stopped  E restoring  V archiving  A archived  D destroying  X destroyed
//   F error  Q build_failed
// A cell is the outcome: an upper-case letter = accepted, and the actual state it leads to;
// '0' = accepted as already so (no events); lower case = rejected with
//   a already_exists  i invalid_transition  n not_found  w wrong_runner  d duplicate_report
//   l late_report
#include "support/sandbox_fixtures.hpp"

#include "support/catch.hpp"

#include <array>

using namespace fixtures;
using S = SandboxState;

namespace {

constexpr std::array<S, 15> kColumns = {
    S::creating, S::pending_build, S::building_snapshot, S::pulling_snapshot, S::starting,
    S::started,  S::stopping,      S::stopped,           S::restoring,       S::archiving,
    S::archived, S::destroying,    S::destroyed,         S::error,           S::build_failed};

char letter_of(S s) {
  for (std::size_t i = 0; i < kColumns.size(); ++i) {
    if (kColumns[i] == s) return std::string_view("CPBUSRTOEVADXFQ")[i];
  }
  return '?';
}

char letter_of(ErrorCode c) {
  switch (c) {
    case ErrorCode::already_exists: return 'a';
    case ErrorCode::invalid_transition: return 'i';
    case ErrorCode::not_found: return 'n';
    case ErrorCode::wrong_runner: return 'w';
    case ErrorCode::duplicate_report: return 'd';
    case ErrorCode::late_report: return 'l';
    default: return '?';
  }
}

struct Row {
  const char* name;
  Command command;
  std::string_view outcomes;
};

Resources bigger() { return Resources{2, 0, 2, 5}; }

}  // namespace

TEST_CASE("sandbox decider: every (state, command) pair") {
  const std::vector<Row> rows = {
      {"create", Create{spec()}, "aaaaaaaaaaaaaaa"},
      {"start", Start{}, "000000iO0iAinFi"},
      {"stop", Stop{}, "iiiiiR00iiiinii"},
      {"archive", Archive{}, "iiiiiiiOi00inii"},
      {"destroy", Destroy{}, "CPBUSRTOEVX0nFQ"},
      {"replace labels", ReplaceLabels{{{"team", "a"}}}, "CPBUSRTOEVADnFQ"},
      {"set timer", SetTimer{LifecycleTimer::auto_stop, 30}, "CPBUSRTOEVADnFQ"},
      {"record activity", RecordActivity{1000}, "CPBUSRTOEVADnFQ"},
      {"resize", Resize{bigger()}, "iiiiiRiOiiiinii"},
      {"assign runner", AssignRunner{kRunner2}, "iiiiiiiiiiiinii"},
      {"fail scheduling", FailScheduling{"no runner"}, "iiiiiiiiiiiinii"},
      {"report pulling", Report{kRunner1, Reported::pulling_snapshot}, "Ulldllllllwllll"},
      {"report building", Report{kRunner1, Reported::building_snapshot}, "lBdlllllllwllll"},
      // An error stops the sandbox (desired: stopped): a runner may not bring it back on its own.
      {"report starting", Report{kRunner1, Reported::starting}, "SlSSdlllSlwllll"},
      {"report started", Report{kRunner1, Reported::started}, "RlRRRdllRlwllll"},
      {"report stopping", Report{kRunner1, Reported::stopping}, "lllllldlllwllll"},
      {"report stopped", Report{kRunner1, Reported::stopped}, "llllllOdllwllll"},
      {"report archiving", Report{kRunner1, Reported::archiving}, "llllllllldwllll"},
      {"report archived", Report{kRunner1, Reported::archived, "a.tar"}, "lllllllllAwllll"},
      {"report restoring", Report{kRunner1, Reported::restoring}, "lllllllldlwllll"},
      {"report destroying", Report{kRunner1, Reported::destroying}, "llllllllllwdlll"},
      {"report destroyed", Report{kRunner1, Reported::destroyed}, "llllllllllwXlll"},
      {"report started, wrong runner", Report{kRunner2, Reported::started}, "wwwwwwwwwwwwlww"},
      {"report error", ReportError{kRunner1, "disk failed"}, "FFFFFFFFFFwFlFF"},
      {"report build failed", ReportBuildFailed{kRunner1, "bad"}, "lQQlllllllwllld"},
      {"report oom kill", ReportOomKilled{kRunner1, 256 << 20, "python3"}, "lllllRllllwllll"},
  };

  int pairs = 0;
  for (const auto& row : rows) {
    REQUIRE(row.outcomes.size() == kColumns.size());
    for (std::size_t i = 0; i < kColumns.size(); ++i) {
      const auto history = history_to(kColumns[i]);
      const State before = replay(history);
      REQUIRE(before.actual == kColumns[i]);
      const auto decided = decide(row.command, before);
      char got = '?';
      if (!decided) {
        got = letter_of(decided.error().code);
        CHECK_FALSE(decided.error().message.empty());
      } else if (decided->empty()) {
        got = '0';
      } else {
        got = letter_of(replay_onto(before, *decided).actual);
      }
      INFO(row.name << " in state " << to_string(kColumns[i]));
      CHECK(got == row.outcomes[i]);
      ++pairs;
    }
  }
  CHECK(pairs == 26 * 15);
}

TEST_CASE("sandbox decider: create on a new stream") {
  const auto decided = decide(Create{spec()}, State{});
  REQUIRE(decided);
  const auto s = replay(*decided);
  CHECK(s.actual == S::creating);
  CHECK(s.desired == DesiredState::started);
  CHECK_FALSE(s.runner.has_value());
  CHECK(replay(*decide(Create{spec(true)}, State{})).actual == S::pending_build);
  for (const Command& c : std::vector<Command>{Start{}, Stop{}, Destroy{},
                                               Report{kRunner1, Reported::started}}) {
    const auto r = decide(c, State{});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::not_found);
  }
}

TEST_CASE("sandbox decider: bad create input names the field") {
  auto c = spec();
  c.resources.cpu = 0;
  auto r = decide(Create{c}, State{});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::invalid_argument);
  CHECK_THAT(r.error().message, Catch::Contains("cpu"));

  c = spec();
  c.env = {{"1BAD", "x"}};
  r = decide(Create{c}, State{});
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("1BAD"));

  c = spec();
  c.auto_delete_minutes = -2;
  r = decide(Create{c}, State{});
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("auto_delete"));

  c = spec();
  c.volumes = {{VolumeId{"55555555-5555-5555-5555-555555555555"}, "relative/path", ""}};
  r = decide(Create{c}, State{});
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("mountPath"));
}

TEST_CASE("sandbox decider: scheduling paths") {
  State unassigned = replay({spec()});
  SECTION("a runner can be assigned once") {
    auto r = decide(AssignRunner{kRunner1}, unassigned);
    REQUIRE(r);
    auto s = replay_onto(unassigned, *r);
    CHECK(s.runner == kRunner1);
    auto again = decide(AssignRunner{kRunner2}, s);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::invalid_transition);
  }
  SECTION("no runner: error with the reason, and start retries scheduling") {
    auto r = decide(FailScheduling{"no runner with capacity in region local"}, unassigned);
    REQUIRE(r);
    auto s = replay_onto(unassigned, *r);
    CHECK(s.actual == S::error);
    CHECK(s.error_reason == "no runner with capacity in region local");
    CHECK(decide(Start{}, s)->empty() == false);
    CHECK(decide(AssignRunner{kRunner1}, s).has_value());
  }
  SECTION("destroy of a sandbox on no runner finishes at once") {
    auto r = decide(Destroy{}, unassigned);
    REQUIRE(r);
    CHECK(r->size() == 2);
    CHECK(replay_onto(unassigned, *r).actual == S::destroyed);
  }
  SECTION("an archived sandbox is restored on a newly assigned runner") {
    State archived = replay(history_to(S::archived));
    CHECK_FALSE(archived.runner.has_value());
    auto started = replay_onto(archived, *decide(Start{}, archived));
    CHECK(started.desired == DesiredState::started);
    auto assigned = replay_onto(started, *decide(AssignRunner{kRunner2}, started));
    auto restoring = decide(Report{kRunner2, Reported::restoring}, assigned);
    REQUIRE(restoring);
    CHECK(replay_onto(assigned, *restoring).actual == S::restoring);
  }
}

TEST_CASE("sandbox decider: desired state follows user commands") {
  State started = replay(history_to(S::started));
  auto stop = decide(Stop{true, "user"}, started);
  REQUIRE(stop);
  const auto& requested = std::get<SandboxStopRequested>(stop->front());
  CHECK(requested.force);
  CHECK(replay_onto(started, *stop).desired == DesiredState::stopped);

  State errored = replay(history_to(S::error));
  CHECK(replay_onto(errored, *decide(Start{}, errored)).desired == DesiredState::started);
  auto unrecoverable = replay_onto(started, Events{SandboxErrored{kRunner1, "disk gone", false}});
  auto start = decide(Start{}, unrecoverable);
  REQUIRE_FALSE(start);
  CHECK_THAT(start.error().message, Catch::Contains("disk gone"));
}

TEST_CASE("sandbox decider: an OOM kill keeps the sandbox started and says why") {
  State started = replay(history_to(S::started));
  auto r = decide(ReportOomKilled{kRunner1, 256LL << 20, "python3"}, started);
  REQUIRE(r);
  const auto& oom = std::get<SandboxOomKilled>(r->front());
  CHECK_THAT(oom.reason, Catch::Contains("256 MiB"));
  CHECK_THAT(oom.reason, Catch::Contains("python3"));
  auto after = replay_onto(started, *r);
  CHECK(after.actual == S::started);
  CHECK(after.oom_kills == 1);
}
