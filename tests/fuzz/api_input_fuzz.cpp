// libFuzzer target for what the API reads from a client: query strings and percent-decoding,
// route patterns (the API's and the daemon's router), path text checks, the create-sandbox, labels and Socket.IO connect bodies, image names and
// preview tokens.
#include "command_service/http/router.hpp"
#include "command_service/http/sandbox_request.hpp"
#include "command_service/http/socket_io.hpp"
#include "events/deciders/validate.hpp"
#include "events/http/path.hpp"
#include "events/image_source.hpp"
#include "events/redact.hpp"
#include "events/text.hpp"
#include "events/tokens.hpp"
#include "events/url.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  if (auto query = command_service::parse_query(text)) {
    for (const auto& [name, values] : *query) {
      (void)events::text::line_problem(name);
      for (const auto& v : values) (void)events::text::multiline_problem(v);
    }
  }
  (void)events::url::decode(text);
  (void)events::url::decode(text, true);
  (void)events::url::endpoint(text);
  (void)events::http::match_path("/api/sandbox/{sandboxIdOrName}/autostop/{interval}", text);
  (void)events::http::match_path(text, "/api/sandbox/abc/autostop/5");
  (void)events::http::path_parameters(text);
  const auto id = events::SandboxId::generate();
  const auto org = events::OrganizationId::generate();
  if (auto spec = command_service::parse_create_sandbox(text, id, org, {})) {
    (void)events::validate::env(spec->env);
    (void)events::validate::labels(spec->labels);
    (void)events::validate::volumes(spec->volumes);
  }
  (void)command_service::parse_labels_body(text);
  (void)command_service::socket_io_connect_token(text);
  (void)events::images::parse(text, {"/srv/images"});
  (void)events::redacted_data("ApiKeyCreated", std::string(text));
  static const auto ring = events::tokens::KeyRing::parse("k1:0123456789abcdef0123456789abcdef").value();
  (void)events::tokens::verify_preview(ring, text, id, 8080, 0);
  (void)events::tokens::KeyRing::parse(text);
  return 0;
}
