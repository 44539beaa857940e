// The SSH gateway's pure parts: the process stream's frames (events/wire/stream.hpp), as the
// gateway and the daemon read them from sockets that hand bytes over in any pieces, and the
// failed-authentication throttle per source address.
#include "events/wire/stream.hpp"
#include "ssh_gateway/throttle.hpp"
#include "support/catch.hpp"

using namespace events::wire::stream;

TEST_CASE("stream frames: written, then read back whole whatever pieces the bytes come in") {
  const std::string big(200000, 'x');
  const std::string bytes = frame(Frame::output, "hello") + frame(Frame::error, "") + frame(Frame::input, big) +
                            frame(Frame::exit, R"({"exitCode":3})");
  for (const std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{4096}, bytes.size()}) {
    Reader reader;
    std::vector<std::pair<Frame, std::string>> got;
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
      reader.feed(std::string_view(bytes).substr(at, piece));
      while (auto f = reader.next()) got.push_back(*f);
    }
    INFO("pieces of " << piece);
    REQUIRE(got.size() == 4);
    CHECK(got[0] == std::pair<Frame, std::string>{Frame::output, "hello"});
    CHECK(got[1] == std::pair<Frame, std::string>{Frame::error, ""});
    CHECK(got[2].second == big);
    CHECK(got[3] == std::pair<Frame, std::string>{Frame::exit, R"({"exitCode":3})"});
    CHECK_FALSE(reader.failed());
  }
}

TEST_CASE("stream frames: an unknown type or a payload past the limit fails the stream") {
  Reader unknown;
  unknown.feed(std::string("\x09\x00\x00\x00\x00", 5));
  CHECK_FALSE(unknown.next());
  CHECK(unknown.failed());
  Reader huge;
  huge.feed(std::string("\x01\x00\x10\x00\x01", 5));  // 1 MiB + 1
  CHECK_FALSE(huge.next());
  CHECK(huge.failed());
  Reader limit;  // exactly the limit is a frame, once all of it is in
  limit.feed(std::string("\x01\x00\x10\x00\x00", 5));
  CHECK_FALSE(limit.next());
  CHECK_FALSE(limit.failed());
  limit.feed(std::string(kMaxPayload, 'y'));
  auto f = limit.next();
  REQUIRE(f);
  CHECK(f->second.size() == kMaxPayload);
}

TEST_CASE("ssh throttle: a source is refused after its limit of failures in a minute, others are not") {
  ssh_gateway::Throttle throttle(3);
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) {
    CHECK(throttle.allowed("198.51.100.1", t0));
    throttle.failed("198.51.100.1", t0 + std::chrono::seconds(i));
  }
  CHECK_FALSE(throttle.allowed("198.51.100.1", t0 + std::chrono::seconds(10)));
  CHECK(throttle.allowed("198.51.100.2", t0 + std::chrono::seconds(10)));
  // A minute after the first failure, one try is back.
  CHECK_FALSE(throttle.allowed("198.51.100.1", t0 + std::chrono::seconds(59)));
  CHECK(throttle.allowed("198.51.100.1", t0 + std::chrono::seconds(60)));
}
