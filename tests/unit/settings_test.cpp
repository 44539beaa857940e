// Declared settings (events/settings.hpp): defaults kept when unset, values checked against their
// bounds, the wrong one named, every one listed by help().
#include "command_service/settings.hpp"
#include "events/settings.hpp"
#include "support/catch.hpp"

#include <map>

using namespace events::settings;

namespace {

Environment from(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> const char* {
    auto it = values.find(name);
    return it == values.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST_CASE("settings: defaults, bounds, the wrong one named") {
  std::string url;
  int threads = 8;
  unsigned short port = 3000;
  std::chrono::seconds ttl{60};
  std::vector<std::string> dirs;
  Declared d("svc");
  d.text("URL", url, "where", true);
  d.number("THREADS", threads, "how many", 1, 256);
  d.port("PORT", port, "which port");
  d.seconds("TTL", ttl, "how long", 1, 3600);
  d.paths("DIRS", dirs, "where from");

  CHECK(d.load(from({{"URL", "x"}})));
  CHECK(threads == 8);  // unset: the default stays
  CHECK(port == 3000);
  CHECK(d.load(from({{"URL", "x"}, {"THREADS", "4"}, {"PORT", "0"}, {"TTL", "90"}, {"DIRS", "/a:/b"}})));
  CHECK(threads == 4);
  CHECK(port == 0);
  CHECK(ttl == std::chrono::seconds(90));
  CHECK(dirs == std::vector<std::string>{"/a", "/b"});

  CHECK(d.load(from({})).error().message == "URL must be set: where");
  CHECK(d.load(from({{"URL", "x"}, {"THREADS", "0"}})).error().message ==
        "THREADS: '0' is not a whole number from 1 to 256");
  CHECK(d.load(from({{"URL", "x"}, {"THREADS", "4x"}})).error().message ==
        "THREADS: '4x' is not a whole number from 1 to 256");
  CHECK(d.load(from({{"URL", "x"}, {"PORT", "70000"}})).error().message ==
        "PORT: '70000' is not a port number (0 to 65535)");
  CHECK(d.load(from({{"URL", "x"}, {"DIRS", "/a:relative"}})).error().message ==
        "DIRS: 'relative' is not an absolute path");
  const auto help = d.help();
  for (const auto* name : {"URL", "THREADS", "PORT", "TTL", "DIRS"}) CHECK_THAT(help, Catch::Contains(name));
  CHECK_THAT(help, Catch::Contains("THREADS (default 8) [1..256]"));
}

TEST_CASE("settings: the command-service's are all declared, with their documented defaults") {
  command_service::Settings s;
  Declared d("command-service");
  command_service::declare(d, s);
  const auto help = d.help();
  for (const auto* name : {"DATABASE_URL", "NATS_URL", "API_PORT", "API_THREADS", "PROXY_URL", "ADMIN_API_KEY",
                           "PREVIEW_KEYS", "PREVIEW_TOKEN_TTL", "SNAPSHOT_IMPORT_DIRS", "SCHEDULE_WAIT_SECONDS",
                           "RATE_LIMIT_FAILED_AUTH", "API_MAX_CONNECTIONS_PER_SOURCE", "API_BODY_LIMIT"}) {
    CHECK_THAT(help, Catch::Contains(name));
  }
  CHECK(d.load(from({{"DATABASE_URL", "host=x"}, {"API_PORT", "3001"}})));
  CHECK(s.port == 3001);
  CHECK(s.threads == 8);
  CHECK(s.limits.failed_auth == 5);
  CHECK(d.load(from({{"DATABASE_URL", "host=x"}, {"RATE_LIMIT_LIFECYCLE", "-1"}})).error().message ==
        "RATE_LIMIT_LIFECYCLE: '-1' is not a whole number from 0 to 1000000");
}
