// The webhook pieces that need no network (events/webhooks/): Standard Webhooks signatures
// (checked against the specification's published example, and by the npm standardwebhooks
// package in api_integration), Svix's retry schedule and when an endpoint is given up on, and
// which addresses a webhook may be sent to.
#include "events/webhooks/delivery_policy.hpp"
#include "events/webhooks/signing.hpp"
#include "events/webhooks/targets.hpp"
#include "support/catch.hpp"

#include <functional>
#include <map>

using namespace events::webhooks;
using boost::asio::ip::make_address;

TEST_CASE("webhooks: signatures are the Standard Webhooks v1 form") {
  // The example of the Standard Webhooks specification (secret, id, timestamp, body → signature).
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const std::int64_t ts = 1614265330;
  const std::string body = R"({"test": 2432232314})";
  auto sig = sign(secret, id, ts, body);
  REQUIRE(sig);
  CHECK(*sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  CHECK(verify(secret, id, ts, body, *sig, ts));
  CHECK_FALSE(verify(secret, id, ts, body + " ", *sig, ts));          // another body
  CHECK_FALSE(verify(secret, id, ts + 1, body, *sig, ts));            // another time
  CHECK_FALSE(verify(secret, id, ts, body, *sig, ts + 301));          // too old
  CHECK_FALSE(verify(new_secret(), id, ts, body, *sig, ts));          // another key

  // During a rotation both secrets sign; either verifies.
  const auto next = new_secret();
  auto headers = signed_headers({next, secret}, id, ts, body);
  REQUIRE(headers);
  std::map<std::string, std::string> h(headers->begin(), headers->end());
  CHECK(h.at("webhook-id") == id);
  CHECK(h.at("svix-id") == id);
  CHECK(h.at("webhook-timestamp") == "1614265330");
  CHECK(h.at("svix-signature") == h.at("webhook-signature"));
  CHECK(verify(secret, id, ts, body, h.at("webhook-signature"), ts));
  CHECK(verify(next, id, ts, body, h.at("webhook-signature"), ts));

  CHECK(new_secret().rfind("whsec_", 0) == 0);
  CHECK(new_secret() != new_secret());
  CHECK(secret_key(new_secret())->size() == 24);
  CHECK(secret_key("sk_live_abc").error().message.find("starts with whsec_") != std::string::npos);
  CHECK_FALSE(secret_key("whsec_not*base64"));
  CHECK_FALSE(secret_key("whsec_c2hvcnQ="));  // "short": too few key bytes
}

TEST_CASE("webhooks: Svix's retry schedule, compressible, and when an endpoint is disabled") {
  using namespace std::chrono;
  const auto svix = RetrySchedule::svix();
  const std::vector<seconds> expected{seconds(0), seconds(5), minutes(5), minutes(30), hours(2), hours(5), hours(10),
                                      hours(10)};
  CHECK(svix.delays == expected);
  CHECK(svix.before(0) == seconds(0));
  CHECK(svix.before(7) == hours(10));
  CHECK_FALSE(svix.before(8));  // eight attempts in all

  auto fast = RetrySchedule::parse("0,1,2");
  REQUIRE(fast);
  CHECK(fast->delays == std::vector<seconds>{seconds(0), seconds(1), seconds(2)});
  CHECK(RetrySchedule::parse("0,x").error().message.find("'x'") != std::string::npos);
  CHECK_FALSE(RetrySchedule::parse(""));
  CHECK_FALSE(RetrySchedule::parse("0,-5"));

  CHECK(outcome_of(200) == Outcome::delivered);
  CHECK(outcome_of(204) == Outcome::delivered);
  CHECK(outcome_of(301) == Outcome::failed);  // redirects are not followed
  CHECK(outcome_of(500) == Outcome::failed);
  CHECK(outcome_of(0) == Outcome::failed);    // no answer within 15 s
  CHECK(outcome_of(410) == Outcome::gone);

  const std::int64_t day = 24 * 3600 * 1000LL;
  struct Row {
    EndpointHealth before;
    Outcome outcome;
    std::int64_t now;
    EndpointHealth after;
    bool disabled;
  };
  const Row rows[] = {
      {{}, Outcome::delivered, 10, {}, false},
      {{}, Outcome::failed, 10, {10}, false},                // the first failure starts the clock
      {{10}, Outcome::failed, 10 + 4 * day, {10}, false},    // four days of failures: still on
      {{10}, Outcome::failed, 10 + 5 * day, {10}, true},     // five: disabled
      {{10}, Outcome::delivered, 10 + 4 * day, {}, false},   // a success resets it
      {{}, Outcome::gone, 10, {}, true},                     // 410 at once
  };
  for (const auto& r : rows) {
    const auto d = after_attempt(r.before, r.outcome, r.now);
    CHECK(d.after == r.after);
    CHECK(d.disable.has_value() == r.disabled);
  }
  CHECK(*after_attempt({10}, Outcome::failed, 10 + 5 * day).disable == "every attempt failed for 5 days");
}

TEST_CASE("webhooks: targets are http(s) URLs to public addresses unless the operator allows more") {
  struct Row {
    const char* address;
    AddressKind kind;
  };
  const Row rows[] = {
      {"93.184.216.34", AddressKind::public_},    {"2606:4700::1111", AddressKind::public_},
      {"127.0.0.1", AddressKind::loopback},       {"127.9.9.9", AddressKind::loopback},
      {"::1", AddressKind::loopback},             {"::ffff:127.0.0.1", AddressKind::loopback},
      {"10.1.2.3", AddressKind::private_},        {"172.20.0.1", AddressKind::private_},
      {"192.168.1.1", AddressKind::private_},     {"100.64.0.1", AddressKind::private_},
      {"fd12:3456::1", AddressKind::private_},    {"169.254.169.254", AddressKind::metadata},
      {"fd00:ec2::254", AddressKind::metadata},   {"100.100.100.200", AddressKind::metadata},
      {"169.254.1.1", AddressKind::link_local},   {"fe80::1", AddressKind::link_local},
      {"0.0.0.0", AddressKind::unspecified},      {"::", AddressKind::unspecified},
      {"224.0.0.1", AddressKind::multicast},      {"ff02::1", AddressKind::multicast},
      {"240.0.0.1", AddressKind::reserved},       {"255.255.255.255", AddressKind::reserved},
      {"192.0.2.7", AddressKind::reserved},       {"64:ff9b::7f00:1", AddressKind::reserved},
      {"::ffff:169.254.169.254", AddressKind::metadata},
  };
  for (const auto& r : rows) {
    CAPTURE(r.address);
    CHECK(classify(make_address(r.address)) == r.kind);
  }

  const TargetPolicy strict;
  const auto local = TargetPolicy::parse("loopback");
  REQUIRE(local);
  CHECK(check_address(make_address("93.184.216.34"), strict));
  CHECK_FALSE(check_address(make_address("127.0.0.1"), strict));
  CHECK(check_address(make_address("127.0.0.1"), *local));
  CHECK_FALSE(check_address(make_address("10.0.0.1"), *local));
  const auto everything = TargetPolicy::parse("loopback,private");
  REQUIRE(everything);
  CHECK(check_address(make_address("10.0.0.1"), *everything));
  // Never link-local or metadata, whatever is allowed.
  CHECK(check_address(make_address("169.254.169.254"), *everything).error().message.find("metadata") !=
        std::string::npos);
  CHECK_FALSE(check_address(make_address("fe80::1"), *everything));
  CHECK(TargetPolicy::parse("metadata").error().message.find("'metadata'") != std::string::npos);

  auto t = parse_target("https://hooks.example.com/in?team=7", strict);
  REQUIRE(t);
  CHECK(t->host == "hooks.example.com");
  CHECK(t->port == 443);
  CHECK(t->target == "/in?team=7");
  auto v6 = parse_target("http://[::1]:8080", *local);
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8080);
  CHECK(v6->target == "/");
  struct Bad {
    const char* url;
    const char* says;
  };
  const Bad bad[] = {
      {"ftp://example.com/", "http or https"},
      {"https://user:pw@example.com/", "user info"},
      {"http://127.0.0.1:9000/hook", "loopback"},
      {"http://localhost/hook", "loopback"},
      {"http://169.254.169.254/latest/meta-data", "metadata"},
      {"http://[fe80::1]/", "link-local"},
      {"http://example.com:0/", "port"},
      {"/relative", "absolute"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.url);
    auto r = parse_target(b.url, strict);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(b.says) != std::string::npos);
  }
}

#include "events/deciders/webhook.hpp"

TEST_CASE("webhooks: the endpoint decider checks what it is given and keeps the old secret a day") {
  using namespace events;
  namespace wh = events::webhook;
  WebhookEndpointCreated spec;
  spec.endpoint_id = WebhookEndpointId::generate();
  spec.organization_id = OrganizationId::generate();
  spec.url = "https://hooks.example.com/in";
  spec.secret = new_secret();
  spec.filter_types = std::vector<std::string>{"sandbox.created"};

  auto created = wh::decide(wh::Create{spec}, {});
  REQUIRE(created);
  auto s = wh::evolve({}, created->front());
  CHECK(s.secret == spec.secret);
  CHECK(wh::decide(wh::Create{spec}, s).error().code == ErrorCode::already_exists);

  struct Bad {
    std::function<void(WebhookEndpointCreated&)> change;
    const char* says;
  };
  const Bad bad[] = {
      {[](auto& c) { c.url.clear(); }, "url is required"},
      {[](auto& c) { c.filter_types = std::vector<std::string>{"SandboxStarted"}; }, "'SandboxStarted' is not a public"},
      {[](auto& c) { c.filter_types = std::vector<std::string>{}; }, "empty list"},
      {[](auto& c) { c.uid = "has space"; }, "uid may hold only"},
      {[](auto& c) { c.secret = "plain"; }, "secret: a webhook secret starts with whsec_"},
      {[](auto& c) { c.description = std::string(2000, 'x'); }, "description is longer"},
  };
  for (const auto& b : bad) {
    auto c = spec;
    b.change(c);
    auto r = wh::decide(wh::Create{c}, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::invalid_argument);
    CHECK(r.error().message.find(b.says) != std::string::npos);
  }

  // An update that changes nothing appends nothing.
  WebhookEndpointUpdated same{spec.url, spec.description, spec.filter_types, false, spec.uid, spec.metadata};
  CHECK(wh::decide(wh::Update{same}, s)->empty());

  const std::int64_t now = 1'000'000;
  const auto next = new_secret();
  auto rotated = wh::decide(wh::RotateSecret{next, now}, s);
  REQUIRE(rotated);
  s = wh::evolve(s, rotated->front());
  CHECK(wh::signing_secrets(s, now) == std::vector<std::string>{next, spec.secret});
  CHECK(wh::signing_secrets(s, now + 24 * 3600 * 1000) == std::vector<std::string>{next});

  auto disabled = wh::decide(wh::Disable{"the endpoint answered 410 Gone"}, s);
  REQUIRE(disabled);
  s = wh::evolve(s, disabled->front());
  CHECK(s.spec.disabled);
  CHECK(wh::decide(wh::Disable{"again"}, s)->empty());

  CHECK(wh::decide(wh::Recover{now + 1, std::nullopt, now}, s).error().message.find("future") != std::string::npos);
  CHECK(wh::decide(wh::Recover{now - 15LL * 24 * 3600 * 1000, std::nullopt, now}, s).error().message.find("14 days") !=
        std::string::npos);
  CHECK(wh::decide(wh::Recover{now - 1000, std::nullopt, now}, s));

  s = wh::evolve(s, wh::decide(wh::Delete{}, s)->front());
  CHECK(wh::decide(wh::Delete{}, s).error().code == ErrorCode::not_found);
  CHECK(wh::decide(wh::Update{same}, s).error().code == ErrorCode::not_found);
}
