#pragma once
// Placement hand-offs for sandboxes that start after the request (a cold create, a start): the
// API remembers which key asked while the sandbox was starting, and when the log has it started
// (TargetHandOffs loads it then) tells the edge proxies where it runs and that key, as it does
// right after a warm claim (events/bus/placements.hpp). The asker's first toolbox call then asks
// the API nothing. A proxy that missed the hand-off asks, as before.
#include "command_service/pg/db.hpp"
#include "events/deciders/sandbox.hpp"
#include "events/ids.hpp"
#include "events/wire/proxy.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace command_service {

class StartedPlacements {
 public:
  using Clock = std::chrono::steady_clock;
  using Publish = std::function<void(const events::wire::PlacementHandOff&)>;
  // Whether the key of `actor` ("apikey:<key id>") has been revoked since it asked.
  using Revoked = std::function<bool(const std::string& actor)>;
  struct Asker {
    std::string key_sha256;  // a key that may use the sandbox's toolbox (the one authorization function said so)
    std::string actor;
  };

  StartedPlacements(Publish publish, Revoked revoked, std::chrono::milliseconds keep = std::chrono::seconds(10));

  // A create or start of `id` answered while the sandbox was starting, asked by `asker`.
  void expect(const events::SandboxId& id, Asker asker, Clock::time_point now = Clock::now());
  // The asker of `id`, once: nullopt when none is remembered, it expired, or its key was revoked.
  std::optional<Asker> take(const events::SandboxId& id, Clock::time_point now = Clock::now());
  // The log has `st` started: if its start was expected, the proxies hear its placement and the
  // asker's key. Called on TargetHandOffs' thread, with the sandbox it just loaded.
  void started(DbContext& db, const events::sandbox::State& st);

 private:
  struct Expected {
    Asker asker;
    Clock::time_point until;
  };
  Publish publish_;
  Revoked revoked_;
  std::chrono::milliseconds keep_;
  std::mutex mutex_;
  std::unordered_map<std::string, Expected> expected_;  // sandbox id → who asked, until when
};

}  // namespace command_service
