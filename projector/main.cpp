// projector: keeps the read models up to date, and rebuilds them for audit replay.
//   projector run     --db CONN [--schema read] [--nats URL]   (append hints wake it at once)
//   projector replay  --db CONN --verify [--schema read]
//   projector replay  --db CONN --as-of POSITION|TIMESTAMP --into SCHEMA
//   projector replay  --db CONN --swap [--schema read]   (rebuild from the log, put in place)
#include "events/bus/hints.hpp"
#include "projector/projector.hpp"
#include "projector/replay.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <map>
#include <thread>

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 2; i < argc; ++i) {
    const std::string key = argv[i];
    if (key.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument: " + key);
    if (key == "--verify" || key == "--swap") {
      flags[key.substr(2)] = "1";
    } else if (i + 1 < argc) {
      flags[key.substr(2)] = argv[++i];
    } else {
      throw std::invalid_argument(key + " needs a value");
    }
  }
  if (!flags.contains("db")) throw std::invalid_argument("missing --db");
  return flags;
}

int run(const std::map<std::string, std::string>& flags) {
  const auto db = flags.at("db");
  projector::Settings settings;
  if (flags.contains("schema")) settings.schema = flags.at("schema");
  const auto models = projector::all_models();
  if (auto made = projector::ensure_schema(db, settings.schema, models); !made) {
    std::cerr << "projector: " << made.error().message << "\n";
    return 1;
  }
  // With NATS, every model wakes on the append hint instead of waiting for its next poll.
  std::unique_ptr<events::bus::NatsClient> nats;
  std::unique_ptr<events::bus::HintListener> hints;
  if (flags.contains("nats")) {
    auto connected = events::bus::NatsClient::connect(flags.at("nats"), "projector");
    if (!connected) {
      std::cerr << "projector: " << connected.error().message << "\n";
      return 1;
    }
    nats = std::move(*connected);
    settings.wake = std::make_shared<events::Doorbell>();
    hints = std::make_unique<events::bus::HintListener>(*nats, settings.wake);
    if (hints->ok()) settings.idle_poll = std::chrono::milliseconds(250);
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  // One thread for all models: each batch is read once and committed once (see projector.hpp).
  projector::Projector projecting(projector::borrow(models), db, settings);
  std::jthread thread([&projecting](std::stop_token stop) { projecting.run(stop); });
  spdlog::info("projector started: {} models into schema {}", models.size(), settings.schema);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  thread.request_stop();
  thread.join();
  spdlog::info("projector stopped");
  return 0;
}

int swap(const std::string& db, const std::string& live) {
  auto result = projector::rebuild_and_swap(db, live, [](std::int64_t events, std::int64_t at) {
    std::cerr << "replay: " << events << " events applied, at position " << at << "\n";
  });
  if (!result) {
    std::cerr << "replay: " << result.error().message << "\n";
    return 2;
  }
  std::cout << "schema " << live << " rebuilt from the log and swapped in: " << result->replay.events
            << " events in " << result->replay.seconds << " s, then " << result->caught_up
            << " appended meanwhile; the live tables were locked for " << result->locked_ms << " ms ("
            << result->attempts << " attempt(s))\n";
  return 0;
}

int replay(const std::map<std::string, std::string>& flags) {
  const auto db = flags.at("db");
  if (flags.contains("verify")) {
    auto result = projector::verify(db, flags.contains("schema") ? flags.at("schema") : "read");
    if (!result) {
      std::cerr << "replay: " << result.error().message << "\n";
      return 2;
    }
    std::cout << result->summary << "\n";
    if (!result->equal) std::cout << result->diff;
    return result->equal ? 0 : 1;
  }
  if (flags.contains("swap")) return swap(db, flags.contains("schema") ? flags.at("schema") : "read");
  if (!flags.contains("as-of") || !flags.contains("into")) {
    std::cerr << "replay: give --verify, --swap, or --as-of POSITION|TIMESTAMP and --into SCHEMA\n";
    return 2;
  }
  auto position = projector::position_as_of(db, flags.at("as-of"));
  if (!position) {
    std::cerr << "replay: " << position.error().message << "\n";
    return 2;
  }
  auto result = projector::replay_into(db, flags.at("into"), *position, [&](std::int64_t events, std::int64_t at) {
    std::cerr << "replay: " << events << " events applied, at position " << at << " of " << *position << "\n";
  });
  if (!result) {
    std::cerr << "replay: " << result.error().message << "\n";
    return 2;
  }
  std::cout << "read models as of position " << *position << " are in schema " << flags.at("into") << " ("
            << result->events << " events applied in " << result->seconds << " s)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "run") return run(parse(argc, argv));
    if (command == "replay") return replay(parse(argc, argv));
    std::cerr << "usage: projector run --db CONN [--schema S] | replay --db CONN (--verify | --swap | --as-of X --into S)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "projector: " << e.what() << "\n";
    return 2;
  }
}
