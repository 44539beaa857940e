// Placement hand-offs (events/bus/placements.hpp): what the API publishes after a warm-pool claim
// reaches the edge proxy's cache through a real NATS server, and covers exactly what it names.
// The proxy's platform client points at a port where no API listens, so anything it would have to
// ask comes back 503: a 200 can only come from a hand-off.
#include "edge/platform.hpp"
#include "events/api_keys.hpp"
#include "events/bus/placements.hpp"
#include "support/servers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include "support/catch.hpp"
#include <nats/nats.h>

#include <thread>

namespace {

using namespace events;

// Runs one of the platform client's coroutines to its end.
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> work) {
  auto done = boost::asio::co_spawn(io, std::move(work), boost::asio::use_future);
  io.restart();
  io.run();
  return done.get();
}

wire::PlacementHandOff handed(const SandboxId& id, const OrganizationId& org, SandboxState state, const std::string& key) {
  return {{id, org, state, false, RunnerId::generate(), "127.0.0.1:4100"}, key.empty() ? "" : sha256_hex(key)};
}

}  // namespace

TEST_CASE("placement hand-off: a claim's placement and key reach the proxy over NATS, and nothing more") {
  testing_support::NatsServer server;
  auto api_side = bus::NatsClient::connect(server.url(), "api-test").value();
  auto proxy_side = bus::NatsClient::connect(server.url(), "proxy-test").value();
  boost::asio::io_context io;
  edge::Platform platform(io.get_executor(), "http://127.0.0.1:1/api", "admin");  // nothing listens on port 1
  bus::PlacementListener listener(*proxy_side, [&](const wire::PlacementHandOff& h) { platform.take(h); });
  REQUIRE(listener.ok());
  REQUIRE(natsConnection_Flush(proxy_side->connection()) == NATS_OK);  // the subscription is on the server

  const auto org = OrganizationId::generate();
  const auto claimed = SandboxId::generate();
  const auto other = SandboxId::generate();
  const auto stopped = SandboxId::generate();
  // Not a hand-off: dropped, and the listener goes on.
  natsConnection_PublishString(api_side->connection(), bus::kPlacementSubject, R"({"placement": 7})");
  bus::hand_off_placement(*api_side, handed(stopped, org, SandboxState::stopped, "key-a"));
  bus::hand_off_placement(*api_side, handed(claimed, org, SandboxState::started, "key-a"));
  REQUIRE(testing_support::eventually([&] { return run(io, platform.sandbox(claimed.str())).status == 200; }, std::chrono::seconds(5)));

  const auto route = run(io, platform.sandbox(claimed.str())).route;
  CHECK(route.id == claimed.str());
  CHECK(route.organization_id == org.str());
  CHECK(route.state == "started");
  CHECK(route.runner_endpoint == "127.0.0.1:4100");
  // The claiming key, for the claimed sandbox: no question to the API.
  CHECK(run(io, platform.check_key("key-a", claimed.str(), "127.0.0.1")).status == 200);
  // Another key (another organization's, a revoked one: the proxy cannot tell), and the same key
  // for another sandbox: asked, as without a hand-off.
  CHECK(run(io, platform.check_key("key-b", claimed.str(), "127.0.0.1")).status == 503);
  CHECK(run(io, platform.check_key("key-a", other.str(), "127.0.0.1")).status == 503);
  CHECK(run(io, platform.sandbox(other.str())).status == 503);
  // A sandbox that is not started is never cached: its placement and key are asked for.
  CHECK(run(io, platform.sandbox(stopped.str())).status == 503);
  CHECK(run(io, platform.check_key("key-a", stopped.str(), "127.0.0.1")).status == 503);
  // The handed answer about the key lives as long as an asked one (500 ms): a key revoked right
  // after the claim is refused as soon as it would be without the hand-off.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  CHECK(run(io, platform.check_key("key-a", claimed.str(), "127.0.0.1")).status == 503);
}
