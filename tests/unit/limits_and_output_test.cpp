// Connection limits per source (events/conn_limits.hpp), the toolbox's bounded output
// (sandbox-daemon), and where the edge proxy sends a request (edge-proxy/classify.hpp).
#include "daemon/bounded_output.hpp"
#include "edge/classify.hpp"
#include "events/conn_limits.hpp"
#include "support/catch.hpp"

TEST_CASE("connection limits: per source and in all; a slot frees its place when dropped") {
  events::ConnectionLimits limits({2, 3});
  events::ConnectionLimits::Refusal why{};
  auto a1 = limits.admit("10.0.0.1", why);
  auto a2 = limits.admit("10.0.0.1", why);
  REQUIRE(a1);
  REQUIRE(a2);
  auto a3 = limits.admit("10.0.0.1", why);
  CHECK_FALSE(a3);
  CHECK(why == events::ConnectionLimits::Refusal::per_source);
  auto b1 = limits.admit("10.0.0.2", why);
  CHECK(b1);
  auto b2 = limits.admit("10.0.0.2", why);
  CHECK_FALSE(b2);
  CHECK(why == events::ConnectionLimits::Refusal::total);
  CHECK(limits.open() == 3);
  { auto gone = std::move(a1); }
  CHECK(limits.open() == 2);
  CHECK(limits.open_from("10.0.0.1") == 1);
  CHECK(limits.admit("10.0.0.3", why));
  events::ConnectionLimits unlimited({0, 0});
  std::vector<events::ConnectionLimits::Slot> many;
  for (int i = 0; i < 1000; ++i) many.push_back(unlimited.admit("x", why));
  CHECK(unlimited.open() == 1000);
}

TEST_CASE("bounded output: whole when it fits, head and tail with the gap said when not") {
  daemon_tb::BoundedOutput small(100);
  small.append("hello ", 6);
  small.append("world", 5);
  CHECK(small.text() == "hello world");
  CHECK_FALSE(small.truncated());

  daemon_tb::BoundedOutput out(1000);
  const std::string line = "0123456789";
  for (int i = 0; i < 100000; ++i) out.append(line.data(), line.size());  // 1 MB through a 1000-byte bound
  CHECK(out.truncated());
  CHECK(out.total() == 1000000);
  CHECK(out.dropped() == 999000);
  const auto text = out.text();
  CHECK(text.size() < 1200);
  CHECK(text.rfind("0123456789", 0) == 0);
  CHECK_THAT(text, Catch::Contains("999000 bytes of output left out"));
  CHECK(text.substr(text.size() - 10) == "0123456789");
}

TEST_CASE("proxy classification: toolbox, previews in both forms, health, the rest unknown") {
  using edge::Kind;
  const std::string id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  auto t = edge::classify("/toolbox/" + id + "/process/execute?x=1", "127.0.0.1:4000", "preview.localhost", 2280);
  CHECK(t.kind == Kind::toolbox);
  CHECK(t.sandbox == id);
  CHECK(t.port == 2280);
  CHECK(t.upstream_target == "/process/execute?x=1");
  CHECK(edge::classify("/toolbox/" + id + "/toolbox/files", "h", "preview.localhost", 2280).upstream_target == "/files");
  auto p = edge::classify("/preview/" + id + "/8080/a/b?DAYTONA_SANDBOX_AUTH_KEY=tok", "h", "preview.localhost", 2280);
  CHECK(p.kind == Kind::preview);
  CHECK(p.port == 8080);
  CHECK(p.query_token == "tok");
  CHECK(p.upstream_target == "/a/b?DAYTONA_SANDBOX_AUTH_KEY=tok");
  auto h = edge::classify("/x", "3000-" + id + ".preview.localhost:4000", "preview.localhost", 2280);
  CHECK(h.kind == Kind::preview);
  CHECK(h.port == 3000);
  // Upper-case ids are the same sandbox.
  std::string upper = id;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(edge::classify("/preview/" + upper + "/80/", "h", "preview.localhost", 2280).sandbox == id);
  CHECK(edge::classify("/health", "h", "preview.localhost", 2280).kind == Kind::health);
  for (const std::string& target : std::vector<std::string>{"/", "/toolbox/not-a-uuid/x", "/preview/" + id + "/0/", "/preview/" + id + "/65536/",
                                   "/preview/" + id + "/8080x/", "/toolbox", "", "//toolbox/" + id + "/x"}) {
    INFO(target);
    CHECK(edge::classify(target, "h", "preview.localhost", 2280).kind == Kind::unknown);
  }
  CHECK(edge::classify("/", "0-" + id + ".preview.localhost", "preview.localhost", 2280).kind == Kind::unknown);
  CHECK(edge::pair_value("a=1; daytona-preview-x-80=tok; b=2", "daytona-preview-x-80", ';') == "tok");
  CHECK(edge::preview_cookie_name(id, 8080) == "daytona-preview-" + id + "-8080");
}
