// What user text may hold (events/text.hpp), the sizes a sandbox may carry (validate.hpp), and
// what a snapshot's imageName may name (events/image_source.hpp).
#include "events/deciders/validate.hpp"
#include "events/image_source.hpp"
#include "events/text.hpp"
#include "events/url.hpp"
#include "support/catch.hpp"

using namespace events;

TEST_CASE("text: one line of UTF-8 without controls or bidirectional overrides") {
  CHECK_FALSE(text::line_problem("plain"));
  CHECK_FALSE(text::line_problem("gr\xc3\xbc\xc3\x9f dich \xe2\x9c\x93"));
  CHECK(*text::line_problem("\xff") == "is not valid UTF-8");
  CHECK(*text::line_problem(std::string("a\0b", 3)) == "contains a NUL character");
  CHECK(*text::line_problem("a\nb") == "contains a control character");
  CHECK(*text::line_problem("a\rb") == "contains a control character");
  CHECK(*text::line_problem("evil\xe2\x80\xaetxt.exe") == "contains a bidirectional override character");
  CHECK(text::line_problem("\xed\xa0\x80"));  // a UTF-16 surrogate
  CHECK(text::line_problem("\xc0\xaf"));      // an overlong '/'
  CHECK_FALSE(text::multiline_problem("a\nb\tc\r\n"));
  CHECK(text::multiline_problem(std::string("a\0", 2)));
}

TEST_CASE("validate: sandbox names, env and label sizes, each refusal naming its limit") {
  CHECK_FALSE(validate::sandbox_name("my-box_1.2"));
  for (const std::string& bad : std::vector<std::string>{"", "../../etc/passwd", "a/b", "a\r\nb", "-x", ".hidden", "with space",
                                "evil\xe2\x80\xaetxt", std::string(64, 'a')}) {
    INFO(bad);
    CHECK(validate::sandbox_name(bad));
  }
  StringMap env;
  env["BIG"] = std::string(validate::kMaxEnvValueBytes + 1, 'x');
  CHECK_THAT(validate::env(env)->message, Catch::Contains("limit is 32768 bytes per value"));
  env.clear();
  for (int i = 0; i < 3; ++i) env["V" + std::to_string(i)] = std::string(30000, 'x');
  CHECK_THAT(validate::env(env)->message, Catch::Contains("the limit is 65536 bytes"));
  env.clear();
  for (std::size_t i = 0; i <= validate::kMaxEnvVariables; ++i) env["V" + std::to_string(i)] = "x";
  CHECK_THAT(validate::env(env)->message, Catch::Contains("the limit is 256"));
  StringMap labels;
  for (std::size_t i = 0; i <= validate::kMaxLabels; ++i) labels["l" + std::to_string(i)] = "x";
  CHECK_THAT(validate::labels(labels)->message, Catch::Contains("the limit is 64"));
  CHECK(validate::labels({{"k", "a\nb"}}));
  CHECK_FALSE(validate::labels({{"team", "core"}}));
}

TEST_CASE("images: host paths only inside the allowed directories, lexically clean") {
  const std::vector<std::string> allowed{"/srv/images", "/data/imports/"};
  using images::Form;
  CHECK(images::parse("oci:/srv/images/app/oci:latest", allowed)->form == Form::oci_layout);
  CHECK(images::parse("oci:/srv/images/app/oci:latest", allowed)->tag == "latest");
  CHECK(images::parse("docker-archive:/data/imports/a.tar", allowed)->location == "/data/imports/a.tar");
  CHECK(images::parse("oci-archive:/srv/images/x.tar", allowed)->form == Form::oci_archive);
  CHECK(images::parse("/srv/images/layout", allowed)->form == Form::bare_path);
  for (const std::string& refused : std::vector<std::string>{"/etc/shadow", "docker-archive:/etc/shadow", "oci:/srv/images/../../etc:x", "/srv/imagesX/a",
        "oci:/srv/images//a", "docker-archive:relative.tar", "dir:/srv/images/a",
        "containers-storage:busybox", "docker-daemon:busybox:latest", "http://host/x", "oci:/srv/images/a:bad tag",
        "", "a b", "/srv/images/a\nb"}) {
    INFO(refused);
    CHECK_FALSE(images::parse(refused, allowed));
  }
  // With no directory allowed, no host path at all; the refusal does not depend on the file.
  CHECK_FALSE(images::parse("/srv/images/a", {}));
  auto without = [](std::string message, const std::string& name) {
    return message.erase(message.find(name), name.size());
  };
  CHECK(without(images::parse("/etc/shadow", {}).error().message, "/etc/shadow") ==
        without(images::parse("/etc/no-such-file", {}).error().message, "/etc/no-such-file"));
}

TEST_CASE("images: registries and other snapshots") {
  using images::Form;
  const auto reg = images::parse("docker://127.0.0.1:5000/app:1", {});
  CHECK(reg->form == Form::registry);
  CHECK_FALSE(reg->public_registry);
  CHECK(images::parse("python:3.12", {})->public_registry);
  CHECK(images::parse("snapshot:my-base", {})->form == Form::snapshot);
  CHECK_FALSE(images::parse("snapshot:", {}));
  CHECK(images::to_image_name(*images::parse("oci:/a/b:t", {"/a"})) == "oci:/a/b:t");
  CHECK(images::inside("/a/b", {"/a"}));
  CHECK_FALSE(images::inside("/ab", {"/a"}));
  CHECK(images::inside("/a", {"/a/"}));
}

TEST_CASE("url: percent-decoding, queries and endpoints, one way for every service") {
  CHECK(url::decode("a%20b") == "a b");
  CHECK(url::decode("a+b") == "a+b");
  CHECK(url::decode("a+b", true) == "a b");
  CHECK(url::decode("%ff") == std::string("\xff"));  // well-formed: its text check is the caller's
  CHECK_FALSE(url::decode("%zz"));
  CHECK_FALSE(url::decode("100%"));
  const auto q = url::query("labels=%7B%22a%22%3A1%7D&states=started&states=stopped&flag&x=a+b");
  REQUIRE(q);
  CHECK(q->count("states") == 2);
  CHECK(q->find("labels")->second == R"({"a":1})");
  CHECK(q->find("flag")->second.empty());
  CHECK(q->find("x")->second == "a b");
  CHECK_FALSE(url::query("a=%g1"));
  const auto e = url::endpoint("http://127.0.0.1:3000/api/");
  REQUIRE(e);
  CHECK(e->host == "127.0.0.1");
  CHECK(e->port == "3000");
  CHECK(e->path == "/api");
  CHECK(url::endpoint("nats://127.0.0.1")->port == "4222");
  for (const std::string& bad : std::vector<std::string>{"", "127.0.0.1:3000", "ftp://x/", "http://", "http://h/?q=1"}) {
    INFO(bad);
    CHECK_FALSE(url::endpoint(bad));
  }
}
