#pragma once
// Events of a sandbox's SSH access (stream "sshaccess-<sandbox uuid>"): the tokens that let
// `ssh <token>@<gateway>` into the sandbox (ssh-gateway/). A token is 32 random alphanumerics,
// shown once in the answer to its grant and stored only as its SHA-256 (as API keys are). A new
// grant revokes the sandbox's earlier tokens; a token past its time is expired by an event.
#include "events/catalogue/sandbox.hpp"

namespace events {

using SshAccessId = Id<struct SshAccessIdTag>;

struct SshAccessGranted {
  static constexpr std::string_view kType = "SshAccessGranted";
  static constexpr int kVersion = 1;
  SshAccessId access_id;
  SandboxId sandbox_id;
  OrganizationId organization_id;
  std::string token_hash;  // SHA-256 of the token, hex
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;
};
BOOST_DESCRIBE_STRUCT(SshAccessGranted, (),
                      (access_id, sandbox_id, organization_id, token_hash, created_at_ms, expires_at_ms))

struct SshAccessRevoked {
  static constexpr std::string_view kType = "SshAccessRevoked";
  static constexpr int kVersion = 1;
  SshAccessId access_id;
  std::string reason;  // "revoked by the user", "replaced by a new token"
};
BOOST_DESCRIBE_STRUCT(SshAccessRevoked, (), (access_id, reason))

struct SshAccessExpired {
  static constexpr std::string_view kType = "SshAccessExpired";
  static constexpr int kVersion = 1;
  SshAccessId access_id;
};
BOOST_DESCRIBE_STRUCT(SshAccessExpired, (), (access_id))

using SshAccessEvent = std::variant<SshAccessGranted, SshAccessRevoked, SshAccessExpired>;

}  // namespace events
