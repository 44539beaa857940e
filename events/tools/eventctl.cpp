// eventctl: operator tool for the event store. Thin: parses arguments, calls the library.
//   eventctl migrate   --db CONN --schema DIR
//   eventctl relay     --db CONN --nats URL          (runs until SIGTERM/SIGINT)
//   eventctl create-org --db CONN --name NAME        (prints ORG_ID and API_KEY lines)
//   eventctl tail      --db CONN [--after N] [--limit N]
#include "events/api_keys.hpp"
#include "events/bus/relay.hpp"
#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/organization.hpp"
#include "events/store/pg_event_store.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <map>
#include <thread>

namespace {

std::map<std::string, std::string> parse_flags(int argc, char** argv, int from) {
  std::map<std::string, std::string> flags;
  for (int i = from; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || i + 1 >= argc) throw std::invalid_argument("bad argument: " + key);
    flags[key.substr(2)] = argv[++i];
  }
  return flags;
}

std::string need(const std::map<std::string, std::string>& flags, const std::string& key) {
  auto it = flags.find(key);
  if (it == flags.end()) throw std::invalid_argument("missing --" + key);
  return it->second;
}

int migrate(const std::map<std::string, std::string>& flags) {
  auto applied = events::apply_migrations(need(flags, "db"), need(flags, "schema"));
  if (!applied) {
    std::cerr << "migrate: " << applied.error().message << "\n";
    return 1;
  }
  std::cout << "migrations applied: " << *applied << "\n";
  return 0;
}

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

int relay(const std::map<std::string, std::string>& flags) {
  auto nats = events::bus::NatsClient::connect(need(flags, "nats"), "relay");
  if (!nats) {
    std::cerr << "relay: " << nats.error().message << "\n";
    return 1;
  }
  events::bus::Relay relay({}, need(flags, "db"), **nats);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::jthread worker([&](std::stop_token stop) { relay.run(stop); });
  spdlog::info("relay started");
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  worker.request_stop();
  worker.join();
  spdlog::info("relay stopped at position {}", relay.position());
  return 0;
}

int create_org(const std::map<std::string, std::string>& flags) {
  using namespace events;
  PgEventStore store(need(flags, "db"));
  const auto org = OrganizationId::generate();
  const auto key = generate_api_key();
  const auto stream = StreamName::of("organization", org);
  const Metadata meta{new_uuid(), new_uuid(), "", "eventctl", org.str(), ""};
  auto evolve = [](organization::State s, const OrganizationEvent& e) { return organization::evolve(std::move(s), e); };
  auto created = execute<OrganizationEvent, organization::State>(
      store, stream, meta,
      [&](const organization::State& s) -> Result<organization::Events> {
        auto first = organization::decide(organization::Create{org, need(flags, "name")}, s);
        if (!first) return first;
        auto after = s;
        for (const auto& e : *first) after = organization::evolve(std::move(after), e);
        auto second = organization::decide(
            organization::CreateApiKey{ApiKeyId::generate(), "default", sha256_hex(key), api_key_prefix(key)}, after);
        if (!second) return second;
        first->insert(first->end(), second->begin(), second->end());
        return first;
      },
      evolve);
  if (!created) {
    std::cerr << "create-org: " << created.error().message << "\n";
    return 1;
  }
  std::cout << "ORG_ID=" << org.str() << "\nAPI_KEY=" << key << "\n";
  return 0;
}

int tail(const std::map<std::string, std::string>& flags) {
  events::PgEventStore store(need(flags, "db"));
  const auto after = flags.contains("after") ? std::stoll(flags.at("after")) : 0;
  const auto limit = flags.contains("limit") ? std::stoul(flags.at("limit")) : 100;
  auto batch = store.read_all(events::GlobalPosition{after}, limit);
  if (!batch) {
    std::cerr << "tail: " << batch.error().message << "\n";
    return 1;
  }
  for (const auto& e : *batch) std::cout << e.envelope_json() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: eventctl migrate|relay|create-org|tail --db CONN ...\n";
    return 2;
  }
  try {
    const std::string command = argv[1];
    const auto flags = parse_flags(argc, argv, 2);
    if (command == "migrate") return migrate(flags);
    if (command == "relay") return relay(flags);
    if (command == "create-org") return create_org(flags);
    if (command == "tail") return tail(flags);
    std::cerr << "eventctl: unknown command '" << command << "'\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "eventctl: " << e.what() << "\n";
    return 2;
  }
}
