#include "events/ids.hpp"

#include "support/catch.hpp"

#include <chrono>
#include <thread>

using namespace events;

TEST_CASE("ids: UUIDs are validated and lower-cased") {
  auto id = SandboxId::parse("3F2504E0-4F89-11D3-9A0C-0305E82C3301");
  REQUIRE(id);
  CHECK(id->str() == "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  for (const char* bad : {"", "not-a-uuid", "3f2504e0-4f89-11d3-9a0c-0305e82c330",
                          "3f2504e0x4f89-11d3-9a0c-0305e82c3301", "3f2504e0-4f89-11d3-9a0c-0305e82c330g"}) {
    auto r = SandboxId::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::invalid_argument);
  }
  CHECK(SandboxId::generate() != SandboxId::generate());
  CHECK(SandboxId::parse(SandboxId::generate().str()).has_value());
}

TEST_CASE("ids: stream names split into category and id") {
  auto id = SandboxId::generate();
  auto name = StreamName::of("sandbox", id);
  CHECK(name.category() == "sandbox");
  CHECK(name.id() == id.str());
  CHECK(StreamName::parse(name.str()).has_value());
  CHECK_FALSE(StreamName::parse("nodash").has_value());
  CHECK_FALSE(StreamName::parse("-x").has_value());
  CHECK_FALSE(StreamName::parse("Sandbox-x").has_value());
  CHECK_FALSE(StreamName::parse("sandbox-a.b").has_value());
}

TEST_CASE("ids: expected versions") {
  CHECK(ExpectedVersion::after(0) == ExpectedVersion::no_stream());
  CHECK(ExpectedVersion::after(3).raw() == 2);
  CHECK(ExpectedVersion::any().is_any());
  CHECK(ExpectedVersion::exactly(StreamVersion{5}).raw() == 5);
}

TEST_CASE("ids: generated UUIDs are version 7 and sort by creation time") {
  const auto a = new_uuid();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const auto b = new_uuid();
  CHECK(a[14] == '7');
  CHECK((b[19] == '8' || b[19] == '9' || b[19] == 'a' || b[19] == 'b'));
  CHECK(a < b);
  CHECK(parse_uuid(a).has_value());
}
