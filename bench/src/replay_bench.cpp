// bench/replay: rebuilding every read model from a log of BENCH_REPLAY_EVENTS (1,000,000) events,
// beside a plain COPY of the same log out of PostgreSQL, in the same run.
// The log is written through the real append path (append_events, the decider's events): an
// organization with a key, a few runners, and sandboxes that each live a short life (created,
// placed, started, labelled, active, resized, stopped, started again, ...).
#include "events/api_keys.hpp"
#include "events/catalogue.hpp"
#include "events/deciders/organization.hpp"
#include "events/deciders/runner.hpp"
#include "events/deciders/sandbox.hpp"
#include "events/store/pg_event_store.hpp"
#include "projector/replay.hpp"
#include "profile.hpp"
#include "statements.hpp"
#include "stats.hpp"
#include "support/servers.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <thread>

using namespace events;
using bench::Clock;

namespace {

const OrganizationId kOrg{"44444444-4444-4444-4444-444444444444"};

Metadata meta(const std::string& actor) { return Metadata{new_uuid(), new_uuid(), "", actor, kOrg.str(), ""}; }

template <class Variant>
std::vector<NewEvent> encoded(const std::vector<Variant>& events, const std::string& actor) {
  std::vector<NewEvent> out;
  for (const auto& e : events) out.push_back(NewEvent{encode(e), meta(actor)});
  return out;
}

// One sandbox's life: the decider's events for a run of commands, `per_sandbox` of them.
std::vector<SandboxEvent> life(const SandboxId& id, const RunnerId& runner, std::size_t per_sandbox) {
  SandboxCreated spec;
  spec.sandbox_id = id;
  spec.organization_id = kOrg;
  spec.name = "box-" + id.str().substr(0, 8);
  spec.snapshot = "default";
  spec.user = "daytona";
  spec.region = "local";
  spec.labels = {{"code-toolbox-language", "python"}};
  sandbox::State s;
  std::vector<SandboxEvent> out;
  auto run = [&](const sandbox::Command& c) {
    auto events = sandbox::decide(c, s);
    if (!events) return;
    for (const auto& e : *events) {
      s = sandbox::evolve(std::move(s), e);
      out.push_back(e);
    }
  };
  using R = sandbox::Reported;
  run(sandbox::Create{spec});
  run(sandbox::AssignRunner{runner});
  run(sandbox::Report{runner, R::starting});
  run(sandbox::Report{runner, R::started});
  for (std::int64_t i = 0; out.size() < per_sandbox; ++i) {
    switch (i % 8) {
      case 0: run(sandbox::ReplaceLabels{{{"step", std::to_string(i)}}}); break;
      case 1: run(sandbox::RecordActivity{1764600000000 + i * 1000}); break;
      case 2: run(sandbox::SetTimer{LifecycleTimer::auto_stop, static_cast<int>(10 + i % 50)}); break;
      case 3: run(sandbox::RecordActivity{1764600000000 + i * 1000 + 1}); break;
      case 4: run(sandbox::Stop{}); run(sandbox::Report{runner, R::stopping}); break;
      case 5: run(sandbox::Report{runner, R::stopped}); break;
      case 6: run(sandbox::Start{}); run(sandbox::Report{runner, R::starting}); break;
      case 7: run(sandbox::Report{runner, R::started}); break;
    }
  }
  out.resize(per_sandbox);
  return out;
}

void write_log(PgEventStore& store, std::size_t total) {
  {
    organization::State s;
    auto a = organization::decide(organization::Create{kOrg, "bench"}, s);
    s = organization::evolve(s, a->front());
    auto b = organization::decide(
        organization::CreateApiKey{ApiKeyId::generate(), "bench", sha256_hex("dtn_bench"), "dtn_bench"}, s);
    a->insert(a->end(), b->begin(), b->end());
    if (!store.append(StreamName::of("organization", kOrg), ExpectedVersion::no_stream(), encoded(*a, "admin"))) {
      throw std::runtime_error("cannot write the organization");
    }
  }
  std::vector<RunnerId> runners;
  for (int i = 0; i < 4; ++i) {
    const auto id = RunnerId::generate();
    runners.push_back(id);
    std::vector<RunnerEvent> reg{RunnerRegistered{id, "local", "127.0.0.1:" + std::to_string(7000 + i), {8, 32, 500, 100}}};
    if (!store.append(StreamName::of("runner", id), ExpectedVersion::no_stream(), encoded(reg, "runner"))) {
      throw std::runtime_error("cannot register a runner");
    }
  }
  constexpr std::size_t kPerSandbox = 50;
  constexpr std::size_t kSandboxesPerAppend = 20;  // appended together: one transaction, 1000 events
  std::size_t written = 0;
  std::size_t n = 0;
  const auto t0 = Clock::now();
  while (written < total) {
    std::vector<StreamAppend> appends;
    for (std::size_t k = 0; k < kSandboxesPerAppend && written < total; ++k, ++n) {
      const auto id = SandboxId::generate();
      auto events = life(id, runners[n % runners.size()], std::min(kPerSandbox, total - written));
      written += events.size();
      appends.push_back(StreamAppend{StreamName::of("sandbox", id), ExpectedVersion::no_stream(), encoded(events, "alice"), {}});
    }
    if (auto r = store.append_together(appends); !r) throw std::runtime_error("append: " + r.error().message);
    if (n % 2000 == 0) std::fprintf(stderr, "  %zu events written (%.0f /s)\n", written, written / bench::seconds_since(t0));
  }
}

// The reference: every column of the log out of PostgreSQL with COPY, as the replay reads it.
double copy_rate(const std::string& conn, std::int64_t events) {
  pqxx::connection c(conn);
  pqxx::work tx(c);
  const auto t0 = Clock::now();
  pqxx::stream_from copy(tx, "events", std::vector<std::string>{"position", "stream", "version", "type", "schema_version",
                                                                "data", "metadata", "routing_key", "recorded_at"});
  std::string line;
  std::int64_t rows = 0;
  while (copy.get_raw_line(line)) ++rows;
  copy.complete();
  const double s = bench::seconds_since(t0);
  if (rows != events) throw std::runtime_error("COPY read " + std::to_string(rows) + " rows of " + std::to_string(events));
  return static_cast<double>(rows) / s;
}

}  // namespace

int main() {
  spdlog::set_level(spdlog::level::warn);
  const char* env = std::getenv("BENCH_REPLAY_EVENTS");
  const std::size_t total = env != nullptr ? std::strtoull(env, nullptr, 10) : 1000000;
  testing_support::PostgresServer pg(/*durable=*/true);
  const auto conn = pg.create_database();
  PgEventStore store(conn);
  std::fprintf(stderr, "bench/replay: writing %zu events through the append path...\n", total);
  write_log(store, total);
  const auto head = store.safe_head().value().value();
  {
    pqxx::connection c(conn);
    pqxx::nontransaction tx(c);
    tx.exec("vacuum analyze events");
    if (bench::statements_wanted()) bench::start_statements(tx);
  }
  std::vector<double> ours, reference;
  for (int round = 0; round < 3; ++round) {
    reference.push_back(copy_rate(conn, head));
    const std::string schema = "replay_bench_" + std::to_string(round);
    auto r = [&] {
      bench::Profiled profiled;  // BENCH_PROFILE=1: the replays only
      return projector::replay_into(conn, schema, head);
    }();
    if (!r) {
      std::fprintf(stderr, "bench/replay: %s\n", r.error().message.c_str());
      return 1;
    }
    if (r->events != head) {
      std::fprintf(stderr, "bench/replay: replayed %lld events of %lld\n", static_cast<long long>(r->events),
                   static_cast<long long>(head));
      return 1;
    }
    ours.push_back(static_cast<double>(r->events) / r->seconds);
    std::fprintf(stderr, "  round %d: replay %.0f events/s, COPY %.0f rows/s\n", round + 1, ours.back(), reference.back());
    pqxx::connection c(conn);
    pqxx::nontransaction(c).exec("drop schema " + schema + " cascade");
  }
  if (bench::statements_wanted()) bench::print_statements(conn, "the three rounds", 20);
  const double o = bench::percentile(ours, 50), ref = bench::percentile(reference, 50);
  char figure[160];
  std::snprintf(figure, sizeof figure,
                "replay: events/s rebuilt into every read model (%lld events, median of 3; min-max)",
                static_cast<long long>(head));
  const auto range = [](const std::vector<double>& v) {
    char text[64];
    std::snprintf(text, sizeof text, " (%.0f–%.0f)", *std::min_element(v.begin(), v.end()),
                  *std::max_element(v.begin(), v.end()));
    return std::string(text);
  };
  std::printf("replay bench: %u cores\n\n", std::thread::hardware_concurrency());
  bench::print_table({{figure, bench::fmt(o, "/s") + range(ours), "COPY of the log out of PostgreSQL " +
                                                                       bench::fmt(ref, "/s") + range(reference),
                       bench::ratio(o, ref), ">= 0.5x, >= 100,000/s"}});
  return 0;
}
